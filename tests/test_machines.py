"""Typed events, state machines and accumulators for the three Anthropic dialects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sseadapt
from sseadapt import (
    EVENT_KINDS,
    TRANSITIONS,
    CompletionResult,
    ContentBlockDelta,
    Dialect,
    IncompleteStream,
    InvalidPayload,
    MessageStart,
    ServerSentEvent,
    State,
    StreamMachine,
    StreamReader,
    TextDelta,
    UnexpectedEvent,
    UnknownDelta,
    UnknownEvent,
    UpstreamError,
    accumulate,
    decode_event,
)

from .helpers import FIXTURES
from .streams import PING, UNKNOWN, completions_stream, messages_stream, reference_fold_messages, sse

TEXT = " Hello! My name is Claude."
INPUT_FIXTURES = {
    "legacy-2023-01-01_text-completion_cumulative_done.sse": Dialect.LEGACY,
    "v2023-06-01_text-completion_incremental_ping.sse": Dialect.COMPLETIONS,
    "v2023-06-01_messages_text-only.sse": Dialect.MESSAGES,
    "v2023-06-01_messages_text-tool-use_usage.sse": Dialect.MESSAGES,
}
ERROR_FIXTURES = {
    "legacy-2023-01-01_text-completion_error-midstream.sse": Dialect.LEGACY,
    "v2023-06-01_text-completion_error-midstream.sse": Dialect.COMPLETIONS,
    "v2023-06-01_messages_error-midstream.sse": Dialect.MESSAGES,
}


def events_of(raw: bytes) -> list[bytes]:
    return [block + b"\n\n" for block in raw.split(b"\n\n") if block]


# -- fixtures ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(INPUT_FIXTURES))
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_fixture_accepted_and_accumulated(name: str, eol: bytes) -> None:
    raw = (FIXTURES / name).read_bytes().replace(b"\n", eol)
    result = accumulate(INPUT_FIXTURES[name], [raw[i : i + 5] for i in range(0, len(raw), 5)])
    if isinstance(result, CompletionResult):
        assert result.completion == TEXT
        assert result.stop_reason == "stop_sequence"
        assert result.model == "claude-2.0"
    else:
        texts = [b["text"] for b in result["content"] if b["type"] == "text"]
        assert "".join(texts) == TEXT
        assert result["model"] == "claude-sonnet-4-5-20250929"
        if "tool-use" in name:
            assert result["content"][1]["input"] == {"location": "San Francisco, CA"}
            assert result["stop_reason"] == "tool_use"
            assert result["usage"] == {"input_tokens": 472, "output_tokens": 54}
        else:
            assert result["stop_reason"] == "end_turn"
            assert result["usage"]["cache_read_input_tokens"] == 1280
            assert result["usage"]["output_tokens"] == 12


def test_legacy_fixture_fields() -> None:
    result = accumulate(Dialect.LEGACY, [(FIXTURES / "legacy-2023-01-01_text-completion_cumulative_done.sse").read_bytes()])
    assert isinstance(result, CompletionResult)
    assert result.stop == "\n\nHuman:"
    assert result.log_id == "0d4d4fb341ff83236333ad511ec59b4b822c2487ab425cf05e0b5f12a59f756a"


@pytest.mark.parametrize("name", sorted(ERROR_FIXTURES))
def test_error_fixture_gives_typed_upstream_error(name: str) -> None:
    with pytest.raises(UpstreamError) as info:
        accumulate(ERROR_FIXTURES[name], [(FIXTURES / name).read_bytes()])
    assert info.value.error_type == "overloaded_error"
    assert info.value.message == "Overloaded"
    assert info.value.status == 529


def test_reader_yields_error_event_then_raises() -> None:
    reader = StreamReader("messages")
    reader.receive_data((FIXTURES / "v2023-06-01_messages_error-midstream.sse").read_bytes())
    kinds = [type(e).__name__ for e in reader.events()]
    assert kinds[-1] == "ErrorEvent"
    assert reader.machine.state is State.ERROR
    reader.receive_data(b"")
    with pytest.raises(UpstreamError):
        reader.next_event()


# -- decoding ----------------------------------------------------------------


def test_decoding_tolerates_padding_order_and_extra_fields() -> None:
    data = '{"index":0,"extra_field":{"a":1},"delta":{"text":" Hi","type":"text_delta","new":true},"type":"content_block_delta"      }'
    event = decode_event("messages", ServerSentEvent(event="content_block_delta", data=data))
    assert isinstance(event, ContentBlockDelta)
    assert event.delta == TextDelta(text=" Hi", raw={"text": " Hi", "type": "text_delta", "new": True})
    assert event.raw["extra_field"] == {"a": 1}
    assert list(event.raw) == ["index", "extra_field", "delta", "type"]  # order kept


def test_unnamed_event_falls_back_to_type() -> None:
    event = decode_event("messages", ServerSentEvent(data='{"type":"message_start","message":{"id":"m","content":[]}}'))
    assert isinstance(event, MessageStart)
    assert event.message_id == "m"


def test_unknown_event_and_delta_kept_untouched() -> None:
    data = '{"type": "brand_new",  "x": 1}'
    assert decode_event("messages", ServerSentEvent(event="brand_new", data=data)) == UnknownEvent(event="brand_new", data=data)
    assert decode_event("completions", ServerSentEvent(event="brand_new", data=data)) == UnknownEvent(event="brand_new", data=data)
    delta = decode_event("messages", ServerSentEvent(event="content_block_delta", data='{"type":"content_block_delta","index":0,"delta":{"type":"audio_delta","b":1}}'))
    assert isinstance(delta, ContentBlockDelta) and isinstance(delta.delta, UnknownDelta)
    assert delta.delta.type == "audio_delta"


def test_completion_error_with_or_without_top_level_type() -> None:
    for data in ('{"error": {"type": "overloaded_error", "message": "Overloaded"}}', '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'):
        event = decode_event("completions", ServerSentEvent(event="error", data=data))
        assert isinstance(event, sseadapt.ErrorEvent) and event.error_type == "overloaded_error"


@pytest.mark.parametrize(
    ("dialect", "name", "data"),
    [
        ("messages", "content_block_delta", "{not json"),
        ("messages", "content_block_delta", "[1, 2]"),
        ("messages", "content_block_delta", '{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}'),
        ("messages", "content_block_delta", '{"type":"content_block_delta","index":true,"delta":{"type":"text_delta","text":"x"}}'),
        ("messages", "content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}}'),
        ("completions", "completion", '{"type":"completion"}'),
        ("legacy", "message", '{"completion": null}'),
        ("messages", "error", '{"type":"error"}'),
    ],
)
def test_invalid_payload(dialect: str, name: str, data: str) -> None:
    with pytest.raises(InvalidPayload) as info:
        decode_event(dialect, ServerSentEvent(event=name, data=data))
    assert info.value.data == data


def test_dialect_names_and_aliases() -> None:
    assert Dialect.parse("legacy") is Dialect.LEGACY
    assert Dialect.parse("completions-2023-01-01") is Dialect.LEGACY
    assert Dialect.parse("completions") is Dialect.COMPLETIONS
    assert Dialect.parse("messages") is Dialect.MESSAGES
    with pytest.raises(ValueError, match="unknown dialect"):
        Dialect.parse("bogus")
    with pytest.raises(ValueError):
        decode_event("openai", ServerSentEvent(data="{}"))
    for wrong in (5, None, b"messages"):
        with pytest.raises(TypeError, match=f"a dialect is a Dialect or its name, not {type(wrong).__name__}"):
            Dialect.parse(wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            StreamReader(wrong)  # type: ignore[arg-type]


def test_decode_event_refuses_what_is_not_an_sse_event() -> None:
    for wrong in ("data: {}", b'{"type": "ping"}', {"event": "ping", "data": "{}"}, None):
        with pytest.raises(sseadapt.LocalProtocolError, match=f"^decode_event\\(\\) takes a ServerSentEvent, not {type(wrong).__name__}$"):
            decode_event("messages", wrong)  # type: ignore[arg-type]
    # One built by hand with a field of the wrong type: said "first argument must be a string,
    # not NoneType" (the JSON scanner) or "UnknownEvent.data must be str, not bytes".
    for dialect in ("messages", "completions", "legacy"):
        for name in ("message", "message_start", "completion", "other"):
            for field, value in (("event", None), ("event", 5), ("data", None), ("data", b"{}"), ("data", 5)):
                fields: dict[str, Any] = {"event": name, "data": "{}", field: value}
                sse = ServerSentEvent(**fields)
                with pytest.raises(sseadapt.LocalProtocolError, match=f"^decode_event\\(\\) takes a ServerSentEvent whose {field} is str, not {type(value).__name__}$"):
                    decode_event(dialect, sse)


def test_machine_refuses_what_is_not_an_event_and_stays_as_it_was() -> None:
    machine = StreamMachine("messages")
    start = decode_event("messages", ServerSentEvent(event="message_start", data=json.dumps(
        {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "content": [],
                                              "model": "x", "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 1}}})))
    for wrong in (5, None, ServerSentEvent(event="message_start", data="{}"), "message_start"):
        with pytest.raises(sseadapt.LocalProtocolError, match=f"^{type(wrong).__name__} is not an Anthropic event"):
            machine.receive(wrong)  # type: ignore[arg-type]
        with pytest.raises(sseadapt.LocalProtocolError):
            sseadapt.event_kind(wrong)  # type: ignore[arg-type]
        assert machine.state is State.START and machine.event_count == 0
    assert machine.receive(start) is not State.START  # still works

    class Subclassed(type(start)):  # type: ignore[misc]
        pass

    assert sseadapt.event_kind(Subclassed(**{f.name: getattr(start, f.name) for f in type(start).__attrs_attrs__})) == sseadapt.event_kind(start)


# -- the transition tables ---------------------------------------------------

SAMPLE: dict[Dialect, dict[str, bytes]] = {
    Dialect.LEGACY: {
        "completion": sse(None, {"completion": " Hi", "stop_reason": None}),
        "stop": sse(None, {"completion": " Hi", "stop_reason": "stop_sequence"}),
        "done": b"data: [DONE]\n\n",
        "ping": PING,
        "error": sse(None, {"completion": " Hi", "stop_reason": None, "exception": "overloaded_error: Overloaded", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        "unknown": sse("completion", {"completion": "x"}),
    },
    Dialect.COMPLETIONS: {
        "completion": sse("completion", {"type": "completion", "completion": " Hi", "stop_reason": None}),
        "stop": sse("completion", {"type": "completion", "completion": "", "stop_reason": "max_tokens"}),
        "ping": PING,
        "error": sse("error", {"error": {"type": "api_error", "message": "boom"}}),
        "unknown": UNKNOWN,
    },
    Dialect.MESSAGES: {
        "message_start": sse("message_start", {"type": "message_start", "message": {"id": "m", "content": [], "model": "x", "usage": {"input_tokens": 1}}}),
        "content_block_start": sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        "content_block_delta": sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}),
        "content_block_stop": sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        "message_delta": sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
        "message_stop": sse("message_stop", {"type": "message_stop"}),
        "ping": PING,
        "error": sse("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        "unknown": UNKNOWN,
    },
}

# A path of event kinds reaching each state from START (for the guards' context).
PATHS: dict[Dialect, dict[State, list[str]]] = {
    Dialect.LEGACY: {State.START: [], State.STREAMING: ["completion"], State.STOPPED: ["stop"], State.DONE: ["stop", "done"], State.ERROR: ["error"]},
    Dialect.COMPLETIONS: {State.START: [], State.STREAMING: ["completion"], State.DONE: ["stop"], State.ERROR: ["error"]},
    Dialect.MESSAGES: {
        State.START: [],
        State.IN_MESSAGE: ["message_start"],
        State.IN_BLOCK: ["message_start", "content_block_start"],
        State.MESSAGE_DELTA: ["message_start", "message_delta"],
        State.DONE: ["message_start", "message_stop"],
        State.ERROR: ["error"],
    },
}


def typed(dialect: Dialect, kind: str) -> sseadapt.AnthropicEvent:
    from sseadapt import SSEParser

    parser = SSEParser()
    parser.receive_data(SAMPLE[dialect][kind])
    (event,) = list(parser.events())
    return decode_event(dialect, event)


def machine_in(dialect: Dialect, state: State) -> StreamMachine:
    machine = StreamMachine(dialect)
    for kind in PATHS[dialect][state]:
        machine.receive(typed(dialect, kind))
    assert machine.state is state
    return machine


PAIRS = [(d, s, k) for d in PATHS for s in PATHS[d] for k in EVENT_KINDS[d]]


@pytest.mark.parametrize("dialect", list(PATHS), ids=lambda d: d.value)
def test_events_of_another_dialect_are_refused_in_every_state(dialect: Dialect) -> None:
    # Before, a legacy machine took a 2023-06-01 Completion (same kind name) and
    # a Messages machine called one an UnexpectedEvent, blaming the peer's bytes.
    own = {type(typed(dialect, kind)) for kind in EVENT_KINDS[dialect]}
    foreign = [typed(other, kind) for other in PATHS if other is not dialect for kind in EVENT_KINDS[other]]
    foreign = [event for event in foreign if type(event) not in own]
    assert foreign
    for state in PATHS[dialect]:
        machine = machine_in(dialect, state)
        count = machine.event_count
        for event in foreign:
            with pytest.raises(sseadapt.LocalProtocolError, match="is not an event of this dialect"):
                machine.receive(event)
            assert machine.state is state and machine.event_count == count and machine.violation is None
    accumulator = sseadapt.MessageAccumulator() if dialect is Dialect.MESSAGES else sseadapt.CompletionAccumulator(dialect)
    for event in foreign:
        with pytest.raises(sseadapt.LocalProtocolError):
            accumulator.add(event)


def test_samples_cover_every_kind_and_state() -> None:
    for dialect, table in TRANSITIONS.items():
        assert set(SAMPLE[dialect]) == set(EVENT_KINDS[dialect])
        states = {s for s, _ in table} | set(table.values())
        assert states | {State.ERROR} == set(PATHS[dialect])
        for kind in EVENT_KINDS[dialect]:
            from sseadapt import event_kind

            assert event_kind(typed(dialect, kind)) == kind


@given(st.sampled_from(PAIRS), st.lists(st.sampled_from(["ping", "unknown", "error", "stop"]), max_size=3))
@settings(max_examples=300)
def test_every_state_event_pair(pair: tuple[Dialect, State, str], followers: list[str]) -> None:
    dialect, state, kind = pair
    machine = machine_in(dialect, state)
    expected = TRANSITIONS[dialect].get((state, kind))
    if state is State.ERROR:
        expected = None
    elif kind in ("ping", "unknown"):
        expected = state
    elif kind == "error":
        expected = State.ERROR
    if expected is None:
        with pytest.raises(UnexpectedEvent) as info:
            machine.receive(typed(dialect, kind))
        assert info.value.state is state
        assert machine.state is State.ERROR
        # Sticky: everything after a violation is refused too.
        for follower in followers:
            if follower in EVENT_KINDS[dialect]:
                with pytest.raises(UnexpectedEvent):
                    machine.receive(typed(dialect, follower))
                assert machine.state is State.ERROR
    else:
        assert machine.receive(typed(dialect, kind)) is expected
        assert machine.state is expected


def test_violation_message_names_state_and_event() -> None:
    machine = StreamMachine("messages")
    with pytest.raises(UnexpectedEvent, match=r"'content_block_delta' event is not allowed in state START"):
        machine.receive(typed(Dialect.MESSAGES, "content_block_delta"))


def _messages(*events: bytes) -> list[bytes]:
    return [SAMPLE[Dialect.MESSAGES]["message_start"], *events]


@pytest.mark.parametrize(
    ("events", "match"),
    [
        (_messages(sse("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}})), "index 1, expected 0"),
        (_messages(SAMPLE[Dialect.MESSAGES]["content_block_start"], sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{"}})), "does not fit a 'text' block"),
        (_messages(SAMPLE[Dialect.MESSAGES]["content_block_start"], sse("content_block_delta", {"type": "content_block_delta", "index": 3, "delta": {"type": "text_delta", "text": "x"}})), "delta for block 3"),
        (_messages(SAMPLE[Dialect.MESSAGES]["content_block_start"], sse("content_block_stop", {"type": "content_block_stop", "index": 2})), "content_block_stop for block 2"),
        (_messages(SAMPLE[Dialect.MESSAGES]["message_delta"], SAMPLE[Dialect.MESSAGES]["content_block_start"]), "not allowed in state MESSAGE_DELTA"),
    ],
)
def test_messages_guards(events: list[bytes], match: str) -> None:
    reader = StreamReader("messages")
    reader.receive_data(b"".join(events))
    with pytest.raises(UnexpectedEvent, match=match) as info:
        list(reader.events())
    assert info.value.event_index == len(events) - 1


def test_unknown_delta_fits_any_block() -> None:
    reader = StreamReader("messages")
    reader.receive_data(b"".join(_messages(SAMPLE[Dialect.MESSAGES]["content_block_start"], sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "new_delta"}}))))
    assert len(list(reader.events())) == 3


def test_legacy_cumulative_must_extend() -> None:
    reader = StreamReader("legacy")
    reader.receive_data(sse(None, {"completion": " Hello", "stop_reason": None}) + sse(None, {"completion": " Help", "stop_reason": None}))
    with pytest.raises(UnexpectedEvent, match="does not extend"):
        list(reader.events())


def test_legacy_done_before_stop_is_refused() -> None:
    reader = StreamReader("legacy")
    reader.receive_data(sse(None, {"completion": " Hello", "stop_reason": None}) + b"data: [DONE]\n\n")
    with pytest.raises(UnexpectedEvent, match="'done' event is not allowed in state STREAMING"):
        list(reader.events())


def test_errors_carry_offset_and_index() -> None:
    reader = StreamReader("messages")
    reader.receive_data(SAMPLE[Dialect.MESSAGES]["message_start"] + b"event: content_block_delta\ndata: {oops\n\n")
    with pytest.raises(InvalidPayload) as info:
        list(reader.events())
    assert info.value.event_index == 1
    assert info.value.offset is not None and info.value.offset > 0


# -- generated streams ---------------------------------------------------------


@given(messages_stream(), st.sampled_from([1, 3, 64, 10**6]))
@settings(max_examples=200, deadline=None)
def test_generated_messages_stream_accumulates_like_reference(sample: tuple[list[bytes], dict[str, Any]], size: int) -> None:
    events, final = sample
    wire = b"".join(events)
    result = accumulate("messages", [wire[i : i + size] for i in range(0, len(wire), size)])
    assert result == reference_fold_messages(events) == final


@given(completions_stream(legacy=False))
@settings(max_examples=150, deadline=None)
def test_generated_completions_stream(sample: tuple[list[bytes], tuple[str, str, str]]) -> None:
    events, (text, stop_reason, model) = sample
    result = accumulate("completions", [b"".join(events)])
    assert isinstance(result, CompletionResult)
    assert (result.completion, result.stop_reason, result.model) == (text, stop_reason, model)


@given(completions_stream(legacy=True))
@settings(max_examples=150, deadline=None)
def test_generated_legacy_stream(sample: tuple[list[bytes], tuple[str, str, str]]) -> None:
    events, (text, stop_reason, model) = sample
    result = accumulate("legacy", [b"".join(events)])
    assert isinstance(result, CompletionResult)
    assert (result.completion, result.stop_reason, result.model) == (text, stop_reason, model)


# -- truncation ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(INPUT_FIXTURES))
def test_cut_at_every_event_boundary_is_incomplete(name: str) -> None:
    events = events_of((FIXTURES / name).read_bytes())
    for cut in range(len(events)):
        with pytest.raises(IncompleteStream) as info:
            accumulate(INPUT_FIXTURES[name], [b"".join(events[:cut])])
        assert info.value.state is not State.DONE


@given(messages_stream(), st.data())
@settings(max_examples=100, deadline=None)
def test_generated_stream_cut_anywhere_is_never_complete(sample: tuple[list[bytes], dict[str, Any]], data: st.DataObject) -> None:
    wire = b"".join(sample[0])
    cut = data.draw(st.integers(0, len(wire) - len(b"event: message_stop\n")))
    with pytest.raises(IncompleteStream):
        accumulate("messages", [wire[:cut]])


def test_data_after_terminal_still_reported() -> None:
    wire = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
    assert isinstance(accumulate("messages", [wire + PING + UNKNOWN]), dict)
    with pytest.raises(UnexpectedEvent):
        accumulate("messages", [wire + SAMPLE[Dialect.MESSAGES]["message_start"]])


def test_tool_input_not_json_is_invalid_payload() -> None:
    events = _messages(
        sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "n", "input": {}}}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"a": '}}),
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
    )
    with pytest.raises(InvalidPayload, match="tool input of block 0"):
        accumulate("messages", [b"".join(events)])


def test_citations_and_thinking_accumulate() -> None:
    citation = {"type": "char_location", "cited_text": "x", "document_index": 0, "start_char_index": 0, "end_char_index": 1}
    events = _messages(
        sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQ="}}),
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "A"}}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": citation}}),
        sse("content_block_stop", {"type": "content_block_stop", "index": 1}),
        sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 9, "input_tokens": 61}}),
        SAMPLE[Dialect.MESSAGES]["message_stop"],
    )
    result = accumulate("messages", [b"".join(events)])
    assert isinstance(result, dict)
    assert result["content"] == [
        {"type": "thinking", "thinking": "hmm", "signature": "EqQ="},
        {"type": "text", "text": "A", "citations": [citation]},
    ]
    assert result["usage"] == {"input_tokens": 61, "output_tokens": 9}  # latest value wins (C6)
    json.dumps(result)
