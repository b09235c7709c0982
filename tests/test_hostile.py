"""Hostile input: nothing an upstream sends can inject lines or events into the output."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sseadapt import (
    SUPPORTED_CONVERSIONS,
    ConversionError,
    Dialect,
    EventTooLarge,
    Pipeline,
    UnknownEvent,
    convert_bytes,
    iter_events,
    make_converter,
)

from .streams import sse

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
