"""SSE parser: the shared case table in every chunking, limits, end of stream, helpers."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sseadapt import (
    NEED_DATA,
    STREAM_END,
    EventTooLarge,
    LocalProtocolError,
    ServerSentEvent,
    SSEParser,
    SSESerializer,
    accumulate,
    aiter_events,
    convert_iter,
    iter_events,
)

from .conformance_adapter import parse as conformance_parse
from .helpers import FIXTURES, chunkings, parse_all
from .sse_cases import CASES, Case
from .sse_reference import reference_events


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_every_chunking(case: Case) -> None:
    for label, chunks in chunkings(case.wire):
        assert parse_all(chunks) == case.events, label
        assert list(iter_events(chunks)) == case.events, ("iter_events", label)


def test_the_reference_reader_agrees_with_the_case_table() -> None:
    # The reader the Hypothesis properties below trust (it also passes the shared corpus).
    assert [reference_events(case.wire) for case in CASES] == [case.events for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_crlf_variant(case: Case) -> None:
    # Swapping LF for CRLF (or CR) never changes the events.
    if b"\r" in case.wire:
        return
    for eol in (b"\r\n", b"\r"):
        wire = case.wire.replace(b"\n", eol)
        for label, chunks in chunkings(wire):
            assert parse_all(chunks) == case.events, (eol, label)
            assert list(iter_events(chunks)) == case.events, ("iter_events", eol, label)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_with_empty_chunks_between_bytes(case: Case) -> None:
    # iter_events holds a line-free chunk without testing it for emptiness,
    # so b"" may sit in the held pieces: events, when they come out and the
    # limit verdict must be as without it.
    for eol in (b"\n", b"\r\n", b"\r"):
        wire = case.wire if eol == b"\n" else case.wire.replace(b"\n", eol)
        if eol != b"\n" and b"\r" in case.wire:
            continue
        chunks = [b""]
        for i in range(len(wire)):
            chunks += [wire[i : i + 1], b""]
        assert list(iter_events(chunks)) == case.events, eol
        assert list(iter_events([b"", b"", wire, b""])) == case.events, eol
        assert_each_event_before_the_next_read(chunks)
        for limit in (1, 5, 12):
            assert_same_limit_verdict(wire, chunks, limit)


@pytest.mark.parametrize(
    "chunks",
    [
        [b"", b"\n\ndata: a\n\n"],
        [b"", b"\n", b"", b"\ndata: a\n\n"],
        [b"data: a\n\n", b"", b"\n", b"", b"\ndata: b\n\n"],
        [b"data: a\n\n", b"", b"\n\n\ndata: b\n", b"", b"\n"],
        [b"data: a\n", b"", b"\n", b"", b"data: b\n\n"],
        [b"data: a\r", b"", b"\n", b"", b"\r\ndata: b\r\n\r\n"],
        [b"data: a\n\n", b"", b"\n", b"data: b", b"cd"],  # the LF must not count towards the limit
    ],
)
def test_iter_events_empty_chunks_around_blank_lines(chunks: list[bytes]) -> None:
    # An empty line starting a block is dropped only when nothing is held:
    # a held b"" must not count as held bytes.
    expected = parse_all([c for c in chunks if c])
    assert expected[0] == ev("a")
    assert list(iter_events(chunks)) == expected
    assert_each_event_before_the_next_read(chunks)
    for limit in range(1, 12):
        assert_same_limit_verdict(b"".join(chunks), chunks, limit)


def test_next_event_signals() -> None:
    parser = SSEParser()
    assert parser.next_event() is NEED_DATA
    parser.receive_data(b"data: a\n")
    assert parser.next_event() is NEED_DATA
    parser.receive_data(b"\n")
    assert parser.next_event() == ServerSentEvent(data="a")
    assert parser.next_event() is NEED_DATA
    parser.receive_data(b"")
    assert parser.next_event() is STREAM_END
    assert parser.next_event() is STREAM_END
    assert parser.discarded_bytes == 0


def test_events_iterator_stopped_early_loses_nothing() -> None:
    parser = SSEParser()
    parser.receive_data(b"data: 1\n\ndata: 2\n\ndata: 3\n\n")
    for event in parser.events():
        assert event.data == "1"
        break
    parser.receive_data(b"data: 4\n\n")
    assert [e.data for e in parser.events()] == ["2", "3", "4"]


def test_discarded_tail_is_reported() -> None:
    parser = SSEParser()
    parser.receive_data(b"data: a\n\nevent: x\ndata: partial")
    parser.receive_data(b"")
    assert [e.data for e in parser.events()] == ["a"]
    assert parser.discarded_bytes == len(b"event: x\ndata: partial")


def test_data_after_end_is_local_error() -> None:
    parser = SSEParser()
    parser.receive_data(b"")
    parser.receive_data(b"")  # a second end is harmless
    with pytest.raises(LocalProtocolError, match="after end of stream"):
        parser.receive_data(b"data: x\n\n")


@pytest.mark.parametrize("late", [b"data: x\n\n", b"data: x\r\n\r\n", b"x", b"data: x\n"])
def test_data_after_end_is_local_error_after_events(late: bytes) -> None:
    # After chunks receive_data takes on its own (past the stream's first bytes).
    parser = SSEParser()
    for chunk in [b"data: a\n\n", b"data: b\n\n", b"data: c\r\n\r\n", b"data: "]:
        parser.receive_data(chunk)
    parser.receive_data(b"")
    assert [e.data for e in parser.events()] == ["a", "b", "c"]
    with pytest.raises(LocalProtocolError, match="after end of stream"):
        parser.receive_data(late)
    assert list(parser.events()) == [] and parser.next_event() is STREAM_END


def test_crlf_split_across_chunks_is_one_line_break() -> None:
    # "data: a\r" | "\n" | "\r\n": a CRLF split over chunks, then a blank line.
    assert parse_all([b"data: a\r", b"\n", b"\r\n"]) == [ServerSentEvent(data="a")]
    # A CR at a chunk end followed by a non-LF byte.
    assert parse_all([b"data: a\r", b"data: b\r\r"]) == [ServerSentEvent(data="a\nb")]


def test_retry_of_as_many_digits_as_int_converts_is_taken() -> None:
    # (The table has 4301 digits, ignored; every split point of this one is slow to convert.)
    wire = b"retry: " + b"7" * 4300 + b"\ndata: a\n\n"
    expected = [ServerSentEvent(data="a", retry=int("7" * 4300))]
    assert parse_all([wire]) == parse_all([wire[i : i + 1] for i in range(len(wire))]) == expected
    assert list(iter_events([wire])) == reference_events(wire) == expected
    assert SSESerializer().send(expected[0]) == wire


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
@pytest.mark.parametrize("reader", ["class", "iter_events"])
def test_distinct_long_event_names_are_not_kept(line_end: bytes, reader: str) -> None:
    # The name caches kept up to 256 lines of any length: 300 events with distinct
    # 100 KB names held ~51 MB, where each event is 100 KB. (Allocations, not time.)
    size, count = 100_000, 300

    def chunks() -> Iterator[bytes]:
        for i in range(count):
            yield b"event: " + b"%06d" % i * (size // 6) + line_end + b"data: x" + line_end * 2

    tracemalloc.start()
    try:
        if reader == "class":
            parser = SSEParser()
            seen = 0
            for chunk in chunks():
                parser.receive_data(chunk)
                seen += sum(1 for _ in parser.events())
        else:
            seen = sum(1 for _ in iter_events(chunks()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == count
    assert peak < 20 * size, peak  # measured 5-7x; a few events' worth (the chunk, its lines, the name), not 256 names


def test_utf8_split_across_chunks() -> None:
    wire = "data: 👋é\n\n".encode()
    for label, chunks in chunkings(wire):
        assert parse_all(chunks) == [ServerSentEvent(data="👋é")], label


def test_bom_split_across_chunks() -> None:
    assert parse_all([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [ServerSentEvent(data="x")]
    # A stream that is only part of a BOM yields nothing and ends cleanly.
    assert parse_all([b"\xef\xbb"]) == []


class TestMaxEventSize:
    def test_event_over_limit_raises_after_earlier_events(self) -> None:
        wire = b"data: ok\n\ndata: " + b"x" * 100 + b"\n\ndata: after\n\n"
        for label, chunks in chunkings(wire):
            parser = SSEParser(max_event_size=50)
            got: list[ServerSentEvent] = []
            with pytest.raises(EventTooLarge) as info:
                for chunk in chunks:
                    parser.receive_data(chunk)
                    got.extend(parser.events())
            assert got == [ServerSentEvent(data="ok")], label
            assert info.value.limit == 50
            assert info.value.size > 50
            assert info.value.event_index == 1
            # Sticky: the error is raised again.
            with pytest.raises(EventTooLarge):
                parser.next_event()

    def test_limit_counts_all_lines_of_the_event(self) -> None:
        # 3 lines of 20 bytes and the 2 line breaks between them: a 62-byte event.
        wire = (b"data: " + b"y" * 14 + b"\n") * 3 + b"\n"
        for label, chunks in chunkings(wire) :
            for w, chs in ((wire, chunks), (wire.replace(b"\n", b"\r\n"), None)):
                chs = chs or [w]
                with pytest.raises(EventTooLarge):
                    parse_all(chs, max_event_size=61)
                assert parse_all(chs, max_event_size=62) == [ServerSentEvent(data="\n".join(["y" * 14] * 3))], label

    def test_long_comment_line_counts(self) -> None:
        wire = b": " + b"c" * 200 + b"\ndata: x\n\n"
        for label, chunks in [("whole", [wire]), ("bytes", [wire[i : i + 1] for i in range(len(wire))])]:
            with pytest.raises(EventTooLarge):
                parse_all(chunks, max_event_size=100)

    def test_buffer_never_holds_more_than_the_limit(self) -> None:
        parser = SSEParser(max_event_size=1000)
        with pytest.raises(EventTooLarge):
            for _ in range(10_000):
                parser.receive_data(b"x" * 7)
                parser.next_event()
        # The parser stopped buffering: the error was found within the limit.
        assert parser.bytes_received <= 1000 + 7

    def test_exactly_at_limit_is_fine(self) -> None:
        wire = b"data: " + b"z" * 44 + b"\n\n"  # a 50-byte line
        for label, chunks in chunkings(wire):
            assert parse_all(chunks, max_event_size=50) == [ServerSentEvent(data="z" * 44)], label

    def test_events_queued_before_an_oversized_tail_are_kept(self) -> None:
        # A large chunk is dispatched lazily; an oversized line fed before the
        # events are taken must not lose them: they come first, then the error.
        events = b"".join(b"data: %d\n\n" % i for i in range(20000))
        parser = SSEParser(max_event_size=len(events) + 10)
        parser.receive_data(events)
        parser.receive_data(b"x" * (len(events) + 20))
        got: list[ServerSentEvent] = []
        with pytest.raises(EventTooLarge):
            while isinstance(event := parser.next_event(), ServerSentEvent):
                got.append(event)
        assert [e.data for e in got] == [str(i) for i in range(20000)]

    def test_invalid_limit(self) -> None:
        for bad in (0, -1):
            with pytest.raises(ValueError, match="must be positive"):
                SSEParser(max_event_size=bad)
        for wrong in ("5", 5.5, True, None):
            with pytest.raises(TypeError, match=f"max_event_size must be an int, not {type(wrong).__name__}"):
                SSEParser(max_event_size=wrong)  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                list(iter_events([b"data: a\n\n"], max_event_size=wrong))  # type: ignore[arg-type]


def test_long_line_in_small_chunks_is_not_rescanned() -> None:
    # 4 MiB line in 7-byte chunks: the parser keeps pieces and joins once.
    # Checked structurally (no timing): pieces are held, not concatenated.
    parser = SSEParser()
    piece = b"a" * 7
    parser.receive_data(b"data: ")
    for _ in range(1000):
        parser.receive_data(piece)
    assert len(parser._pending) == 1001  # each chunk kept as its own piece
    parser.receive_data(b"\n\n")
    assert parser.next_event() == ServerSentEvent(data="a" * 7000)
    assert parser._pending == []


# -- Hypothesis properties -----------------------------------------------

_wire_alphabet = st.sampled_from(
    [b"data", b"event", b"id", b"retry", b":", b" ", b"\n", b"\r", b"\r\n", b"x", b"1", b"\x00", b"\xef\xbb\xbf", b"\xc3", b"\xa9", b"\xff", "é".encode(), b"[DONE]"]
)
wire_bytes = st.lists(_wire_alphabet, max_size=60).map(b"".join) | st.binary(max_size=200)


@st.composite
def wire_and_cuts(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    wire = draw(wire_bytes)
    cuts = sorted(draw(st.lists(st.integers(0, len(wire)), max_size=12)))
    chunks, prev = [], 0
    for cut in cuts + [len(wire)]:
        chunks.append(wire[prev:cut])
        prev = cut
    return wire, chunks


@given(wire_and_cuts())
@settings(max_examples=500)
def test_any_chunking_gives_the_same_events(sample: tuple[bytes, list[bytes]]) -> None:
    wire, chunks = sample
    assert parse_all(chunks) == parse_all([wire])


@given(wire_and_cuts())
@settings(max_examples=500)
def test_iter_events_matches_the_parser_for_any_chunking(sample: tuple[bytes, list[bytes]]) -> None:
    # iter_events holds some chunks without calling the parser; same events.
    wire, chunks = sample
    assert list(iter_events(chunks)) == parse_all([wire])


@given(wire_and_cuts())
@settings(max_examples=500)
def test_any_chunking_reads_as_an_independent_reading_of_the_spec(sample: tuple[bytes, list[bytes]]) -> None:
    # The properties above compare the parser with itself; this one with tests/sse_reference.py.
    wire, chunks = sample
    expected = reference_events(wire)
    assert parse_all(chunks) == expected
    assert list(iter_events(chunks)) == expected


@given(wire_and_cuts(), st.integers(1, 64))
@settings(max_examples=300)
def test_any_chunking_gives_the_same_limit_verdict(sample: tuple[bytes, list[bytes]], limit: int) -> None:
    wire, chunks = sample

    def outcome(chs: list[bytes]) -> object:
        try:
            return parse_all(chs, max_event_size=limit)
        except EventTooLarge as exc:
            return ("too large", exc.event_index)

    assert outcome(chunks) == outcome([wire])


@given(wire_and_cuts(), st.integers(1, 64))
@settings(max_examples=300)
def test_iter_events_gives_the_same_limit_verdict(sample: tuple[bytes, list[bytes]], limit: int) -> None:
    # iter_events' own holding must stop at the same event, with the same index.
    assert_same_limit_verdict(*sample, limit)


def assert_same_limit_verdict(wire: bytes, chunks: list[bytes], limit: int) -> None:
    """iter_events over ``chunks`` ends as the parser fed the same chunks does
    (the size is where it was noticed), with the whole stream's verdict."""
    got = limit_outcome(iter_events(chunks, max_event_size=limit))
    assert got == limit_outcome(SSEParser_events(chunks, limit))
    whole = limit_outcome(SSEParser_events([wire], limit))
    assert got[:3] == whole[:3] if isinstance(whole, tuple) else got == whole


def limit_outcome(events: Iterable[ServerSentEvent]) -> tuple[list[ServerSentEvent], str, int | None, int] | list[ServerSentEvent]:
    """The events up to a size error and the error's verdict, or all events."""
    got: list[ServerSentEvent] = []
    try:
        got.extend(events)
    except EventTooLarge as exc:
        return (got, "too large", exc.event_index, exc.size)
    return got


def SSEParser_events(chunks: list[bytes], limit: int) -> Iterator[ServerSentEvent]:
    parser = SSEParser(max_event_size=limit)
    for chunk in chunks:
        if chunk:
            parser.receive_data(chunk)
            yield from parser.events()
    parser.receive_data(b"")
    yield from parser.events()


# Streams shaped like real ones (the parser's fast paths take whole runs of
# `event: N` + `data: X` or `data: X` blocks, CRLF kept as is) mixed with
# every other shape, in every line ending, checked against one byte at a time
# (which never takes a fast path).

_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12)
_value = _text.map(str.encode) | st.sampled_from([b"\xff", b"\xc3", b"{}", b"[DONE]", b"", b" x"])
_name = st.sampled_from([b"completion", b"ping", b"content_block_delta", b"", b"caf\xc3\xa9", b"\xff"])
_block = st.one_of(
    st.tuples(_name, _value).map(lambda nv: [b"event: " + nv[0], b"data: " + nv[1]]),
    _value.map(lambda v: [b"data: " + v]),
    st.tuples(_name, _value, _value).map(lambda nv: [b"event: " + nv[0], b"data: " + nv[1], b"data: " + nv[2]]),
    st.tuples(_value, _value).map(lambda iv: [b"id: " + iv[0], b"data: " + iv[1]]),
    st.tuples(_name, _value).map(lambda nv: [b"event:" + nv[0], b"data:" + nv[1]]),
    _value.map(lambda v: [b": " + v]),
    _name.map(lambda n: [b"event: " + n]),
    st.integers(600, 3000).map(lambda n: [b"data: " + b"y" * n]),
    st.tuples(st.integers(600, 3000), _name).map(lambda nn: [b"event: " + nn[1], b"data: " + b"z" * nn[0]]),
    st.lists(_value.map(lambda v: b"data: " + v), min_size=2, max_size=8),
    st.lists(st.integers(100, 1500).map(lambda n: b"data: " + b"w" * n), min_size=2, max_size=6),
)
_eol = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def shaped_stream(draw: st.DrawFn) -> bytes:
    blocks = draw(st.lists(_block, max_size=40))
    mixed = draw(st.booleans())
    stream_eol = draw(_eol)
    empty_lines = [b""] * draw(st.sampled_from([1, 1, 1, 2, 3]))  # a blank line, or more
    out = []
    for lines in blocks:
        for line in lines + empty_lines:
            out.append(line + (draw(_eol) if mixed else stream_eol))
    out.append(draw(st.sampled_from([b"", b"data: unterminated", b"event: x\n", b"\r"])))
    return b"".join(out)


@st.composite
def shaped_stream_and_cuts(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    wire = draw(shaped_stream())
    size = draw(st.sampled_from([0, -1, -2, 1, 3, 7, 64, 255, 256, 1000, 4096]))
    if size > 0:
        return wire, [wire[i : i + size] for i in range(0, len(wire), size)]
    if size == -2:
        # A chunk per event, as a server's writes arrive: cut after every blank line.
        cuts = [i for i in range(2, len(wire) + 1) if wire[i - 2 : i] in (b"\n\n", b"\r\r") or wire[i - 4 : i] == b"\r\n\r\n"]
    elif size < 0:
        # Each chunk starts with a line break: the held state turns between
        # the line breaks of a blank line or of empty lines.
        cuts = [i for i, byte in enumerate(wire) if byte in b"\r\n"]
    else:
        cuts = sorted(draw(st.lists(st.integers(0, len(wire)), max_size=12)))
    return wire, [wire[a:b] for a, b in zip([0] + cuts, cuts + [len(wire)])]


@given(shaped_stream_and_cuts(), st.integers(200, 4000))
@settings(max_examples=300, deadline=None)
def test_shaped_streams_limit_verdict(sample: tuple[bytes, list[bytes]], limit: int) -> None:
    # Long events in network-sized chunks take iter_events' own paths for
    # chunks inside a long event; they must stop where the parser stops.
    assert_same_limit_verdict(*sample, limit)


@st.composite
def shaped_stream_cuts_and_a_limit_at_an_event(draw: st.DrawFn) -> tuple[bytes, list[bytes], int]:
    """A limit at (or one byte either side of) the size of one of the stream's
    events: where the verdict turns on the last byte counted."""
    wire, chunks = draw(shaped_stream_and_cuts())
    lf = wire.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    sizes = [len(block.strip(b"\n")) for block in lf.split(b"\n\n") if block.strip(b"\n")]
    if draw(st.booleans()):  # empty chunks here and there
        chunks = [piece for chunk in chunks for piece in ([chunk, b""] if draw(st.booleans()) else [chunk])]
    limit = max(1, draw(st.sampled_from(sizes or [1])) + draw(st.sampled_from([-1, 0, 1])))
    return wire, chunks, limit


@given(shaped_stream_cuts_and_a_limit_at_an_event())
@settings(max_examples=300, deadline=None)
def test_shaped_streams_limit_verdict_at_an_event_size(sample: tuple[bytes, list[bytes], int]) -> None:
    assert_same_limit_verdict(*sample)


@given(shaped_stream_and_cuts())
@settings(max_examples=400, deadline=None)
def test_shaped_streams_any_chunking(sample: tuple[bytes, list[bytes]]) -> None:
    wire, chunks = sample
    reference = parse_all([wire[i : i + 1] for i in range(len(wire))])
    assert parse_all(chunks) == reference
    assert list(iter_events(chunks)) == reference


@given(shaped_stream_and_cuts())
@settings(max_examples=400, deadline=None)
def test_shaped_streams_read_as_an_independent_reading_of_the_spec(sample: tuple[bytes, list[bytes]]) -> None:
    # The fast paths (shaped blocks, long lines, CRLF, one event per chunk) against tests/sse_reference.py.
    wire, chunks = sample
    expected = reference_events(wire)
    assert parse_all(chunks) == expected
    assert list(iter_events(chunks)) == expected


@given(shaped_stream(), st.sampled_from([16, 100, 700]))
@settings(max_examples=200, deadline=None)
def test_large_chunks_dispatched_in_windows(wire: bytes, window: int) -> None:
    # A chunk larger than the window is dispatched a window at a time as
    # events are taken; a small window makes every stream take that path.
    import sseadapt._sse as sse

    old = sse._WINDOW
    sse._WINDOW = window  # type: ignore[misc]  # (a Final the test shrinks, then restores)
    try:
        reference = parse_all([wire[i : i + 1] for i in range(len(wire))])
        # Chunks that receive_data takes itself once the parser is past its
        # first bytes; while windows are pending they must queue behind them.
        later = [b"data: after\n\n", b"data: crlf\r\n\r\n", b"data: li", b"ne\n\n"]
        for warm_up in ([], [b"data: first\n\n"]):
            parser = SSEParser()
            for chunk in warm_up + [wire]:
                if chunk:
                    parser.receive_data(chunk)
            first = parser.next_event()  # lazily: later windows not yet dispatched
            for chunk in later:
                parser.receive_data(chunk)
            rest = list(parser.events())
            parser.receive_data(b"")
            got = ([first] if isinstance(first, ServerSentEvent) else []) + rest + list(parser.events())
            whole = b"".join(warm_up + [wire] + later)
            assert got == parse_all([whole[i : i + 1] for i in range(len(whole))])
        assert list(iter_events([wire])) == reference
    finally:
        sse._WINDOW = old  # type: ignore[misc]


@given(wire_bytes)
@settings(max_examples=300)
def test_matches_conformance_adapter(wire: bytes) -> None:
    # The adapter the shared corpus runs is the same parser seen through dicts.
    assert [
        {"event": e.event, "data": e.data, "id": e.id, "retry": e.retry} for e in parse_all([wire])
    ] == conformance_parse([wire])


# -- shared fixtures -------------------------------------------------------

FIXTURE_FILES = sorted(FIXTURES.glob("*.sse")) + sorted((FIXTURES / "expected").glob("*.sse"))


def _reference_blocks(text: str) -> list[tuple[str, str]]:
    """A deliberately simple reader for the fixtures' regular shape (LF, one data line)."""
    events = []
    for block in text.split("\n\n"):
        if not block:
            continue
        name, data = "message", None
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data = value
        assert data is not None, block
        events.append((name, data))
    return events


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_parses_to_its_events(path) -> None:  # type: ignore[no-untyped-def]
    raw = path.read_bytes()
    expected = _reference_blocks(raw.decode())
    assert expected, "fixture has events"
    for variant in (raw, raw.replace(b"\n", b"\r\n")):
        for size in (1, 7, 4096, len(variant)):
            chunks = [variant[i : i + size] for i in range(0, len(variant), size)]
            got = parse_all(chunks)
            assert [(e.event, e.data) for e in got] == expected
    for _, data in expected:
        if data != "[DONE]":
            json.loads(data)


# -- iteration helpers -----------------------------------------------------


def test_iter_events_skips_empty_chunks() -> None:
    chunks = [b"data: a", b"", b"\n\n", b"", b"data: b\n\n"]
    assert [e.data for e in iter_events(chunks)] == ["a", "b"]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_aiter_events_on_both_backends(anyio_backend: str) -> None:
    closed = []

    async def source() -> AsyncIterator[bytes]:
        try:
            for chunk in (b"data: a\n", b"\n", b"data: b\n\n", b"data: c\n\n"):
                yield chunk
        finally:
            closed.append(True)

    got = []
    agen = aiter_events(source())
    async for event in agen:
        got.append(event.data)
        if len(got) == 2:
            break
    await agen.aclose()  # type: ignore[attr-defined]
    assert got == ["a", "b"]
    assert closed == [True]


def test_long_lines_then_an_extra_blank_line() -> None:
    # Found by Hypothesis: a run of long-line blocks ending in three LFs (a
    # blank line, then an empty line) once sent the long-line splitter round
    # forever.
    long_y, long_z = b"data: " + b"y" * 700, b"data: " + b"z" * 700
    wire = b"data: a\n\n" + long_y + b"\n\n" + long_z + b"\n\n\ndata: x"
    expected = [ev("a"), ev("y" * 700), ev("z" * 700)]
    for chunks in ([wire], [wire[:3], wire[3:]], [wire[:-3], wire[-3:]]):
        assert parse_all(chunks) == expected
        assert list(iter_events(chunks)) == expected


def ev(data: str) -> ServerSentEvent:
    return ServerSentEvent(data=data)


_LONG = b"data: " + b"a" * 600
_LIMIT_CASES = {
    # iter_events holds a network read inside a long event itself...
    "read with a line break inside a long event": [b"data: ", b"a" * 600, b"a\ndata: " + b"b" * 500],
    # ...closes the long event and holds the rest of the read...
    "read closing a long event, rest too long": [_LONG, b"\n\ndata: " + b"c" * 1200],
    "read of short events, rest too long": [b"data: x", b"\n\ndata: " + b"e" * 1200],
    "CRLF read, rest too long": [b"data: x", b"\r\n\r\ndata: " + b"f" * 1200],
    # ...and takes the LF of a CRLF split across reads before holding.
    "CR ending a read, then a long line": [b"data: x", b"\r", b"\n" + b"d" * 1200],
    "CR ending a read, then a long read without a line break": [b"data: x", b"\r", b"\n", b"d" * 1200],
}


@pytest.mark.parametrize("chunks", _LIMIT_CASES.values(), ids=_LIMIT_CASES.keys())
def test_iter_events_own_paths_stop_at_the_limit(chunks: list[bytes]) -> None:
    got = limit_outcome(iter_events(chunks, max_event_size=1000))
    assert isinstance(got, tuple), got  # every case crosses the limit
    assert got == limit_outcome(SSEParser_events(chunks, 1000))


@pytest.mark.parametrize(
    ("wire", "limit", "events"),
    [
        (b"\n\n:\n\n\n", 1, []),  # found by Hypothesis: the whole stream said "too large"
        (b"data: abcd\n\n\ndata: efgh\n\n\n", 10, [ev("abcd"), ev("efgh")]),
        (b"\n\n\ndata: abcd\n\n", 10, [ev("abcd")]),
        (b"data: abcd\r\n\r\n\r\ndata: efgh\r\n\r\n", 10, [ev("abcd"), ev("efgh")]),
    ],
)
def test_empty_lines_next_to_an_event_are_not_part_of_it(wire: bytes, limit: int, events: list[ServerSentEvent]) -> None:
    # Each event is exactly at the limit; an empty line before or after it
    # must not push it over, whatever the chunking.
    assert parse_all([wire], max_event_size=limit) == events
    for cut in range(len(wire) + 1):
        chunks = [wire[:cut], wire[cut:]]
        assert parse_all(chunks, max_event_size=limit) == events, cut
        assert list(iter_events(chunks, max_event_size=limit)) == events, cut
    assert parse_all([wire[i : i + 1] for i in range(len(wire))], max_event_size=limit) == events


def test_long_read_starting_with_an_empty_line() -> None:
    # A network read with no blank line, after a complete event, starting with
    # an empty line: the event it starts is exactly at the limit (iter_events
    # once held the read with its LF and called the event too large).
    long = b"data: " + b"x" * 300
    for head in ([b"data: a\n\n"], [b"data: a\n\n", b""], [b": c\n", b"\n"]):
        chunks = head + [b"\n" + long, b"\n\n"]
        assert list(iter_events(chunks, max_event_size=len(long)))[-1] == ev("x" * 300)
        for limit in (len(long) - 1, len(long), len(long) + 1):
            assert_same_limit_verdict(b"".join(chunks), chunks, limit)


def test_crlf_run_with_an_lf_event_line_and_a_lone_cr() -> None:
    # An "event: X" line ending in LF, cached from an earlier LF event, once
    # passed as a CRLF line inside a CRLF run; the CR count still matched
    # because the data line ended with two CRs, and "a\r" came out as data.
    warm = b"event: X\ndata: w\n\n"
    tricky = b"event: X\r\ndata: p\r\n\r\n" + b"event: X\ndata: a\r\r\n\r\n" + b"event: X\r\ndata: q\r\n\r\n"
    expected = [ServerSentEvent(event="X", data=data) for data in ("w", "p", "a", "q")]
    assert parse_all([warm, tricky]) == expected
    assert list(iter_events([warm, tricky])) == expected
    assert parse_all([warm] + [tricky[i : i + 1] for i in range(len(tricky))]) == expected


@pytest.mark.parametrize(
    "chunks",
    [
        [b"data: a\n", b"\n", b"data: b\n\n", b"data: c\n\n"],  # small chunks, handled inline
        [b"data: " + b"x" * 300 + b"\n\n" + b"data: y", b"\n\ndata: " + b"z" * 300 + b"\n\n"],  # reads of short events
        [b"data: " + b"x" * 700, b"\n\ndata: " + b"y" * 300, b"\n\n"],  # reads inside long events
        [b"data: a\r\n\r\n", b"data: b\r\n\r\n"],  # CRLF, through the parser
    ],
)
def test_iter_events_yields_each_event_before_reading_on(chunks: list[bytes]) -> None:
    assert_each_event_before_the_next_read(chunks)


def assert_each_event_before_the_next_read(chunks: list[bytes]) -> None:
    """A stream's next read may block: every event a chunk completes must come
    out of iter_events before the next chunk is asked for."""
    pulled = 0

    def source() -> Iterator[bytes]:
        nonlocal pulled
        for chunk in chunks:
            pulled += 1
            yield chunk

    expected = parse_all(chunks)
    got = []
    for event in iter_events(source()):
        got.append(event)
        # The events completed by the chunks pulled so far are all out.
        assert len(got) <= len(parse_all(chunks[:pulled]))
        assert len(parse_all(chunks[: pulled - 1])) < len(got)
    assert got == expected


def test_crlf_reads_taken_by_iter_events() -> None:
    # CRLF network reads: head and tail normalised, the run between kept in
    # CRLF, including a block of another shape, a read ending inside a CRLF
    # and a lone CR (left to the parser).
    blocks = [b"event: e%d\r\ndata: hello %d\r\n\r\n" % (i % 3, i) for i in range(60)]
    blocks[20] = b"id: 7\r\ndata: other shape\r\n\r\n"
    blocks[40] = b"data: lone\rCR\r\n\r\n"
    wire = b"".join(blocks)
    expected = parse_all([wire[i : i + 1] for i in range(len(wire))])
    # The lone CR ends a line: "CR" is then a field line without a colon, ignored.
    assert len(expected) == 60 and expected[40].data == "lone" and expected[20].id == "7"
    for size in (256, 300, 333, 1000):
        chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
        assert list(iter_events(chunks)) == expected, size
    cut = wire.index(b"\r\n", 500) + 1  # a read ending between CR and LF
    chunks = [wire[:cut], wire[cut : cut + 400], wire[cut + 400 :]]
    assert list(iter_events(chunks)) == expected


def test_crlf_runs_with_other_line_ends_in_the_usual_shape() -> None:
    # A CRLF run is split by splitlines() for its usual case, where a lone CR
    # or LF ends a line too; the run is still dispatched as the stream says.
    blocks = [b"event: e\r\ndata: %d\r\n\r\n" % i for i in range(40)]
    blocks[5] = b"event: e\rdata: lone CR\r\n\r\n"
    blocks[9] = b"event: e\ndata: lone LF\r\n\r\n"
    blocks[13] = b"event: e\r\ndata: ends with CR\r\r\n"  # the CR ends the data line, the CRLF is the blank line
    blocks[17] = b"event: e\r\ndata: x\ry\r\n\r\n"  # "y" is a field line of its own (ignored)
    wire = b": hi\r\n" + b"".join(blocks)
    expected = parse_all([wire[i : i + 1] for i in range(len(wire))])
    assert [expected[i].data for i in (5, 9, 13, 17)] == ["lone CR", "lone LF", "ends with CR", "x"]
    for size in (256, 700, 4096, len(wire)):
        chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
        assert list(iter_events(chunks)) == expected, size
        assert parse_all(chunks) == expected, size


_CRLF_RUN = b"".join(b"event: e\r\ndata: %d\r\n\r\n" % i for i in range(20))  # a network read of short events
# (Each case starts with a comment read: iter_events takes reads itself only
# once the parser has seen the stream's start, which may hold a BOM.)
_CRLF_TAILS = {
    # iter_events holds the end of a CRLF read as received when it holds no
    # blank line in any form, and joins the next read to it...
    "CRLF split between reads": [b": hi\r\n", _CRLF_RUN + b"data: a\r", b"\ndata: b\r\n\r\n" + _CRLF_RUN + b"data: c\r", b"\n\r\n"],
    "tail of whole lines": [b": hi\r\n", _CRLF_RUN + b"event: x\r\nid: 3\r\n", b"data: c\r\n\r\n" + _CRLF_RUN],
    "blank line split between reads": [b": hi\r\n", _CRLF_RUN + b"data: a\r\n\r", b"\n" + _CRLF_RUN + b"data: b\r\n", b"\r\n"],
    "next read without a blank line": [b": hi\r\n", _CRLF_RUN + b"data: a", b"bc", b"d\r\n\r\n" + _CRLF_RUN],
    "next read in LF": [b": hi\r\n", _CRLF_RUN + b"data: a", b"b\n\ndata: c\n\n"],
    "next read with a lone CR": [b": hi\r\n", _CRLF_RUN + b"data: a", b"b\rc\r\n\r\n" + _CRLF_RUN],
    "stream ends inside the held tail": [b": hi\r\n", _CRLF_RUN + b"data: never dispatched\r"],
    # ...and leaves any other to the parser.
    "tail ending with an empty line by CR": [b": hi\r\n", _CRLF_RUN + b"data: a\r\n\r", b"data: b\r\n\r\n"],
    "tail with a lone LF": [b": hi\r\n", _CRLF_RUN + b"data: a\ndata: b", b"\r\n\r\n"],
    "tail with a lone CR": [b": hi\r\n", _CRLF_RUN + b"data: a\rb", b"\r\n\r\n"],
    "tail with two lone LFs": [b": hi\r\n", _CRLF_RUN + b"data: a\n\ndata: b", b"\r\n\r\n"],
    "tail starting with an empty line": [b": hi\r\n", _CRLF_RUN + b"\r\ndata: a", b"\r\n\r\n"],
}


@pytest.mark.parametrize("chunks", _CRLF_TAILS.values(), ids=_CRLF_TAILS.keys())
def test_crlf_read_tails(chunks: list[bytes]) -> None:
    wire = b"".join(chunks)
    assert list(iter_events(chunks)) == parse_all([wire[i : i + 1] for i in range(len(wire))])
    assert_each_event_before_the_next_read(chunks)


@pytest.mark.parametrize(
    "chunks",
    [
        # The held tail, within the limit in CRLF, grows past it.
        [b": hi\r\n", _CRLF_RUN + b"data: " + b"f" * 300, b"f" * 800 + b"\r\n\r\n"],
        [b": hi\r\n", _CRLF_RUN + b"data: " + b"f" * 300, b"f" * 800, b"\r\n\r\n"],
        # A tail over the limit in CRLF but within it in LF (959 bytes).
        [b": hi\r\n", _CRLF_RUN + b"data: a\r\n" * 119 + b"data: a", b"\r\n\r\n"],
        [b": hi\r\n", _CRLF_RUN + b"data: a\r\n" * 119 + b"data: a", b"b\r\n\r\n"],
    ],
)
def test_crlf_read_tails_at_the_limit(chunks: list[bytes]) -> None:
    assert_same_limit_verdict(b"".join(chunks), chunks, 959)


_crlf_block = st.one_of(
    st.tuples(_name, _value).map(lambda nv: b"event: " + nv[0] + b"\r\ndata: " + nv[1] + b"\r\n\r\n"),
    _value.map(lambda v: b"data: " + v + b"\r\n\r\n"),
    st.sampled_from([b"id: 1\r\ndata: x\r\n\r\n", b"data: a\rb\r\n\r\n", b"data: c\n\n", b"\r\n", b": c\r\n\r\n", b"data: d\r\n\r\r\n"]),
)


@given(st.lists(_crlf_block, min_size=1, max_size=120).map(b"".join), st.integers(256, 1500), st.integers(0, 255))
@settings(max_examples=300, deadline=None)
def test_crlf_reads_any_size(wire: bytes, size: int, offset: int) -> None:
    # Mostly well-formed CRLF streams in network-sized reads (iter_events'
    # CRLF read path), with the odd block that must send a read to the parser.
    chunks = [wire[:offset]] + [wire[i : i + size] for i in range(offset, len(wire), size)]
    assert list(iter_events(chunks)) == parse_all([wire[i : i + 1] for i in range(len(wire))])


_crlf_long_block = st.integers(100, 1500).map(lambda n: b"data: " + b"q" * n + b"\r\n\r\n")


@given(
    st.lists(_crlf_block | _crlf_long_block, min_size=1, max_size=60).map(b"".join),
    st.integers(256, 1500),
    st.integers(0, 255),
    st.integers(100, 1600),
)
@settings(max_examples=300, deadline=None)
def test_crlf_reads_limit_verdict(wire: bytes, size: int, offset: int, limit: int) -> None:
    # CRLF reads with events near the limit: iter_events' held tails (as
    # received, or handed back to the parser) must stop where the parser does.
    chunks = [wire[:offset]] + [wire[i : i + size] for i in range(offset, len(wire), size)]
    assert_same_limit_verdict(wire, chunks, limit)


def test_crlf_run_with_two_crs_in_one_line_and_none_in_another() -> None:
    # Found by Hypothesis: the region's CR count matched its line count, so
    # the walk trusted each line's last CR; "data: a\rb" ends a line at the
    # first CR ("b" is then a field line, ignored), and "data: c" ends in LF.
    wire = b"event: completion\r\ndata: \r\n\r\ndata: a\rb\r\n\r\ndata: c\n\ndata: a\rb\r\n\r\n"
    expected = [
        ServerSentEvent(event="completion", data=""),
        ServerSentEvent(data="a"),
        ServerSentEvent(data="c"),
        ServerSentEvent(data="a"),
    ]
    assert parse_all([wire]) == expected
    assert list(iter_events([wire])) == expected
    assert parse_all([wire[i : i + 1] for i in range(len(wire))]) == expected


# A chunk per event (how a server's writes usually arrive): iter_events and
# the parser's receive_data dispatch such chunks themselves.
_EVENT_CHUNKS = [
    b"data: a\n\n",
    b"data: abc\n\n",
    b"event: x\ndata: a\n\n",
    b"event: x\ndata: abcdef\n\n",
    b"event: x\ndata: \xe2\x82\xac \xff\n\n",
    b"data: " + b"q" * 300 + b"\n\n",
    b"event: x\ndata: " + b"r" * 700 + b"\n\n",
    b"data: " + b"s" * 299 + b"\n\n",
]


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("at", range(len(_EVENT_CHUNKS)))
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_a_chunk_per_event_at_the_limit(crlf: bool, at: int, delta: int) -> None:
    chunks = [c.replace(b"\n", b"\r\n") for c in _EVENT_CHUNKS] if crlf else list(_EVENT_CHUNKS)
    limit = len(_EVENT_CHUNKS[at]) - 2 + delta  # the event's size (its line breaks one byte each)
    assert_same_limit_verdict(b"".join(chunks), chunks, limit)
    got = limit_outcome(iter_events(chunks, max_event_size=limit))
    fits = [len(c) - 2 <= limit for c in _EVENT_CHUNKS]
    if all(fits):
        assert isinstance(got, list) and [e.data for e in got][-1].startswith("s")
    else:
        assert isinstance(got, tuple) and got[2] == fits.index(False)


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_a_chunk_per_event_gives_the_events(crlf: bool) -> None:
    chunks = [c.replace(b"\n", b"\r\n") for c in _EVENT_CHUNKS] if crlf else list(_EVENT_CHUNKS)
    expected = [
        ev("a"),
        ev("abc"),
        ServerSentEvent("x", "a"),
        ServerSentEvent("x", "abcdef"),
        ServerSentEvent("x", "€ \ufffd"),
        ev("q" * 300),
        ServerSentEvent("x", "r" * 700),
        ev("s" * 299),
    ]
    assert list(iter_events(chunks)) == expected
    assert parse_all(chunks) == expected
    # Twice over: the second time round every event name is cached.
    assert list(iter_events(chunks * 2)) == expected * 2
    assert parse_all(chunks * 2) == expected * 2


@pytest.mark.parametrize(
    "chunk",
    [
        b"data: a\rb\r\n\r\n",  # a lone CR ends a line
        b"event: x\r\ndata: a\rb\r\n\r\n",
        b"data: a\rb\n\n",
        b"event: x\ndata: a\n\r\n",  # LF then CRLF
        b"event: x\r\ndata: a\n\n",  # CRLF then LF
        b"data: a\r\n\n",
        b"data: a\n\r\n\r\n",
        b"event: x\ndata: a\ndata: b\n\n",
        b"event: x\r\ndata: a\r\ndata: b\r\n\r\n",
        b"event: x\ndata: a\n",  # not closed
        b"event: x\ndata: a\n\n\n",  # and an empty line
        b"id: 1\ndata: a\n\n",
    ],
)
def test_chunks_like_one_event_that_are_not(chunk: bytes) -> None:
    # After an event with the same name (cached) and an empty line, in LF and in CRLF,
    # so that the chunk comes when nothing is held.
    for warm_up in (b"event: x\ndata: w\n\n", b"event: x\r\ndata: w\r\n\r\n"):
        chunks = [warm_up, chunk, b"data: z\n\n"]
        wire = b"".join(chunks)
        expected = parse_all([wire[i : i + 1] for i in range(len(wire))])
        assert parse_all(chunks) == expected
        assert list(iter_events(chunks)) == expected


def _reused_buffer(chunks: list[bytes], kind: str) -> Iterator[bytes]:
    """The chunks as a reader that reuses one buffer would hand them out:
    each a view of (or the very) buffer the next chunk overwrites; at the end
    the buffer is scribbled over, so anything still holding it sees X's."""
    if kind == "bytearray":
        array = bytearray()
        for chunk in chunks:
            array[:] = chunk
            yield array  # type: ignore[misc]  # (bytes-like, as a caller may pass)
        array[:] = b"X" * len(array)
        return
    buffer = bytearray(max(map(len, chunks), default=0))
    view = memoryview(buffer)
    for chunk in chunks:
        buffer[: len(chunk)] = chunk
        yield view[: len(chunk)]  # type: ignore[misc]
    buffer[:] = b"X" * len(buffer)


def _fed(chunks: Iterable[bytes]) -> tuple[list[ServerSentEvent], str, int, int]:
    """Events, last event ID, bytes received and discarded of a class-fed stream."""
    parser = SSEParser()
    out: list[ServerSentEvent] = []
    for chunk in chunks:
        if len(chunk):
            parser.receive_data(chunk)
            out.extend(parser.events())
    parser.receive_data(b"")
    out.extend(parser.events())
    return out, parser.last_event_id, parser.bytes_received, parser.discarded_bytes


@pytest.mark.parametrize("kind", ["bytearray", "memoryview"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_from_a_reused_buffer(case: Case, kind: str) -> None:
    # Bytes-like chunks are taken as their bytes at the time of the call: a
    # caller reusing its buffer changes nothing the parser holds.
    wires = [case.wire] if b"\r" in case.wire else [case.wire, case.wire.replace(b"\n", b"\r\n")]
    for wire in wires:
        for label, chunks in chunkings(wire):
            assert list(iter_events(_reused_buffer(chunks, kind))) == case.events, (label, wire)
            assert _fed(_reused_buffer(chunks, kind)) == _fed(chunks), (label, wire)


def test_reused_buffer_in_the_steady_state() -> None:
    # Past the stream's first bytes receive_data takes small chunks on its
    # own path; a held piece of a reused buffer must not change with it.
    wire = b"event: e\ndata: hello\n\n" * 3 + b"data: " + b"w" * 300 + b"\n\nid: 7\ndata: tail"
    expected = _fed([wire])
    for size in (1, 2, 3, 7, 40, 256, 4096):
        chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
        for kind in ("bytearray", "memoryview"):
            assert _fed(_reused_buffer(chunks, kind)) == expected, (size, kind)
            assert list(iter_events(_reused_buffer(chunks, kind))) == expected[0], (size, kind)
    assert expected[1] == "7" and expected[3] == len(b"id: 7\ndata: tail")


def _received_at_each_step(chunks: Iterable[bytes]) -> None:
    """Feed the class, checking ``bytes_received`` after every call."""
    parser = SSEParser()
    total = 0
    for chunk in chunks:
        if not chunk:
            continue
        parser.receive_data(chunk)
        total += len(chunk)
        assert parser.bytes_received == total
        list(parser.events())
        assert parser.bytes_received == total
    parser.receive_data(b"")
    assert parser.bytes_received == total


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bytes_received_after_every_chunk(case: Case) -> None:
    # Line-free chunks in the steady state are counted from the held size,
    # not added one by one: the count must still be exact after every call.
    wires = [case.wire] if b"\r" in case.wire else [case.wire, case.wire.replace(b"\n", b"\r\n")]
    for wire in wires:
        for label, chunks in chunkings(wire):
            _received_at_each_step(chunks)


def test_bytes_received_in_the_steady_state() -> None:
    wire = (b"event: e\ndata: hello\n\n" * 3 + b"data: " + b"w" * 300 + b"\n\n: c\ndata: x\n\n") * 2
    for crlf in (False, True):
        stream = wire.replace(b"\n", b"\r\n") if crlf else wire
        for size in (1, 2, 3, 5, 7, 40, 256):
            _received_at_each_step(stream[i : i + size] for i in range(0, len(stream), size))


@pytest.mark.parametrize("chunk", ["gh", 5, [103, 104], bytearray(b"gh"), memoryview(b"gh")], ids=repr)
def test_other_chunks_after_line_free_ones(chunk: object) -> None:
    # Line-free chunks held in the steady state, then a chunk that is not
    # bytes: refused or copied, with every byte before it still counted and held.
    parser = SSEParser()
    for piece in (b"data: x\n\n", b"data: ", b"abc", b"def"):
        parser.receive_data(piece)
    assert parser.bytes_received == 21
    if isinstance(chunk, (bytearray, memoryview)):
        parser.receive_data(chunk)  # type: ignore[arg-type]
        tail = b"gh"
    else:
        with pytest.raises(LocalProtocolError):
            parser.receive_data(chunk)  # type: ignore[arg-type]
        tail = b""
    assert parser.bytes_received == 21 + len(tail)
    parser.receive_data(b"ij\n\n")
    assert [e.data for e in parser.events()] == ["x", "abcdef" + tail.decode() + "ij"]
    assert parser.bytes_received == 25 + len(tail)


@pytest.mark.parametrize("size", [1, 3, 7])
def test_too_large_in_the_steady_state_names_the_offset(size: int) -> None:
    # The error's offset is the input read through the chunk that crossed the limit.
    head = b"event: e\ndata: a\n\n" * 3
    wire = head + b"data: " + b"x" * 500
    parser = SSEParser(max_event_size=100)
    fed = 0
    with pytest.raises(EventTooLarge) as info:
        for i in range(0, len(wire), size):
            parser.receive_data(wire[i : i + size])
            fed = min(i + size, len(wire))
            for _ in parser.events():
                pass
    assert fed - size < len(head) + 101 <= fed
    assert info.value.offset == fed == parser.bytes_received
    assert info.value.size == fed - len(head) and info.value.event_index == 3


@pytest.mark.parametrize(
    "chunk",
    [bytes(b"data: a\n\n"), bytearray(b"data: a\n\n"), memoryview(b"data: a\n\n"), memoryview(b"..data: a\n\n")[2:]],
    ids=["bytes", "bytearray", "memoryview", "memoryview-slice"],
)
def test_bytes_like_chunks(chunk: bytes) -> None:
    for first in (b"", b"data: x\n\n", b"data: x\r\n\r\n"):
        parser = SSEParser()
        if first:
            parser.receive_data(first)
        parser.receive_data(chunk)
        parser.receive_data(b"")
        assert [e.data for e in parser.events()] == (["x"] if first else []) + ["a"]
        assert list(iter_events([first, chunk])) == [ServerSentEvent(data=d) for d in (["x"] if first else []) + ["a"]]


def test_empty_bytes_like_chunk_is_end_of_stream() -> None:
    for empty in (bytearray(), memoryview(b"")):
        parser = SSEParser()
        parser.receive_data(b"data: a\n\ndata: cut")
        parser.receive_data(empty)  # type: ignore[arg-type]
        assert parser.ended and parser.discarded_bytes == len(b"data: cut")


_NOT_BYTES = ["data: a\n\n", "", 5, None, [100, 97], {"data": "a"}, 1.5]


@pytest.mark.parametrize("chunk", _NOT_BYTES, ids=repr)
def test_chunks_that_are_not_bytes_are_refused(chunk: object) -> None:
    name = type(chunk).__name__
    for first in (b"", b"data: x\n\n", b"data: x\r\n\r\n", b"data: x\n\ndata: held"):
        parser = SSEParser()
        if first:
            parser.receive_data(first)
        received = parser.bytes_received
        with pytest.raises(LocalProtocolError, match=rf"^receive_data\(\) takes bytes, not {name}\b") as info:
            parser.receive_data(chunk)  # type: ignore[arg-type]
        if isinstance(chunk, str):
            assert "encode" in str(info.value)
        # Refused before anything changed: the stream goes on as if it had not been sent.
        assert parser.bytes_received == received and not parser.ended
        parser.receive_data(b"\n\ndata: b\n\n")
        parser.receive_data(b"")
        expected = {b"": [], b"data: x\n\n": ["x"], b"data: x\r\n\r\n": ["x"], b"data: x\n\ndata: held": ["x", "held"]}[first]
        assert [e.data for e in parser.events()] == expected + ["b"]
    events = iter_events([b"data: a\n\n", chunk])  # type: ignore[list-item]
    assert next(events) == ServerSentEvent(data="a")  # the events before it come out first
    with pytest.raises(LocalProtocolError, match=rf"^iter_events\(\) takes bytes, not {name}\b"):
        next(events)


@pytest.mark.parametrize("whole", [b"data: a\n\n", bytearray(b"data: a\n\n"), memoryview(b"data: a\n\n"), "data: a\n\n"], ids=lambda w: type(w).__name__)
def test_a_whole_stream_for_the_chunks_is_refused_at_the_call(whole: object) -> None:
    # Iterating bytes yields ints: the chunk check said "takes bytes, not int".
    kind = type(whole).__name__
    calls: dict[str, Callable[[], object]] = {
        "iter_events()": lambda: iter_events(whole),  # type: ignore[arg-type]
        "convert_iter()": lambda: convert_iter(whole, "messages", "legacy"),  # type: ignore[arg-type]
        "accumulate()": lambda: accumulate("messages", whole),  # type: ignore[arg-type]
    }
    for caller, call in calls.items():
        with pytest.raises(TypeError, match=rf"^{re.escape(caller)} takes an iterable of byte chunks, not one {kind}: pass \[") as info:
            call()
        assert ("[text.encode()]" in str(info.value)) == isinstance(whole, str)
    assert list(iter_events([whole if isinstance(whole, bytes) else b"data: a\n\n"])) == [ServerSentEvent(data="a")]


def test_chunks_of_the_wrong_kind_are_refused_at_the_call_naming_the_twin() -> None:
    # Each failed only at the first step, with Python's own words: an async
    # iterable for iter_events "'async_generator' object is not iterable", a
    # list for aiter_events "'async for' requires an object with __aiter__ method".
    async def chunks() -> AsyncGenerator[bytes, None]:
        raise AssertionError("not read")
        yield b""  # pragma: no cover

    source = chunks()
    sync_calls: dict[str, tuple[Callable[[object], object], str]] = {
        "iter_events()": (lambda c: iter_events(c), " (for an async one, use aiter_events())"),  # type: ignore[arg-type]
        "convert_iter()": (lambda c: convert_iter(c, "messages", "legacy"), " (for an async one, use aconvert())"),  # type: ignore[arg-type]
        "accumulate()": (lambda c: accumulate("messages", c), ""),  # type: ignore[arg-type]
    }
    for caller, (call, hint) in sync_calls.items():
        with pytest.raises(TypeError, match=rf"^{re.escape(caller)} takes an iterable of byte chunks, not async_generator{re.escape(hint)}$"):
            call(source)
        with pytest.raises(TypeError, match=rf"^{re.escape(caller)} takes an iterable of byte chunks, not int$"):
            call(5)
    with pytest.raises(TypeError, match=r"^aiter_events\(\) takes an async iterable of byte chunks, not list \(for a sync one, use iter_events\(\)\)$"):
        aiter_events([b"data: a\n\n"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^aiter_events\(\) takes an async iterable of byte chunks, not bytes \(for a sync one, use iter_events\(\)\)$"):
        aiter_events(b"data: a\n\n")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_event_size must be positive"):
        aiter_events(source, max_event_size=0)  # at the call too
    source.aclose().close()  # (never started: nothing to run)


def test_a_released_memoryview_is_refused() -> None:
    view = memoryview(b"data: a\n\n")
    view.release()
    parser = SSEParser()
    with pytest.raises(LocalProtocolError, match=r"^receive_data\(\) cannot read this memoryview: .*released"):
        parser.receive_data(view)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match=r"^iter_events\(\) cannot read this memoryview"):
        list(iter_events([view]))  # type: ignore[list-item]


@pytest.mark.anyio
async def test_aiter_events_takes_bytes_like_chunks_and_refuses_others(anyio_backend: str) -> None:
    wire = b"event: e\r\ndata: hello\r\n\r\n" * 3 + b"data: " + b"w" * 300 + b"\n\nid: 7\ndata: tail"
    expected = list(iter_events([wire]))

    async def source(chunks: Iterable[object]) -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk  # type: ignore[misc]

    for size in (1, 7, 4096):
        for kind in ("bytearray", "memoryview"):
            chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
            got = [event async for event in aiter_events(source(_reused_buffer(chunks, kind)))]
            assert got == expected, (size, kind)
    for bad in ("", "data: x\n\n", 3):
        events = aiter_events(source([b"data: a\n\n", bad]))
        assert await events.__anext__() == ServerSentEvent(data="a")
        with pytest.raises(LocalProtocolError, match=rf"^aiter_events\(\) takes bytes, not {type(bad).__name__}"):
            await events.__anext__()
