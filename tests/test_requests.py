"""Legacy ``/v1/complete`` bodies as Messages requests (D10, D15-D17), one table.

Each row is a legacy body and the Messages body it becomes, or the 400 message
it gets. The proxy and the middleware send what this function returns
(test_proxy and test_middleware check that the upstream receives it).
"""

from __future__ import annotations

from typing import Any

import pytest

from sseadapt._requests import RequestRejected, legacy_to_messages_request, map_model

BASE = {"model": "claude-3-haiku", "max_tokens_to_sample": 100}


def messages(*turns: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "content": text} for role, text in turns]


TRANSLATED: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("one turn", {"prompt": "\n\nHuman: Hello\n\nAssistant:"}, {"messages": messages(("user", "Hello"))}),
    # D10: text before the first Human turn is the system prompt (stripped).
    ("system prompt", {"prompt": "  You are terse.\n\nHuman: Hi\n\nAssistant:"},
     {"system": "You are terse.", "messages": messages(("user", "Hi"))}),
    ("blank system text is none", {"prompt": " \n \n\nHuman: Hi\n\nAssistant:"}, {"messages": messages(("user", "Hi"))}),
    ("alternating turns", {"prompt": "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant:"},
     {"messages": messages(("user", "a"), ("assistant", "b"), ("user", "c"))}),
    # D10: text after the final Assistant turn is a prefill; D16: its trailing whitespace goes.
    ("prefill", {"prompt": "\n\nHuman: Hi\n\nAssistant: Sure, \n "},
     {"messages": messages(("user", "Hi"), ("assistant", "Sure,"))}),
    ("whitespace after the final turn is no prefill", {"prompt": "\n\nHuman: Hi\n\nAssistant:  \n"},
     {"messages": messages(("user", "Hi"))}),
    # D16: the one space after the marker is dropped, and only one.
    ("no space after the marker", {"prompt": "\n\nHuman:Hi\n\nAssistant:"}, {"messages": messages(("user", "Hi"))}),
    ("two spaces after the marker", {"prompt": "\n\nHuman:  Hi\n\nAssistant:"}, {"messages": messages(("user", " Hi"))}),
    ("inner newlines kept", {"prompt": "\n\nHuman: line 1\nline 2\n\nmore\n\nAssistant:"},
     {"messages": messages(("user", "line 1\nline 2\n\nmore"))}),
    ("a colon-less 'Human' is text", {"prompt": "\n\nHuman: ask\n\nHumanity\n\nAssistant:"},
     {"messages": messages(("user", "ask\n\nHumanity"))}),
    # D10: stop sequences pass through without "\n\nHuman:".
    ("stop sequences", {"prompt": "\n\nHuman: Hi\n\nAssistant:", "stop_sequences": ["\n\nHuman:", "END"]},
     {"messages": messages(("user", "Hi")), "stop_sequences": ["END"]}),
    ("only the Human stop sequence", {"prompt": "\n\nHuman: Hi\n\nAssistant:", "stop_sequences": ["\n\nHuman:"]},
     {"messages": messages(("user", "Hi"))}),
    # D10: sampling fields, metadata and stream pass through; D17: tags are dropped, max_tokens not clamped.
    ("passed-through fields",
     {"prompt": "\n\nHuman: Hi\n\nAssistant:", "temperature": 0.5, "top_p": 0.9, "top_k": 5, "metadata": {"user_id": "u"},
      "stream": True, "tags": {"team": "x"}, "max_tokens_to_sample": 0},
     {"messages": messages(("user", "Hi")), "temperature": 0.5, "top_p": 0.9, "top_k": 5, "metadata": {"user_id": "u"},
      "stream": True, "max_tokens": 0}),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), [(body, expected) for _, body, expected in TRANSLATED], ids=[row[0] for row in TRANSLATED])
def test_a_legacy_body_becomes_this_messages_body(body: dict[str, Any], expected: dict[str, Any]) -> None:
    sent = {**BASE, **body}
    want = {"model": "claude-3-haiku", "max_tokens": sent["max_tokens_to_sample"], **expected}
    assert legacy_to_messages_request(sent) == want


REJECTED: list[tuple[Any, str]] = [
    ([], "request body must be a JSON object"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "best_of": 2}, "best_of: Extra inputs are not permitted"),
    ({**BASE, "prompt": 5}, "prompt: field required (a string)"),
    ({"prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": 5}, "model: field required (a string)"),
    ({**BASE, "model": "", "prompt": "\n\nHuman: Hi\n\nAssistant:"}, "model: field required (a string)"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": True}, "max_tokens_to_sample: field required (an integer)"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": 5.0}, "max_tokens_to_sample: field required (an integer)"),
    ({**BASE, "prompt": "Human: Hi\n\nAssistant:"}, 'prompt must contain "\\n\\nHuman:" turns'),
    ({**BASE, "prompt": "\n\nHuman: Hi"}, 'prompt must end with an "\\n\\nAssistant:" turn'),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant: ok\n\nHuman: more"}, 'prompt must end with an "\\n\\nAssistant:" turn'),
    # An Assistant turn before the first Human turn is no system prompt.
    ({**BASE, "prompt": "Be terse.\n\nAssistant: ok\n\nHuman: Hi\n\nAssistant:"}, 'prompt must start with a "\\n\\nHuman:" turn'),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "stop_sequences": "END"}, "stop_sequences: must be a list of strings"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "stop_sequences": ["END", 5]}, "stop_sequences: must be a list of strings"),
]


@pytest.mark.parametrize(("body", "message"), REJECTED)
def test_a_body_that_is_no_legacy_request_is_refused_with_400(body: Any, message: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        legacy_to_messages_request(body)
    assert (caught.value.status, caught.value.error_type) == (400, "invalid_request_error")
    assert caught.value.message.startswith(message), caught.value.message


@pytest.mark.parametrize(
    ("requested", "sent"),
    [
        ("claude-2", "mapped-2"),  # in the map: mapped, even though it is an alias
        ("claude-v1", "default"),  # aliases not in the map: the default model
        ("claude-v1.3", "default"),
        ("claude-instant-v1", "default"),
        ("claude-1.2", "default"),
        ("claude-2.1", "default"),
        ("claude-3-haiku", "claude-3-haiku"),  # anything else: as is
        ("my-model", "renamed"),
    ],
)
def test_models_are_mapped_then_aliases_defaulted_d15(requested: str, sent: str) -> None:
    model_map = {"claude-2": "mapped-2", "my-model": "renamed"}
    assert map_model(requested, default_model="default", model_map=model_map) == sent
    body = {**BASE, "model": requested, "prompt": "\n\nHuman: Hi\n\nAssistant:"}
    assert legacy_to_messages_request(body, default_model="default", model_map=model_map)["model"] == sent


def test_without_a_default_model_aliases_go_as_they_are() -> None:
    assert map_model("claude-v1", default_model=None, model_map={}) == "claude-v1"
