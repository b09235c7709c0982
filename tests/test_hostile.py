"""Hostile input: nothing an upstream sends can inject lines or events into the output,
and JSON nested past MAX_JSON_DEPTH is refused with a typed error, never RecursionError."""

from __future__ import annotations

import collections
import gzip
import json
import zlib
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sseadapt import (
    MAX_JSON_DEPTH,
    SUPPORTED_CONVERSIONS,
    ContentBlockStart,
    ConversionError,
    Dialect,
    EventTooLarge,
    InvalidPayload,
    LocalProtocolError,
    MessageAccumulator,
    Pipeline,
    ServerSentEvent,
    SSEAdaptError,
    StreamReader,
    UnknownEvent,
    accumulate,
    convert_bytes,
    decode_event,
    iter_events,
    make_converter,
)
from sseadapt import _events as events
from sseadapt._events import json_from_wire
from sseadapt._requests import (
    RequestRejected,
    UntranslatableAnswer,
    client_answer,
    legacy_to_messages_request,
    request_json_object,
    translate_answer,
    upstream_error_body,
)

from .helpers import FIXTURES
from .streams import sse
from .test_machines import ERROR_FIXTURES, INPUT_FIXTURES

INJECTION = "\r\n\r\nevent: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\ndata: [DONE]\n\n\x00\u2028\u0085"


def messages_with_text(text: str, *, name_suffix: str = "") -> bytes:
    return b"".join(
        [
            sse("message_start", {"type": "message_start", "message": {"id": "msg_x", "content": [], "model": "m", "usage": {"input_tokens": 1, "output_tokens": 1}}}),
            sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
            sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
            sse("message_stop", {"type": "message_stop"}),
        ]
    )


@pytest.mark.parametrize("target", [t for s, t in SUPPORTED_CONVERSIONS if s is Dialect.MESSAGES])
def test_text_cannot_inject_events(target: Dialect) -> None:
    out = convert_bytes(messages_with_text(INJECTION), "messages", target)
    events = list(iter_events([out]))
    # Exactly the events the conversion writes for one text delta, no more.
    expected = {Dialect.MESSAGES: 6, Dialect.COMPLETIONS: 2, Dialect.LEGACY: 3, Dialect.OPENAI: 4}[target]
    assert len(events) == expected
    texts = json.dumps([e.data for e in events])
    assert "message_stop" in texts or target is not Dialect.MESSAGES
    payloads = [json.loads(e.data) for e in events if e.data != "[DONE]"]
    if target is Dialect.LEGACY:
        assert payloads[-1]["completion"] == INJECTION
    if target is Dialect.COMPLETIONS:
        assert payloads[0]["completion"] == INJECTION


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_text_round_trips_without_extra_events(text: str) -> None:
    for target in (Dialect.LEGACY, Dialect.OPENAI, Dialect.COMPLETIONS):
        out = convert_bytes(messages_with_text(text), "messages", target)
        out.decode("utf-8")
        events = list(iter_events([out]))
        # One text delta: a completion event (none if empty) and the terminal events.
        assert len(events) == {Dialect.COMPLETIONS: 2, Dialect.LEGACY: 3, Dialect.OPENAI: 4}[target] - (0 if text else 1)


def test_upstream_id_and_retry_lines_never_reach_the_output() -> None:
    raw = messages_with_text("hi").replace(b"event: message_start\n", b"id: 1\rretry: 5\nevent: message_start\n: comment\n")
    for target in (Dialect.LEGACY, Dialect.OPENAI, Dialect.COMPLETIONS, Dialect.MESSAGES):
        out = convert_bytes(raw, "messages", target)
        assert b"id:" not in out and b"retry" not in out and b": comment" not in out


def test_unknown_event_passthrough_keeps_data_lines_apart() -> None:
    raw = messages_with_text("hi").replace(b"event: content_block_stop", b"event: x-new\ndata: a\ndata: event: message_stop\n\nevent: content_block_stop", 1)
    out = convert_bytes(raw, "messages", "messages")
    events = list(iter_events([out]))
    assert [e for e in events if e.event == "x-new"][0].data == "a\nevent: message_stop"
    assert [e.event for e in events].count("message_stop") == 1


@pytest.mark.parametrize("event", [UnknownEvent(event="a\r\nevent: b", data=""), UnknownEvent(event="x", data="a\rb"), UnknownEvent(event="", data="")])
def test_hand_built_unknown_events_cannot_inject(event: UnknownEvent) -> None:
    converter = make_converter("messages", "messages")
    with pytest.raises(ConversionError, match="injecting"):
        converter.send(event)


def test_oversized_upstream_event_ends_with_error_shape() -> None:
    raw = messages_with_text("x" * 5000)
    pipeline = Pipeline("messages", "legacy", max_event_size=1000)
    pipeline.receive_data(raw)
    pipeline.receive_data(b"")
    out = pipeline.data_to_send()
    assert isinstance(pipeline.error, EventTooLarge)
    assert b"[DONE]" not in out
    assert json.loads(list(iter_events([out]))[-1].data)["exception"].startswith("api_error: upstream stream is invalid: SSE event larger than max_event_size=1000")



# -- JSON nesting (MAX_JSON_DEPTH) ------------------------------------------------


def _nested(levels: int) -> bytes:
    """JSON arrays nested ``levels`` deep."""
    return b"[" * levels + b"]" * levels


def _stream_with_nested(source: Dialect, levels: int, *, padded: bool = False) -> bytes:
    """A complete ``source`` stream whose first text event also has ``"x": <levels-deep arrays>``,
    so that event's JSON nests ``levels + 1`` deep; ``padded`` adds spaces after its JSON."""
    if source is Dialect.MESSAGES:
        raw = messages_with_text("hi").replace(b'"text":"hi"}}', b'"text":"hi"},"x":"@X@"}', 1)
    elif source is Dialect.COMPLETIONS:
        event: dict[str, Any] = {"type": "completion", "completion": " hi", "stop_reason": None, "model": "m"}
        raw = sse("completion", {**event, "x": "@X@"}) + sse("completion", {**event, "completion": "", "stop_reason": "stop_sequence"})
    else:
        event = {"completion": " hi", "stop_reason": None, "model": "m", "truncated": False, "stop": None, "log_id": "l", "exception": None}
        raw = sse(None, {**event, "x": "@X@"}) + sse(None, {**event, "stop_reason": "stop_sequence"}) + b"data: [DONE]\n\n"
    assert raw.count(b'"@X@"}\n') == 1
    return raw.replace(b'"@X@"}\n', _nested(levels) + (b"}  \n" if padded else b"}\n"))


CONVERSIONS = [pytest.param(s, t, id=f"{s.value}->{t.value}") for s, t in SUPPORTED_CONVERSIONS]


@pytest.mark.parametrize("padded", [False, True], ids=["bare", "padded"])
@pytest.mark.parametrize(("source", "target"), CONVERSIONS)
def test_json_nested_to_the_limit_converts(source: Dialect, target: Dialect, padded: bool) -> None:
    pipeline = Pipeline(source, target)
    pipeline.receive_data(_stream_with_nested(source, MAX_JSON_DEPTH - 1, padded=padded))
    pipeline.receive_data(b"")
    out = pipeline.data_to_send()
    assert pipeline.error is None and pipeline.complete, pipeline.error
    assert b"nested deeper" not in out


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH, 5_000, 100_000])
@pytest.mark.parametrize("padded", [False, True], ids=["bare", "padded"])
@pytest.mark.parametrize(("source", "target"), CONVERSIONS)
def test_json_nested_past_the_limit_is_invalid_payload(source: Dialect, target: Dialect, padded: bool, levels: int) -> None:
    # levels + 1 deep: one past the limit, deeper than json.loads can go
    # (RecursionError), far deeper. Never an exception out of the pipeline:
    # the stream ends with the target's error shape, the text before kept.
    pipeline = Pipeline(source, target)
    pipeline.receive_data(_stream_with_nested(source, levels, padded=padded))
    pipeline.receive_data(b"")
    out = pipeline.data_to_send()
    assert isinstance(pipeline.error, InvalidPayload) and not pipeline.complete
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in str(pipeline.error)
    assert f"nested deeper than {MAX_JSON_DEPTH} levels".encode() in out
    assert b"[DONE]" not in out


def test_reader_and_decoder_raise_invalid_payload_for_deep_json() -> None:
    raw = _stream_with_nested(Dialect.MESSAGES, 100_000)
    reader = StreamReader("messages")
    reader.receive_data(raw)
    with pytest.raises(InvalidPayload, match="'content_block_delta' event data is JSON nested deeper than 256 levels"):
        list(reader.events())
    deep = ServerSentEvent("content_block_delta", '{"x":' + _nested(100_000).decode() + "}", "", None)
    with pytest.raises(InvalidPayload) as caught:
        decode_event("messages", deep)
    assert caught.value.data == deep.data and caught.value.event == "content_block_delta"


def test_brackets_inside_strings_are_not_nesting() -> None:
    # More opening brackets than the limit, all inside a string: the exact
    # depth check runs and finds one level.
    text = "[" * 5_000 + "{" * 5_000
    for target in (Dialect.LEGACY, Dialect.COMPLETIONS, Dialect.MESSAGES, Dialect.OPENAI):
        pipeline = Pipeline("messages", target)
        pipeline.receive_data(messages_with_text(text))
        pipeline.receive_data(b"")
        assert pipeline.complete and text.encode() in pipeline.data_to_send(), target


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_json_from_wire(as_bytes: bool) -> None:
    def wire(text: str) -> str | bytes:
        return text.encode() if as_bytes else text

    assert json_from_wire(wire(_nested(MAX_JSON_DEPTH).decode())) == json.loads(_nested(MAX_JSON_DEPTH))
    assert json_from_wire(wire('{"a": "[[[[{{{{"}  ')) == {"a": "[[[[{{{{"}
    assert json_from_wire(wire(json.dumps(["[" * 1000]))) == ["[" * 1000]
    for levels in (MAX_JSON_DEPTH + 1, 100_000):
        with pytest.raises(ValueError, match="nested deeper than 256 levels"):
            json_from_wire(wire(_nested(levels).decode()))
    with pytest.raises(json.JSONDecodeError):
        json_from_wire(wire("{nope"))


def _tool_stream(partial_json: str) -> bytes:
    return b"".join(
        [
            sse("message_start", {"type": "message_start", "message": {"id": "msg_x", "content": [], "model": "m", "usage": {"input_tokens": 1, "output_tokens": 1}}}),
            sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}}),
            sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": partial_json}}),
            sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 2}}),
            sse("message_stop", {"type": "message_stop"}),
        ]
    )


def test_tool_input_nested_past_the_limit_is_invalid_payload() -> None:
    message = accumulate("messages", [_tool_stream('{"a":' + _nested(MAX_JSON_DEPTH - 1).decode() + "}")])
    assert isinstance(message, dict) and message["content"][0]["input"] == {"a": json.loads(_nested(MAX_JSON_DEPTH - 1))}
    for levels in (MAX_JSON_DEPTH, 100_000):
        with pytest.raises(InvalidPayload, match="tool input of block 0 is not JSON: JSON nested deeper than 256 levels"):
            accumulate("messages", [_tool_stream('{"a":' + _nested(levels).decode() + "}")])


def test_message_nested_to_the_limit_accumulates() -> None:
    # message_start's message is copied (copy.deepcopy: two frames per level) into the result.
    raw = messages_with_text("hi").replace(b'"usage":{"input_tokens":1,"output_tokens":1}}', b'"usage":{"input_tokens":1,"output_tokens":1},"x":' + _nested(MAX_JSON_DEPTH - 2) + b"}", 1)
    message = accumulate("messages", [raw])
    assert isinstance(message, dict) and message["x"] == json.loads(_nested(MAX_JSON_DEPTH - 2))
    with pytest.raises(InvalidPayload, match="nested deeper than 256 levels"):
        accumulate("messages", [raw.replace(_nested(MAX_JSON_DEPTH - 2), _nested(MAX_JSON_DEPTH - 1))])


# -- non-streaming answers, error bodies and requests: any JSON, only typed refusals --

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Objects shaped like the real thing, with any values in the fields sseadapt reads.
MESSAGE_FIELDS = ["id", "model", "content", "stop_reason", "stop_sequence", "type", "text", "completion", "log_id", "stop"]
ANSWERS = st.dictionaries(st.sampled_from(MESSAGE_FIELDS), JSON_VALUES | st.lists(st.dictionaries(st.sampled_from(["type", "text"]), st.just("text") | JSON_VALUES), max_size=3), max_size=6)
REQUESTS = st.dictionaries(
    st.sampled_from(["prompt", "model", "max_tokens_to_sample", "stop_sequences", "stream", "temperature", "metadata", "extra"]),
    st.just("\n\nHuman: hi\n\nAssistant:") | JSON_VALUES,
    max_size=6,
)


# (An answer that is not a JSON object is refused before translating: tests/test_faults.py.)
@given(ANSWERS, st.sampled_from([(Dialect.MESSAGES, Dialect.LEGACY), (Dialect.MESSAGES, Dialect.COMPLETIONS), (Dialect.COMPLETIONS, Dialect.LEGACY)]))
@settings(max_examples=300, deadline=None)
def test_any_answer_translates_or_is_untranslatable(answer: dict[str, Any], pair: tuple[Dialect, Dialect]) -> None:
    try:
        out = translate_answer(answer, *pair)
    except UntranslatableAnswer:
        return
    json.dumps(out)  # what the adapters write
    assert isinstance(out["completion"], str)


ERROR_BODIES = st.dictionaries(st.sampled_from(["type", "error"]), JSON_VALUES | st.dictionaries(st.sampled_from(["type", "message"]), JSON_VALUES), max_size=2)


@given((ERROR_BODIES | JSON_VALUES).map(lambda value: json.dumps(value).encode()) | st.binary(max_size=64), st.sampled_from(list(Dialect)), st.integers(400, 599))
@settings(max_examples=300, deadline=None)
def test_any_upstream_error_body_becomes_an_error_of_the_clients_shape(body: bytes, dialect: Dialect, status: int) -> None:
    out = upstream_error_body(dialect, status, body)
    try:
        sent = json.loads(body)
    except ValueError:
        sent = None
    if dialect is Dialect.MESSAGES and isinstance(sent, dict) and isinstance(sent.get("error"), dict):
        assert out == body  # D13: Messages clients get a JSON error body unchanged
        return
    error = json.loads(out)["error"]
    assert isinstance(error["type"], str) and isinstance(error["message"], str)


@given(REQUESTS | JSON_VALUES)
@settings(max_examples=300, deadline=None)
def test_any_legacy_request_translates_or_is_rejected(body: Any) -> None:
    try:
        request = legacy_to_messages_request(body, default_model="m")
    except RequestRejected as exc:
        assert exc.status == 400 and exc.message
        return
    json.dumps(request)
    assert isinstance(request["model"], str) and request["messages"][0]["role"] == "user"


def _encoded(data: bytes, codings: list[str]) -> bytes:
    for coding in codings:
        if coding in ("gzip", "x-gzip"):
            data = gzip.compress(data)
        elif coding == "deflate":
            data = zlib.compress(data)
    return data


@given(
    (REQUESTS | JSON_VALUES).map(lambda value: json.dumps(value).encode()) | st.binary(max_size=64),
    st.lists(st.sampled_from(["gzip", "x-gzip", "deflate", "identity", "br", " GZIP", ""]), max_size=3),
    st.booleans(),
    st.integers(1, 200),
)
@settings(max_examples=300, deadline=None)
def test_any_request_body_with_any_codings_is_an_object_or_rejected(raw: bytes, codings: list[str], encode: bool, limit: int) -> None:
    named = [c.strip().lower() for c in codings]
    body = _encoded(raw, named) if encode else raw
    try:
        value = request_json_object(body, ", ".join(codings), limit)
    except RequestRejected as exc:
        assert exc.status in (400, 413, 415) and exc.message
        assert (exc.status == 415) == ("br" in named)
        return
    assert "br" not in named
    assert isinstance(value, dict)
    if encode and any(c in ("gzip", "x-gzip", "deflate") for c in named):
        assert value == json.loads(raw) and len(raw) <= limit  # decoded, within the limit


@given(st.integers(100, 599), (ERROR_BODIES | ANSWERS | JSON_VALUES).map(lambda value: json.dumps(value).encode()) | st.binary(max_size=64), st.sampled_from(list(Dialect)), st.sampled_from(list(Dialect)))
@settings(max_examples=300, deadline=None)
def test_any_whole_answer_is_given_as_json_or_as_sent(status: int, raw: bytes, source: Dialect, client: Dialect) -> None:
    out = client_answer(status, raw, source, client)
    if out is None:
        assert status < 400
    else:
        json.loads(out)  # what the adapters send as application/json


# -- a block's starting text, and message_delta fields the accumulator owns --


def _with_start_block(block: dict[str, Any], *, delta: dict[str, Any] | None = None) -> bytes:
    """messages_with_text(" there") whose first block starts as ``block``."""
    raw = messages_with_text(" there")
    raw = raw.replace(b'"content_block":{"type":"text","text":""}', b'"content_block":' + json.dumps(block, separators=(",", ":")).encode(), 1)
    if delta is not None:
        raw = raw.replace(b'"delta":{"stop_reason":"end_turn"}', b'"delta":' + json.dumps(delta, separators=(",", ":")).encode(), 1)
    return raw


def _converted_text(out: bytes, target: Dialect) -> str:
    payloads = [json.loads(e.data) for e in iter_events([out]) if e.data != "[DONE]"]
    if target is Dialect.LEGACY:
        return str(payloads[-1]["completion"])  # cumulative
    if target is Dialect.COMPLETIONS:
        return "".join(p["completion"] for p in payloads)
    return "".join(p["choices"][0]["delta"].get("content", "") for p in payloads if p["choices"])


@pytest.mark.parametrize("target", [Dialect.COMPLETIONS, Dialect.LEGACY, Dialect.OPENAI])
def test_a_text_blocks_starting_text_is_converted_like_the_accumulator_keeps_it(target: Dialect) -> None:
    # The API starts text blocks with "", but a starting text is text all the same.
    raw = _with_start_block({"type": "text", "text": "Hi"})
    message = accumulate("messages", [raw])
    assert isinstance(message, dict) and message["content"][0]["text"] == "Hi there"
    assert _converted_text(convert_bytes(raw, "messages", target), target) == "Hi there"
    assert convert_bytes(raw, "messages", "messages") == raw


@pytest.mark.parametrize("block", [{"type": "text", "text": None}, {"type": "text", "text": 5}, {"type": "thinking", "thinking": ["x"]}])
@pytest.mark.parametrize("target", [t for s, t in SUPPORTED_CONVERSIONS if s is Dialect.MESSAGES])
def test_a_starting_text_that_is_not_a_string_is_invalid_payload(block: dict[str, Any], target: Dialect) -> None:
    raw = _with_start_block(block)
    with pytest.raises(InvalidPayload, match="block has '(text|thinking)' that is not str"):
        accumulate("messages", [raw])
    pipeline = Pipeline("messages", target)
    pipeline.receive_data(raw)
    pipeline.receive_data(b"")
    out = pipeline.data_to_send()
    assert isinstance(pipeline.error, InvalidPayload) and not pipeline.complete
    assert b"that is not str" in out and b"[DONE]" not in out


def test_hand_built_starting_text_that_is_not_a_string_is_a_local_error() -> None:
    start = ContentBlockStart(index=0, content_block={"type": "text", "text": None})
    accumulator = MessageAccumulator()
    accumulator.add(decode_event("messages", next(iter_events([messages_with_text("x")]))))
    with pytest.raises(LocalProtocolError, match="text block 0 starts with 'text' that is not str"):
        accumulator.add(start)
    converter = make_converter("messages", "completions-2023-06-01")
    converter.send(decode_event("messages", next(iter_events([messages_with_text("x")]))))
    with pytest.raises(LocalProtocolError, match="text block 0 starts with 'text' that is not str"):
        converter.send(start)


#: One valid instance of every event class with fields, as decode_event makes them.
_VALID_EVENTS: list[Any] = [
    UnknownEvent(event="x", data="y"),
    events.Ping(),
    events.ErrorEvent(error_type="overloaded_error", message="m"),
    events.LegacyCompletion(completion="a", stop_reason="stop_sequence", model="m", stop=None, log_id="l", truncated=False, exception=None),
    events.Completion(completion="a", stop_reason=None, model="m", stop=None, log_id="l", id="i"),
    events.MessageStart(message={"id": "m"}),
    ContentBlockStart(index=0, content_block={"type": "text", "text": ""}),
    events.ContentBlockDelta(index=0, delta=events.TextDelta(text="a")),
    events.TextDelta(text="a"),
    events.InputJSONDelta(partial_json="{"),
    events.ThinkingDelta(thinking="t"),
    events.SignatureDelta(signature="s"),
    events.CitationsDelta(citation={"type": "char_location"}),
    events.UnknownDelta(type="new_delta"),
    events.ContentBlockStop(index=0),
    events.MessageDelta(delta={"stop_reason": "end_turn"}, usage={"output_tokens": 1}),
    events.MessageStop(),
]

#: A value of the wrong type for each kind of field (int: also bool, which is an int).
_WRONG: dict[str, list[Any]] = {
    "str": [None, 5, b"x"],
    "dict[str, Any]": [None, "x", [("a", 1)]],
    "int": [None, True, "0", 0.0],
    "Union[str, None]": [5, b"x", {}],
    "Union[bool, None]": [1, "true"],
    "Delta": [None, {"type": "text_delta", "text": "a"}, UnknownEvent(event="x", data="y")],
}


def test_every_event_class_with_fields_has_a_valid_sample() -> None:
    classes = {cls for name in events.__all__ if attrs.has(cls := getattr(events, name)) and attrs.fields(cls)}
    assert {type(e) for e in _VALID_EVENTS} == classes


@pytest.mark.parametrize(
    ("event", "field"),
    [(e, f) for e in _VALID_EVENTS for f in attrs.fields(type(e))],
    ids=lambda v: type(v).__name__ if not isinstance(v, attrs.Attribute) else v.name,
)
def test_an_event_built_with_a_field_of_the_wrong_type_is_a_type_error(event: Any, field: attrs.Attribute[Any]) -> None:
    # Machines, accumulators and converters read the fields unchecked: a
    # hand-built MessageStart(message=None) or ContentBlockStart(content_block=5)
    # raised AttributeError deep inside them (a str completion of 5, TypeError).
    cls = type(event)
    wrong = _WRONG[str(field.type)]
    for value in wrong:
        with pytest.raises(TypeError, match=rf"^{cls.__name__}\.{field.name} must be .+, not {type(value).__name__}$"):
            attrs.evolve(event, **{field.name: value})
    assert attrs.evolve(event) == event  # the valid sample itself passes
    if str(field.type) == "dict[str, Any]":  # a subclass of the kind passes too
        assert getattr(attrs.evolve(event, **{field.name: collections.OrderedDict(a=1)}), field.name) == {"a": 1}
    if str(field.type).startswith("Union["):
        assert getattr(attrs.evolve(event, **{field.name: None}), field.name) is None


def test_every_decoded_event_passes_its_own_checks() -> None:
    for name, dialect in {**INPUT_FIXTURES, **ERROR_FIXTURES}.items():
        for sse in iter_events([(FIXTURES / name).read_bytes()]):
            event = decode_event(dialect, sse)
            if attrs.has(type(event)):
                assert attrs.evolve(event) == event


_EVENT_KEYS = ["type", "index", "delta", "content_block", "message", "usage", "completion", "stop_reason", "model", "stop", "log_id", "id", "truncated", "exception", "error"]
_ANY = st.none() | st.text(max_size=4) | JSON_VALUES
_DELTAS = st.one_of(
    *(
        st.fixed_dictionaries({"type": st.just(kind), field: values | _ANY})
        for kind, field, values in [
            ("text_delta", "text", st.text(max_size=4)),
            ("input_json_delta", "partial_json", st.text(max_size=4)),
            ("thinking_delta", "thinking", st.text(max_size=4)),
            ("signature_delta", "signature", st.text(max_size=4)),
            ("citations_delta", "citation", st.dictionaries(st.text(max_size=4), _ANY, max_size=2)),
            ("new_delta", "text", st.text(max_size=4)),
        ]
    ),
    st.dictionaries(st.sampled_from(["type", "text", "citation"]), _ANY, max_size=3),
)
_COMPLETION_OPTIONAL = {key: _ANY for key in ["stop_reason", "model", "stop", "log_id"]}
#: (dialect, SSE name, payload): the per-token events' shapes with any values, and anything at all.
_DECODER_INPUTS = st.one_of(
    st.tuples(st.just("completions"), st.sampled_from(["completion", "message"]), st.fixed_dictionaries(
        {"type": st.just("completion"), "completion": st.text(max_size=4) | _ANY}, optional={**_COMPLETION_OPTIONAL, "id": _ANY})),
    st.tuples(st.just("legacy"), st.just("message"), st.fixed_dictionaries(
        {"completion": st.text(max_size=4) | _ANY},
        optional={**_COMPLETION_OPTIONAL, "truncated": st.booleans() | _ANY, "exception": st.none() | st.just("") | _ANY})),
    st.tuples(st.just("messages"), st.just("content_block_delta"), st.fixed_dictionaries({"index": st.integers(0, 9), "delta": _DELTAS})),
    st.tuples(
        st.sampled_from(["messages", "completions", "legacy"]),
        st.sampled_from(["message", "completion", "ping", "error", "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "other"]),
        st.dictionaries(st.sampled_from(_EVENT_KEYS), _ANY, max_size=8),
    ),
)


@settings(max_examples=500, deadline=None)
@given(case=_DECODER_INPUTS)
def test_any_decoded_event_passes_its_own_checks(case: tuple[str, str, dict[str, Any]]) -> None:
    # The decoders make per-token events without the constructor's checks
    # (they check the wire first): what they make must pass those checks.
    dialect, name, payload = case
    try:
        event = decode_event(dialect, ServerSentEvent(event=name, data=json.dumps(payload)))
    except InvalidPayload:
        return
    if attrs.has(type(event)):
        assert attrs.evolve(event) == event
        delta: Any = getattr(event, "delta", None)
        if attrs.has(type(delta)):
            assert attrs.evolve(delta) == delta


def test_message_delta_cannot_replace_content_or_usage() -> None:
    delta = {"stop_reason": "end_turn", "content": 5, "usage": None, "container": {"id": "c"}}
    message = accumulate("messages", [_with_start_block({"type": "text", "text": ""}, delta=delta)])
    assert isinstance(message, dict)
    assert message["content"] == [{"type": "text", "text": " there"}]
    assert message["usage"] == {"input_tokens": 1, "output_tokens": 2}
    assert (message["stop_reason"], message["container"]) == ("end_turn", {"id": "c"})


def _field_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not isinstance(value, dict):
        return []
    return [p for key, inner in value.items() for p in [(*prefix, key), *_field_paths(inner, (*prefix, key))]]


_TEXT = [json.loads(e.data) for e in iter_events([messages_with_text("hi")])]
_TOOL = [json.loads(e.data) for e in iter_events([_tool_stream('{"a": 1}')])]
for _payload in _TOOL[1:4]:
    _payload["index"] = 1
# One message: a text block (index 0), then a tool block (index 1).
TOOL_AND_TEXT = _TEXT[:4] + _TOOL[1:4] + _TOOL[4:]
FIELD_PATHS = [(i, path) for i, payload in enumerate(TOOL_AND_TEXT) for path in _field_paths(payload) if path != ("type",)]


@given(st.lists(st.tuples(st.sampled_from(FIELD_PATHS), JSON_VALUES), min_size=1, max_size=3))
@settings(max_examples=300, deadline=None)
def test_any_value_in_any_field_is_converted_or_refused_with_a_typed_error(changes: list[tuple[tuple[int, tuple[Any, ...]], Any]]) -> None:
    # A valid stream (a text block, a tool block) with any field set to any JSON.
    payloads = json.loads(json.dumps(TOOL_AND_TEXT))
    for (index, path), value in changes:
        target = payloads[index]
        for key in path[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[path[-1]] = value
    stream = b"".join(sse(str(p["type"]), p) for p in payloads)
    try:
        json.dumps(accumulate("messages", [stream]))
    except SSEAdaptError:
        pass
    for target_dialect in [t for s, t in SUPPORTED_CONVERSIONS if s is Dialect.MESSAGES]:
        pipeline = Pipeline("messages", target_dialect)
        pipeline.receive_data(stream)
        pipeline.receive_data(b"")
        pipeline.data_to_send().decode()
        assert pipeline.complete != (pipeline.error is not None), pipeline.error  # completed, or ended with a typed error
