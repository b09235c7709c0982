"""Legacy ``/v1/complete`` bodies as Messages requests (D10, D15-D17), one table.

Each row is a legacy body and the Messages body it becomes, or the 400 message
it gets. The proxy and the middleware send what this function returns
(test_proxy and test_middleware check that the upstream receives it).
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest

from sseadapt import Dialect
from sseadapt._requests import RequestRejected, client_answer, error_body, request_json_object, json_bytes, legacy_to_messages_request, map_model, translate_answer, upstream_error_body

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
    # null is "not given": not sent as null to the Messages API.
    ("null optional fields",
     {"prompt": "\n\nHuman: Hi\n\nAssistant:", "temperature": None, "top_p": None, "top_k": None, "metadata": None, "stream": None},
     {"messages": messages(("user", "Hi"))}),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), [(body, expected) for _, body, expected in TRANSLATED], ids=[row[0] for row in TRANSLATED])
def test_a_legacy_body_becomes_this_messages_body(body: dict[str, Any], expected: dict[str, Any]) -> None:
    sent = {**BASE, **body}
    want = {"model": "claude-3-haiku", "max_tokens": sent["max_tokens_to_sample"], **expected}
    assert legacy_to_messages_request(sent) == want


REJECTED: list[tuple[Any, str]] = [
    ([], "request body must be a JSON object"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "best_of": 2}, "best_of: Extra inputs are not permitted"),
    ({**BASE, "prompt": 5}, "prompt: must be a string, not a number"),
    (BASE, "prompt: field required (a string)"),
    ({"prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": 5}, "model: field required (a non-empty string)"),
    ({**BASE, "model": "", "prompt": "\n\nHuman: Hi\n\nAssistant:"}, "model: must be a non-empty string, not an empty string"),
    ({**BASE, "model": None, "prompt": "\n\nHuman: Hi\n\nAssistant:"}, "model: must be a non-empty string, not null"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": True}, "max_tokens_to_sample: must be an integer, not a boolean"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": 5.0}, "max_tokens_to_sample: must be an integer, not a number"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": "5"}, "max_tokens_to_sample: must be an integer, not a string"),
    ({"prompt": "\n\nHuman: Hi\n\nAssistant:", "model": "m"}, "max_tokens_to_sample: field required (an integer)"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "stream": "false"}, "stream: must be a boolean, not a string"),
    ({**BASE, "prompt": "\n\nHuman: Hi\n\nAssistant:", "stream": 1}, "stream: must be a boolean, not a number"),
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


# -- answers and errors carrying lone surrogates --------------------------------------
# JSON may escape half a surrogate pair ("\ud83d"); json.loads gives a str that
# str.encode() refuses, so the proxy and the middleware answered 500 with a traceback.

_LONE = '"half \\ud83d pair"'


@pytest.mark.parametrize("dialect", list(Dialect))
def test_error_bodies_write_a_lone_surrogate_back_as_an_escape(dialect: Dialect) -> None:
    upstream = ('{"type": "error", "error": {"type": "api_error", "message": %s}}' % _LONE).encode()
    body = upstream_error_body(dialect, 500, upstream)
    assert body.decode("utf-8")  # valid UTF-8
    parsed = json.loads(body)
    message = parsed["error"]["message"]
    assert message == "half \ud83d pair"
    assert error_body(dialect, "api_error", message) == (upstream if dialect is Dialect.MESSAGES else body)


@pytest.mark.parametrize(("source", "answer"), [
    (Dialect.MESSAGES, '{"type": "message", "id": "m", "model": "m", "content": [{"type": "text", "text": %s}], "stop_reason": "end_turn"}' % _LONE),
    (Dialect.COMPLETIONS, '{"type": "completion", "id": "c", "model": "m", "completion": %s, "stop_reason": "stop_sequence"}' % _LONE),
])
def test_translated_answers_write_a_lone_surrogate_back_as_an_escape(source: Dialect, answer: str) -> None:
    for client in (Dialect.LEGACY, Dialect.COMPLETIONS):
        if source is Dialect.COMPLETIONS and client is Dialect.COMPLETIONS:
            continue
        out = json_bytes(translate_answer(json.loads(answer), source, client))
        assert b"\\ud83d" in out and json.loads(out.decode("utf-8"))["completion"] == "half \ud83d pair"


# -- request bodies with content codings ----------------------------------------------

BODY_JSON = json.dumps({"prompt": "\n\nHuman: Hi\n\nAssistant:", "model": "m"}).encode()


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "raw"),
    [
        (None, BODY_JSON),
        ("identity", BODY_JSON),
        ("gzip", gzip.compress(BODY_JSON)),
        ("X-GZIP", gzip.compress(BODY_JSON)),
        ("deflate", zlib.compress(BODY_JSON)),
        ("deflate", raw_deflate(BODY_JSON)),  # raw deflate, as some clients send it
        (" deflate , gzip ", gzip.compress(zlib.compress(BODY_JSON))),  # applied in order, undone last first
        ("gzip, identity", gzip.compress(BODY_JSON)),
    ],
)
def test_a_request_body_is_read_with_its_content_codings_undone(encoding: str | None, raw: bytes) -> None:
    assert request_json_object(raw, encoding, 1000) == json.loads(BODY_JSON)


@pytest.mark.parametrize(
    ("encoding", "raw", "status", "message"),
    [
        ("br", BODY_JSON, 415, "unsupported request content-encoding: br (sseadapt decodes gzip and deflate)"),
        ("gzip, zstd", BODY_JSON, 415, "unsupported request content-encoding: zstd (sseadapt decodes gzip and deflate)"),
        ("gzip", BODY_JSON, 400, "request body is not valid gzip data: Error -3 while decompressing data: incorrect header check"),
        ("gzip", gzip.compress(BODY_JSON)[:-12], 400, "request body is not valid gzip data: truncated"),
        ("gzip", gzip.compress(BODY_JSON) + b"xx", 400, "request body is not valid gzip data: data after the end"),
        ("deflate", b"\xff\xfe", 400, "request body is not valid deflate data: Error -3 while decompressing data: invalid block type"),
        # A small body that expands past the limit stops at the limit.
        ("gzip", gzip.compress(b" " * 5_000_000 + BODY_JSON), 413, "decoded request body exceeds 1000 bytes"),
        ("gzip", gzip.compress(b"[1]"), 400, "request body must be a JSON object"),
        (None, b"\x1f\x8b", 400, "request body is not valid JSON: 'utf-8' codec can't decode byte 0x8b in position 1: invalid start byte"),
    ],
)
def test_a_request_body_that_cannot_be_read_is_refused(encoding: str, raw: bytes, status: int, message: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        request_json_object(raw, encoding, 1000)
    assert (caught.value.status, caught.value.message) == (status, message)
    assert caught.value.error_type == ("request_too_large" if status == 413 else "invalid_request_error")


COMPLETION = {"type": "completion", "id": "c1", "completion": "Hi", "stop_reason": "stop_sequence", "model": "m", "stop": None, "log_id": "c1"}
MESSAGE = {"type": "message", "id": "m1", "model": "m", "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn", "stop_sequence": None}
LEGACY_HI = {"completion": "Hi", "stop_reason": "stop_sequence", "model": "m", "truncated": False, "stop": None, "log_id": "c1", "exception": None}


@pytest.mark.parametrize(
    ("status", "raw", "source", "client", "expected"),
    [
        (200, json.dumps(COMPLETION).encode(), Dialect.COMPLETIONS, Dialect.LEGACY, LEGACY_HI),
        (200, json.dumps(MESSAGE).encode(), Dialect.MESSAGES, Dialect.LEGACY, {**LEGACY_HI, "log_id": "m1"}),
        (529, b'{"type":"error","error":{"type":"overloaded_error","message":"busy"}}', Dialect.COMPLETIONS, Dialect.LEGACY,
         {"error": {"type": "overloaded_error", "message": "busy"}}),
        (404, b"not here", Dialect.MESSAGES, Dialect.OPENAI, {"error": {"message": "not here", "type": "api_error", "param": None, "code": None}}),
        # As sent: not an error and not 200, not JSON, not the source's shape, nothing to change, no OpenAI shape built.
        (302, b'{"error": {"type": "x", "message": "y"}}', Dialect.COMPLETIONS, Dialect.LEGACY, None),
        (200, b"<html>", Dialect.COMPLETIONS, Dialect.LEGACY, None),
        (200, b'{"data": []}', Dialect.MESSAGES, Dialect.COMPLETIONS, None),
        (200, json.dumps(COMPLETION).encode(), Dialect.COMPLETIONS, Dialect.COMPLETIONS, None),
        (200, json.dumps(MESSAGE).encode(), Dialect.MESSAGES, Dialect.OPENAI, None),
    ],
)
def test_a_whole_answer_for_a_client(status: int, raw: bytes, source: Dialect, client: Dialect, expected: dict[str, Any] | None) -> None:
    out = client_answer(status, raw, source, client)
    assert (None if out is None else json.loads(out)) == expected
