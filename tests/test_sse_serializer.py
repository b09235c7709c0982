"""SSE serializer: the same case table, round trips, and refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sseadapt import Comment, LocalProtocolError, ServerSentEvent, SSESerializer, UnrepresentableEvent

from .helpers import chunkings, parse_all
from .sse_cases import CASES, Case


def serialize(events: list[ServerSentEvent], line_ending: str = "\n") -> bytes:
    ser = SSESerializer(line_ending=line_ending)  # type: ignore[arg-type]
    return b"".join(ser.send(e) for e in events)


@pytest.mark.parametrize("case", [c for c in CASES if c.canonical], ids=lambda c: c.name)
def test_canonical_case_is_written_byte_for_byte(case: Case) -> None:
    assert serialize(case.events) == case.wire


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_case_round_trips(case: Case, eol: str) -> None:
    wire = serialize(case.events, eol)
    for label, chunks in chunkings(wire):
        assert parse_all(chunks) == case.events, label


def test_crlf_option_replaces_every_lf() -> None:
    events = [ServerSentEvent(event="a", data="x\ny", id="1", retry=5)]
    lf = serialize(events)
    assert serialize(events, "\r\n") == lf.replace(b"\n", b"\r\n")
    assert b"\r" not in lf


def test_comment_is_a_keepalive() -> None:
    ser = SSESerializer()
    assert ser.send(Comment("ping")) == b": ping\n\n"
    assert ser.send(Comment()) == b":\n\n"
    assert parse_all([b": ping\n\n"]) == []


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (ServerSentEvent(event="a\nb", data=""), "event"),
        (ServerSentEvent(event="a\rb", data=""), "event"),
        (ServerSentEvent(event="", data=""), "event"),
        (ServerSentEvent(id="1\n2", data=""), "id"),
        (ServerSentEvent(id="1\x002", data=""), "id"),
        (ServerSentEvent(data="a\rb"), "data"),
        (ServerSentEvent(data="\ud800"), "data"),
        (ServerSentEvent(data="", retry=-1), "retry"),
        # Fields of the wrong type (the tuple does not check them).
        (ServerSentEvent(event=None, data=""), "event"),  # type: ignore[arg-type]
        (ServerSentEvent(event=b"e", data=""), "event"),  # type: ignore[arg-type]
        (ServerSentEvent(id=3, data=""), "id"),  # type: ignore[arg-type]
        (ServerSentEvent(id=None, data=""), "id"),  # type: ignore[arg-type]
        (ServerSentEvent(data=5), "data"),  # type: ignore[arg-type]
        (ServerSentEvent(data=b"x"), "data"),  # type: ignore[arg-type]
        (ServerSentEvent(data=None), "data"),  # type: ignore[arg-type]
        (ServerSentEvent(data="", retry="5"), "retry"),  # type: ignore[arg-type]
        (ServerSentEvent(data="", retry=1.5), "retry"),  # type: ignore[arg-type]
        (ServerSentEvent(data="", retry=True), "retry"),
        # More digits than int -> str converts (a ValueError from the formatting; readers ignore it).
        (ServerSentEvent(data="", retry=10**4300), "retry"),
    ],
)
def test_refuses_unrepresentable(event: ServerSentEvent, field: str) -> None:
    ser = SSESerializer()
    with pytest.raises(UnrepresentableEvent) as info:
        ser.send(event)
    assert info.value.field == field
    # Nothing was written and the serializer still works.
    assert ser.send(ServerSentEvent(data="ok")) == b"data: ok\n\n"


def test_comment_with_line_break_refused() -> None:
    with pytest.raises(UnrepresentableEvent):
        SSESerializer().send(Comment("a\nevent: injected"))


def test_comment_that_is_not_a_str_refused() -> None:
    for text in (5, b"ping", None):
        with pytest.raises(UnrepresentableEvent, match="comment must be a str") as info:
            SSESerializer().send(Comment(text))  # type: ignore[arg-type]
        assert info.value.field == "comment" and info.value.value == text


@pytest.mark.parametrize("thing", ["data: x", b"data: x\n\n", None, ("message", "x", "", None), {"data": "x"}], ids=repr)
def test_send_refuses_what_is_not_an_event(thing: object) -> None:
    ser = SSESerializer()
    ser.send(ServerSentEvent(data="a", id="1"))
    with pytest.raises(LocalProtocolError, match=rf"^send\(\) takes a ServerSentEvent or a Comment, not {type(thing).__name__}$"):
        ser.send(thing)  # type: ignore[arg-type]
    assert ser.send(ServerSentEvent(data="b", id="1")) == b"data: b\n\n"  # the last id kept


def test_bad_line_ending_option() -> None:
    with pytest.raises(ValueError):
        SSESerializer(line_ending="\r")  # type: ignore[arg-type]


_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=30)
_line = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=12)
representable_event = st.builds(
    ServerSentEvent,
    event=_line.filter(bool) | st.just("message"),
    data=_text,
    id=_line.filter(lambda s: "\x00" not in s),
    retry=st.none() | st.integers(0, 10**12),
)


@given(st.lists(representable_event, max_size=8), st.sampled_from(["\n", "\r\n"]))
@settings(max_examples=400)
def test_parse_of_serialize_is_identity(events: list[ServerSentEvent], eol: str) -> None:
    assert parse_all([serialize(events, eol)]) == events
