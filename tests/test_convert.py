"""Converters and the pipeline: byte-exact fixtures, properties, truncation, errors."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sseadapt import (
    SUPPORTED_CONVERSIONS,
    TRUNCATED_MESSAGE,
    CompletionResult,
    ConversionError,
    ConverterOptions,
    Dialect,
    IncompleteStream,
    LocalProtocolError,
    Pipeline,
    PipelineOptions,
    ServerSentEvent,
    UpstreamError,
    accumulate,
    aconvert,
    convert_bytes,
    convert_iter,
    decode_event,
    iter_events,
    make_converter,
)

from .helpers import FIXTURES
from .streams import PING, UNKNOWN, completions_stream, messages_stream, sse

LOG_ID = "0d4d4fb341ff83236333ad511ec59b4b822c2487ab425cf05e0b5f12a59f756a"
C9: dict[str, Any] = {"log_id_factory": lambda: LOG_ID, "clock": lambda: 1700000000}

# (input fixture, source, target, expected file, extra options)
EXACT = [
    ("v2023-06-01_messages_text-only.sse", "messages", "legacy", "expected/messages-text-only.to-legacy.sse", {}),
    ("v2023-06-01_messages_text-only.sse", "messages", "completions", "expected/messages-text-only.to-2023-06-01.sse", {}),
    ("v2023-06-01_messages_text-only.sse", "messages", "openai", "expected/messages-text-only.to-openai.sse", {"include_usage": True}),
    ("v2023-06-01_text-completion_incremental_ping.sse", "completions", "legacy", "expected/v2023-06-01-completion.to-legacy.sse", {}),
    ("v2023-06-01_messages_text-tool-use_usage.sse", "messages", "openai", "openai_chat-completion-chunks_text-tool-call_done.sse", {"include_usage": True}),
    ("v2023-06-01_text-completion_error-midstream.sse", "completions", "legacy", "legacy-2023-01-01_text-completion_error-midstream.sse", {}),
    # Identity conversions reproduce the (canonical) fixtures.
    ("legacy-2023-01-01_text-completion_cumulative_done.sse", "legacy", "legacy", "legacy-2023-01-01_text-completion_cumulative_done.sse", {}),
    ("legacy-2023-01-01_text-completion_error-midstream.sse", "legacy", "legacy", "legacy-2023-01-01_text-completion_error-midstream.sse", {}),
    ("v2023-06-01_text-completion_incremental_ping.sse", "completions", "completions", "v2023-06-01_text-completion_incremental_ping.sse", {}),
    ("v2023-06-01_text-completion_error-midstream.sse", "completions", "completions", "v2023-06-01_text-completion_error-midstream.sse", {}),
    ("v2023-06-01_messages_text-only.sse", "messages", "messages", "v2023-06-01_messages_text-only.sse", {}),
    ("v2023-06-01_messages_text-tool-use_usage.sse", "messages", "messages", "v2023-06-01_messages_text-tool-use_usage.sse", {}),
]


@pytest.mark.parametrize(("src", "source", "target", "expected", "extra"), EXACT, ids=lambda v: v if isinstance(v, str) else "")
def test_byte_exact(src: str, source: str, target: str, expected: str, extra: dict[str, Any]) -> None:
    raw = (FIXTURES / src).read_bytes()
    want = (FIXTURES / expected).read_bytes()
    for chunking in (1, 7, len(raw)):
        chunks = [raw[i : i + chunking] for i in range(0, len(raw), chunking)]
        assert b"".join(convert_iter(chunks, source, target, **C9, **extra)) == want
    # CRLF input converts the same; the CRLF option replaces every LF.
    assert convert_bytes(raw.replace(b"\n", b"\r\n"), source, target, **C9, **extra) == want
    assert convert_bytes(raw, source, target, line_ending="\r\n", **C9, **extra) == want.replace(b"\n", b"\r\n")


def test_messages_error_identity_is_compact() -> None:
    raw = (FIXTURES / "v2023-06-01_messages_error-midstream.sse").read_bytes()
    out = convert_bytes(raw, "messages", "messages")
    assert out.endswith(b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n')


def test_legacy_to_completions_d5_d19() -> None:
    raw = (FIXTURES / "legacy-2023-01-01_text-completion_cumulative_done.sse").read_bytes()
    events = list(iter_events([convert_bytes(raw, "legacy", "completions")]))
    payloads = [json.loads(e.data) for e in events]
    assert all(e.event == "completion" for e in events)
    assert "".join(p["completion"] for p in payloads) == " Hello! My name is Claude."
    first = payloads[0]
    assert list(first) == ["type", "id", "completion", "stop_reason", "model", "stop", "log_id"]  # C5 + D19
    assert first["id"] == LOG_ID
    assert payloads[-1]["completion"] == "" and payloads[-1]["stop_reason"] == "stop_sequence"
    assert payloads[-1]["stop"] == "\n\nHuman:"
    assert b"[DONE]" not in convert_bytes(raw, "legacy", "completions")


def test_legacy_error_event_to_completions_keeps_text() -> None:
    raw = (FIXTURES / "legacy-2023-01-01_text-completion_error-midstream.sse").read_bytes()
    pipeline = Pipeline("legacy", "completions")
    pipeline.receive_data(raw)
    pipeline.receive_data(b"")
    events = list(iter_events([pipeline.data_to_send()]))
    assert [e.event for e in events] == ["completion", "completion", "error"]
    assert "".join(json.loads(e.data)["completion"] for e in events[:2]) == " Hello!"
    assert json.loads(events[-1].data) == {"error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert isinstance(pipeline.error, UpstreamError)


@pytest.mark.parametrize(
    ("source", "fixture", "target", "tail"),
    [
        ("messages", "v2023-06-01_messages_error-midstream.sse", "legacy", b'"exception": "overloaded_error: Overloaded", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'),
        ("messages", "v2023-06-01_messages_error-midstream.sse", "completions", b'event: error\ndata: {"error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'),
        ("messages", "v2023-06-01_messages_error-midstream.sse", "openai", b'data: {"error":{"message":"Overloaded","type":"overloaded_error","code":null}}\n\n'),
    ],
)
def test_error_midstream_keeps_text_and_ends_with_error_shape(source: str, fixture: str, target: str, tail: bytes) -> None:
    out = convert_bytes((FIXTURES / fixture).read_bytes(), source, target, **C9)
    assert out.endswith(tail)
    assert b"[DONE]" not in out
    text = _text_of(out, target, allow_error=True)
    assert text == " Hello!"


# -- truncation (D7) at every cut point ------------------------------------------

COMPLETE_INPUTS = [
    ("legacy-2023-01-01_text-completion_cumulative_done.sse", "legacy"),
    ("v2023-06-01_text-completion_incremental_ping.sse", "completions"),
    ("v2023-06-01_messages_text-only.sse", "messages"),
    ("v2023-06-01_messages_text-tool-use_usage.sse", "messages"),
]
ERROR_SHAPE_START = {
    Dialect.LEGACY: b'data: {"completion": ',
    Dialect.COMPLETIONS: b'event: error\ndata: {"error": {"type": "api_error", ',
    Dialect.MESSAGES: b'event: error\ndata: {"type":"error","error":{"type":"api_error",',
    Dialect.OPENAI: b'data: {"error":{"message":"upstream stream ended early (no terminal event)","type":"api_error","code":null}}\n\n',
}
TERMINALS = {
    Dialect.LEGACY: b"[DONE]",
    Dialect.COMPLETIONS: b'"stop_reason": "',
    Dialect.MESSAGES: b"event: message_stop",
    Dialect.OPENAI: b"[DONE]",
}


def _targets(source: str) -> list[Dialect]:
    return [t for s, t in SUPPORTED_CONVERSIONS if s is Dialect.parse(source)]


def _cut_points(raw: bytes) -> list[int]:
    boundaries = [i + 2 for i in range(len(raw)) if raw[i : i + 2] == b"\n\n"]
    inside = list(range(0, len(raw), 13))
    return sorted(set(boundaries[:-1] + inside + [0]))


@pytest.mark.parametrize(("fixture", "source"), COMPLETE_INPUTS)
def test_every_cut_point_ends_with_error_shape_and_no_terminal(fixture: str, source: str) -> None:
    raw = (FIXTURES / fixture).read_bytes()
    for target in _targets(source):
        for cut in _cut_points(raw):
            pipeline = Pipeline(source, target, **C9)
            pipeline.receive_data(raw[:cut])
            pipeline.receive_data(b"")
            out = pipeline.data_to_send()
            assert isinstance(pipeline.error, IncompleteStream), (target, cut)
            assert TERMINALS[target] not in out, (target, cut)
            last_event = out[out.rstrip(b"\n").rfind(b"\n\n") + 2 :] if out.rstrip(b"\n").count(b"\n\n") else out
            assert last_event.startswith(ERROR_SHAPE_START[target]), (target, cut, last_event)
            assert TRUNCATED_MESSAGE.encode() in last_event


def test_broken_input_gets_error_shape() -> None:
    raw = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
    broken = raw.replace(b'"index":0,"delta":{"type":"text_delta","text":" My"}', b'"index":0,"delta":{"type":"text_delta","text":')
    pipeline = Pipeline("messages", "legacy", **C9)
    pipeline.receive_data(broken)
    pipeline.receive_data(b"")
    out = pipeline.data_to_send()
    assert b"[DONE]" not in out
    assert b'"exception": "api_error: upstream stream is invalid: ' in out
    assert _text_of(out, "legacy", allow_error=True) == " Hello!"


def test_data_after_end_and_after_error() -> None:
    pipeline = Pipeline("messages", "openai")
    pipeline.receive_data(b"event: error\ndata: {oops\n\n")
    pipeline.receive_data(b"data: more\n\n")  # ignored once failed
    out = pipeline.data_to_send()
    assert out.count(b"\n\n") == 1 and b'"error"' in out
    pipeline.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        pipeline.receive_data(b"x")


@pytest.mark.parametrize(("fixture", "source"), COMPLETE_INPUTS)
def test_converters_refuse_events_of_another_dialect(fixture: str, source: str) -> None:
    # A converter used to return b"" for an event it did not know: dropped unseen.
    raw = (FIXTURES / fixture).read_bytes()
    sses = list(iter_events([raw]))
    foreign: list[object] = [5, None, sses[0], decode_event("messages", ServerSentEvent(event="message_stop", data='{"type": "message_stop"}'))]
    foreign.append(decode_event("legacy", ServerSentEvent(data='{"completion": "x", "stop_reason": null}')))
    foreign.append(decode_event("completions", ServerSentEvent(event="completion", data='{"type": "completion", "completion": "x", "stop_reason": null}')))
    for target in _targets(source):
        expected = convert_bytes(raw, source, target, **C9)
        converter = make_converter(source, target, ConverterOptions(**C9))
        own = {type(decode_event(source, sse)) for sse in sses}
        out = b""
        for i, sse in enumerate(sses):
            for wrong in foreign:
                if type(wrong) in own:
                    continue
                with pytest.raises(LocalProtocolError, match=f"converter takes .* events, not {type(wrong).__name__}$"):
                    converter.send(wrong)  # type: ignore[arg-type]
            out += converter.send(decode_event(source, sse), sse.data)
        # Each refusal changed nothing: the output is the clean stream's, byte for byte.
        assert out == expected, target


def test_pipeline_takes_bytes_like_chunks_and_refuses_others() -> None:
    raw = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
    expected = convert_bytes(raw, "messages", "legacy", **C9)
    for size in (1, 7, 64, 4096):
        pipeline = Pipeline("messages", "legacy", **C9)
        buffer = bytearray(size)
        view = memoryview(buffer)
        for i in range(0, len(raw), size):
            piece = raw[i : i + size]
            buffer[: len(piece)] = piece
            pipeline.receive_data(view[: len(piece)])  # type: ignore[arg-type]  # a reader reusing its buffer
        buffer[:] = b"X" * size
        pipeline.receive_data(bytearray())  # type: ignore[arg-type]  # empty: the end, as b""
        assert pipeline.data_to_send() == expected, size
        assert pipeline.complete
    for chunk in ("data: x\n\n", "", 3, None):
        pipeline = Pipeline("messages", "legacy", **C9)
        pipeline.receive_data(raw[:50])
        with pytest.raises(LocalProtocolError, match=rf"^Pipeline.receive_data\(\) takes bytes, not {type(chunk).__name__}"):
            pipeline.receive_data(chunk)  # type: ignore[arg-type]
        # Refused before anything changed: an empty str did not end the input.
        assert not pipeline.ended and pipeline.error is None
        pipeline.receive_data(raw[50:])
        pipeline.receive_data(b"")
        assert pipeline.data_to_send() == expected


# -- options ----------------------------------------------------------------------


def test_ping_and_unknown_policies() -> None:
    raw = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
    with_unknown = raw.replace(b"event: ping", b"event: brand_new\ndata: {}\n\nevent: ping", 1)
    assert b"event: ping" not in convert_bytes(with_unknown, "messages", "legacy")
    assert convert_bytes(with_unknown, "messages", "legacy", ping="keep").count(b'event: ping\ndata: {"type": "ping"}\n\ndata: ') == 1
    assert b"brand_new" in convert_bytes(with_unknown, "messages", "completions")
    assert b"brand_new" in convert_bytes(with_unknown, "messages", "messages")
    assert b"brand_new" not in convert_bytes(with_unknown, "messages", "completions", unknown="drop")
    pipeline = Pipeline("messages", "legacy", unknown="raise")
    pipeline.receive_data(with_unknown)
    assert isinstance(pipeline.error, ConversionError)
    assert b"[DONE]" not in pipeline.data_to_send()
    with pytest.raises(ValueError, match="data-only"):
        Pipeline("messages", "openai", unknown="pass")
    with pytest.raises(ValueError, match="pings"):
        Pipeline("messages", "openai", ping="keep")


def test_non_text_policy() -> None:
    raw = (FIXTURES / "v2023-06-01_messages_text-tool-use_usage.sse").read_bytes()
    assert _text_of(convert_bytes(raw, "messages", "completions"), "completions") == " Hello! My name is Claude."
    pipeline = Pipeline("messages", "completions", non_text="raise")
    pipeline.receive_data(raw)
    assert isinstance(pipeline.error, ConversionError)
    assert pipeline.data_to_send().endswith(b'"type": "api_error", "message": "conversion refused: \'tool_use\' block has no completions-2023-06-01 form"}}\n\n')


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include_usage": "no"}, "include_usage must be a bool, not str"),  # a truthy string included usage
        ({"include_usage": 1}, "include_usage must be a bool, not int"),
        ({"clock": 5}, "clock must be callable, not int"),  # a TypeError out of receive_data, mid-stream
        ({"log_id_factory": "abc"}, "log_id_factory must be callable, not str"),
    ],
)
def test_options_of_the_wrong_type_are_refused_at_construction(options: dict[str, Any], message: str) -> None:
    for target in ("openai", "legacy"):
        with pytest.raises(TypeError) as caught:
            Pipeline("messages", target, **options)
        assert str(caught.value) == message


def test_what_an_injected_clock_or_log_id_factory_returns_is_checked() -> None:
    # Before: "created":"x" in every OpenAI chunk, and "log_id": 5 in legacy events.
    raw = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
    with pytest.raises(TypeError, match=r"^clock\(\) must return an int, not str$"):
        convert_bytes(raw, "messages", "openai", clock=lambda: "x")  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"^clock\(\) must return an int, not bool$"):
        convert_bytes(raw, "messages", "openai", clock=lambda: True)
    legacy = (FIXTURES / "v2023-06-01_text-completion_incremental_ping.sse").read_bytes()
    with pytest.raises(TypeError, match=r"^log_id_factory\(\) must return a str, not int$"):
        convert_bytes(legacy, "completions", "legacy", log_id_factory=lambda: 5)  # type: ignore[arg-type,return-value]
    assert b'"log_id": "L"' in convert_bytes(legacy, "completions", "legacy", log_id_factory=lambda: "L")


def test_unsupported_pair() -> None:
    with pytest.raises(ValueError, match="no converter from completions-2023-06-01 to messages"):
        Pipeline("completions", "messages")


def test_stop_reason_mappings() -> None:
    from sseadapt import completion_stop_reason, openai_finish_reason

    table = {
        "end_turn": ("stop_sequence", "stop"),
        "stop_sequence": ("stop_sequence", "stop"),
        "max_tokens": ("max_tokens", "length"),
        "model_context_window_exceeded": ("max_tokens", "length"),
        "tool_use": ("stop_sequence", "tool_calls"),
        "refusal": ("stop_sequence", "content_filter"),
        "pause_turn": ("stop_sequence", "stop"),
        "future_reason": ("stop_sequence", "stop"),
    }
    for reason, (completion, finish) in table.items():
        assert (completion_stop_reason(reason), openai_finish_reason(reason)) == (completion, finish)


def test_lone_surrogate_escapes_stay_valid_utf8() -> None:
    # JSON input may escape half of a surrogate pair per event.
    events = [
        sse("completion", '{"type": "completion", "completion": "\\ud83d", "stop_reason": null, "model": "m"}'),
        sse("completion", '{"type": "completion", "completion": "\\udc4b", "stop_reason": null, "model": "m"}'),
        sse("completion", '{"type": "completion", "completion": "", "stop_reason": "stop_sequence", "model": "m"}'),
    ]
    out = convert_bytes(b"".join(events), "completions", "legacy", **C9)
    out.decode("utf-8")  # valid UTF-8
    final = json.loads(list(iter_events([out]))[-2].data)
    # The escaped halves meet again in the cumulative text and decode as one character.
    assert final["completion"] == "👋"


# -- properties ---------------------------------------------------------------------


def _text_of(out: bytes, target: str, *, allow_error: bool = False) -> str:
    """Reassemble the text of converted output the way a consumer would."""
    dialect = Dialect.parse(target)
    text = ""
    for event in iter_events([out]):
        if event.event == "ping" or event.data == "[DONE]":
            continue
        payload = json.loads(event.data)
        if dialect is Dialect.LEGACY:
            text = payload["completion"]
        elif dialect is Dialect.COMPLETIONS:
            if event.event == "completion":
                text += payload["completion"]
        elif dialect is Dialect.OPENAI:
            if "error" in payload:
                assert allow_error
                continue
            for choice in payload["choices"]:
                text += choice["delta"].get("content") or ""
    return text


@given(completions_stream(legacy=False), st.sampled_from([1, 5, 10**6]))
@settings(max_examples=150, deadline=None)
def test_completions_to_legacy_and_back_preserves_text(sample: tuple[list[bytes], tuple[str, str, str]], size: int) -> None:
    events, (text, stop_reason, model) = sample
    wire = b"".join(events)
    legacy = b"".join(convert_iter([wire[i : i + size] for i in range(0, len(wire), size)], "completions", "legacy"))
    assert legacy.endswith(b"data: [DONE]\n\n")
    back = convert_bytes(legacy, "legacy", "completions")
    result = accumulate("completions", [back])
    assert isinstance(result, CompletionResult)
    assert (result.completion, result.stop_reason, result.model) == (text, stop_reason, model)
    legacy_result = accumulate("legacy", [legacy])
    assert isinstance(legacy_result, CompletionResult)
    assert legacy_result.completion == text


@given(messages_stream())
@settings(max_examples=150, deadline=None)
def test_messages_to_completions_concatenates_text_blocks(sample: tuple[list[bytes], dict[str, Any]]) -> None:
    events, final = sample
    expected = "".join(b["text"] for b in final["content"] if b["type"] == "text")
    wire = b"".join(events)
    for target in ("completions", "legacy"):
        out = convert_bytes(wire, "messages", target)
        result = accumulate(target, [out])
        assert isinstance(result, CompletionResult)
        assert result.completion == expected
        assert result.model == final["model"]
        assert result.stop_reason == ("max_tokens" if final["stop_reason"] in ("max_tokens", "model_context_window_exceeded") else "stop_sequence")


@pytest.mark.parametrize(
    ("output_tokens", "completion_tokens"),
    [(b"7", 7), (b"true", 0), (b"false", 0), (b'"54"', 0), (b"1.5", 0), (b"NaN", 0), (b"1e400", 0), (b"null", 2), (b"{}", 0)],
)
def test_openai_usage_counts_only_integer_token_counts(output_tokens: bytes, completion_tokens: int) -> None:
    # `true` went out as "completion_tokens": true with a total one higher (bool is an int);
    # other non-integers count 0, and null keeps message_start's count (2 in the fixture).
    raw = (FIXTURES / "v2023-06-01_messages_text-tool-use_usage.sse").read_bytes()
    wire = raw.replace(b'"usage":{"output_tokens":54}', b'"usage":{"output_tokens":' + output_tokens + b"}")
    assert wire != raw
    out = convert_bytes(wire, "messages", "openai", include_usage=True)
    usage = json.loads([e.data for e in iter_events([out])][-2])["usage"]
    assert usage == {"prompt_tokens": 472, "completion_tokens": completion_tokens, "total_tokens": 472 + completion_tokens}
    assert type(usage["completion_tokens"]) is int


@given(messages_stream())
@settings(max_examples=150, deadline=None)
def test_messages_to_openai_reassembles_text_and_tool_arguments(sample: tuple[list[bytes], dict[str, Any]]) -> None:
    events, final = sample
    out = convert_bytes(b"".join(events), "messages", "openai", include_usage=True)
    assert out.endswith(b"data: [DONE]\n\n")
    text = ""
    calls: dict[int, dict[str, str]] = {}
    usage = None
    for event in iter_events([out]):
        assert event.event == "message"
        if event.data == "[DONE]":
            continue
        chunk = json.loads(event.data)
        assert chunk["object"] == "chat.completion.chunk" and chunk["id"] == final["id"]
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk["choices"]:
            text += choice["delta"].get("content") or ""
            for call in choice["delta"].get("tool_calls", []):
                entry = calls.setdefault(call["index"], {"id": "", "arguments": ""})
                entry["id"] = call.get("id") or entry["id"]
                entry["arguments"] += call["function"].get("arguments", "")
    assert text == "".join(b["text"] for b in final["content"] if b["type"] == "text")
    tools = [b for b in final["content"] if b["type"] == "tool_use"]
    assert [(c["id"], json.loads(c["arguments"] or "{}")) for _, c in sorted(calls.items())] == [(b["id"], b["input"]) for b in tools]
    assert usage == {
        "prompt_tokens": final["usage"]["input_tokens"],
        "completion_tokens": final["usage"]["output_tokens"],
        "total_tokens": final["usage"]["input_tokens"] + final["usage"]["output_tokens"],
    }


@given(messages_stream(), st.sampled_from(list(Dialect)[:3] + [Dialect.OPENAI]))
@settings(max_examples=100, deadline=None)
def test_output_is_well_formed_for_its_clients(sample: tuple[list[bytes], dict[str, Any]], target: Dialect) -> None:
    # Spec §1.2: one data line per event, no comments/id/retry, no bare CR, valid UTF-8.
    out = convert_bytes(b"".join(sample[0]), "messages", target)
    out.decode("utf-8")
    assert b"\r" not in out and not out.startswith(b"\n") and out.endswith(b"\n\n")
    for block in out[:-2].split(b"\n\n"):
        lines = block.split(b"\n")
        assert [line for line in lines if line.startswith(b"data: ")] == [lines[-1]]
        assert all(line.startswith((b"event: ", b"data: ")) for line in lines)


# -- the three pipeline forms -------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_aconvert_on_both_backends_and_closes_source(anyio_backend: str) -> None:
    raw = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
    closed: list[bool] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            for i in range(0, len(raw), 50):
                yield raw[i : i + 50]
        finally:
            closed.append(True)

    out = b"".join([chunk async for chunk in aconvert(source(), "messages", "openai", include_usage=True, **C9)])
    assert out == (FIXTURES / "expected/messages-text-only.to-openai.sse").read_bytes()
    assert closed == [True]

    closed.clear()
    agen = aconvert(source(), "messages", "legacy")
    first = await agen.__anext__()
    await agen.aclose()  # type: ignore[attr-defined]
    assert first.startswith(b"data: ") and closed == [True]


def test_output_is_incremental() -> None:
    raw = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
    pipeline = Pipeline("messages", "legacy", **C9)
    outputs = []
    for block in raw.split(b"\n\n")[:-1]:
        pipeline.receive_data(block + b"\n\n")
        outputs.append(pipeline.data_to_send())
    # One legacy event per text delta, as each arrives.
    assert [o.count(b"data: ") for o in outputs] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 2]


def test_unknown_event_passthrough_is_untouched() -> None:
    data = '{"type":"brand_new",   "payload":{"b":1,"a":2}}'
    raw = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
    raw = raw.replace(b"event: ping", f"event: brand_new\ndata: {data}\n\nevent: ping".encode(), 1)
    events = list(iter_events([convert_bytes(raw, "messages", "messages")]))
    assert ServerSentEvent(event="brand_new", data=data) in events
    assert PING and UNKNOWN  # shared helpers stay importable


def test_identity_reemits_the_data_as_received() -> None:
    # Validated, then written back in the input's own spelling (spacing,
    # escapes, number formats), under the canonical event name.
    wire = (
        b'event: completion\ndata: {"type": "completion", "completion": "caf\\u00e9 1.0e2", "stop_reason": null, "model": "m"}\n\n'
        b'data: {"type":"completion","completion":"","stop_reason":"stop_sequence","model":"m"}\n\n'
    )
    out = convert_bytes(wire, "completions", "completions")
    assert out == (
        b'event: completion\ndata: {"type": "completion", "completion": "caf\\u00e9 1.0e2", "stop_reason": null, "model": "m"}\n\n'
        b'event: completion\ndata: {"type":"completion","completion":"","stop_reason":"stop_sequence","model":"m"}\n\n'
    )


def test_identity_rewrites_multiline_data_on_one_line() -> None:
    # Data split over several data: lines is one JSON text with newlines in
    # it; it cannot be written back on one line as is, so it is re-serialised.
    wire = (
        b'event: message_start\ndata: {"type": "message_start",\ndata:  "message": {"id": "m", "content": [], "usage": {}}}\n\n'
        b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
    )
    out = convert_bytes(wire, "messages", "messages")
    assert out == (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","content":[],"usage":{}}}\n\n'
        b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
    )
    assert list(iter_events([out]))[0].json()["message"]["id"] == "m"


def test_pipeline_options_name_every_keyword_of_pipeline() -> None:
    keywords = [p.name for p in inspect.signature(Pipeline).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert sorted(keywords) == sorted(PipelineOptions.__optional_keys__) and not PipelineOptions.__required_keys__


@pytest.mark.parametrize(("options", "error"), [({"pingg": "drop"}, TypeError), ({"ping": "sometimes"}, ValueError), ({"line_ending": "\r"}, ValueError)])
def test_convert_iter_and_aconvert_refuse_bad_options_at_the_call(options: dict[str, Any], error: type[Exception]) -> None:
    # Not at the first next(): a generator made with a typo would fail far from the call.
    with pytest.raises(error):
        convert_iter([b""], "messages", "legacy", **options)
    with pytest.raises(error):
        aconvert(_never(), "messages", "legacy", **options)


def test_aconvert_refuses_chunks_that_are_not_async_at_the_call() -> None:
    # A list gave "'async for' requires an object with __aiter__ method" at the first anext.
    with pytest.raises(TypeError, match=r"^aconvert\(\) takes an async iterable of byte chunks, not list \(for a sync one, use convert_iter\(\)\)$"):
        aconvert([b"data: x\n\n"], "messages", "legacy")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^aconvert\(\) takes an async iterable of byte chunks, not int$"):
        aconvert(5, "messages", "legacy")  # type: ignore[arg-type]


async def _never() -> AsyncIterator[bytes]:
    raise AssertionError("not read")
    yield b""  # pragma: no cover
