"""Incremental, sans-I/O parser for ``text/event-stream`` bytes.

Theory of operation
-------------------

The parser follows the WHATWG algorithms "Parsing an event stream" and
"Interpreting an event stream"
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
but works on **bytes** and decodes UTF-8 once per dispatched event. That is
equivalent to decoding the whole stream first: CR, LF and ``:`` are ASCII, and
UTF-8 never uses ASCII byte values inside a multi-byte sequence, so splitting
on them before decoding cannot cut a character. A character split across two
chunks is re-joined before it is decoded; invalid bytes become U+FFFD, as the
spec's decoder does.

:meth:`SSEParser.receive_data` takes one chunk and does all the work for it:

1. A UTF-8 BOM at the very start of the stream is dropped once ("a single
   U+FEFF BYTE ORDER MARK character at the start of the stream is ignored").
2. Line endings are normalised to LF with ``bytes.replace`` (CRLF, then a
   lone CR). Only CR, LF and CRLF end lines (never U+2028, U+2029 or NEL:
   this is bytes). A CR that ends one chunk makes a LF that starts the next
   one part of the same line ending, so CRLF split across chunks is one line
   break, not two.
3. The chunk is cut into *blocks* at blank lines (``b"\n\n"``): with
   ``bytes.split`` for short events, with a ``memchr`` loop when lines are
   long (sampled), since ``split``'s two-byte search runs at ~1 GB/s. The
   unterminated last block is kept as a list of pieces and joined once, when
   its blank line arrives: a long line fed in small chunks is never copied or
   rescanned (linear time, openai/openai-python#3687). A chunk with many
   blocks is dispatched lazily, a batch (~128 KiB) at a time, as events are
   taken, so a 10 MB chunk never becomes 10 MB of live events at once.
4. Each complete block is dispatched. The two shapes Anthropic and OpenAI
   streams use (``data: X`` and ``event: N`` + ``data: X``) take an inline
   fast path; any other block goes through the general line interpreter:
   ``field: value`` split at the first colon (one leading space removed),
   comments skipped, unknown fields ignored, ``id`` values containing NUL
   ignored, ``retry`` only when it is all ASCII digits, ``data`` lines joined
   with LF.
5. A block dispatches an event only if it had at least one ``data`` line (so
   ``data:`` dispatches ``""``, but a lone ``event: ping`` dispatches
   nothing); the event type and retry then reset.

Ready events wait in a queue for :meth:`SSEParser.next_event` /
:meth:`SSEParser.events`. At end of stream (``receive_data(b"")``) an
unterminated block is discarded, as the spec says (its complete lines still
set the last event ID); its size is kept in :attr:`SSEParser.discarded_bytes`
so a caller can tell a clean end from a cut one.

Bounds
------

``max_event_size`` limits the bytes of one event: its lines and the line
breaks between them (each counted as one byte, whatever its spelling), which
also bounds any single line. The check costs nothing while the bytes held plus
the chunk fit under the limit, and is exact otherwise, so every chunking of
the same input reaches the same verdict. Crossing the limit stores an
:class:`~sseadapt.EventTooLarge` that :meth:`~SSEParser.next_event` raises
after the events that preceded it. The parser holds at most one open event,
so its buffer stays within the limit.

Performance
-----------

The cost is Python work per event, not scanning (``design/performance-notes.md``):
splitting happens in C, the fast path spends a handful of operations per
event, and events are tuples built with ``tuple.__new__`` (immutable for free;
see :class:`ServerSentEvent`). Field values are never validated here; the
serializer validates what it writes.
"""

from __future__ import annotations

import codecs
import enum
import json
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any, Final, Literal, NamedTuple, Union

from ._errors import EventTooLarge, LocalProtocolError

__all__ = [
    "ServerSentEvent",
    "SSEParser",
    "Signal",
    "NEED_DATA",
    "STREAM_END",
    "DEFAULT_MAX_EVENT_SIZE",
    "iter_events",
    "aiter_events",
]

#: Default limit for one event: generous for long legacy completions.
DEFAULT_MAX_EVENT_SIZE: Final = 16 * 1024 * 1024

_BOM: Final = b"\xef\xbb\xbf"
_BLANK: Final = [b""]
#: At most this many blocks, or about this many bytes, are dispatched at a
#: time from a large chunk.
_BATCH: Final = 512
_BATCH_BYTES: Final = 128 * 1024


def _event_name(cache: dict[bytes, str], line: bytes) -> Union[str, None]:
    """The event name of an ``event: NAME`` line (cached), or None for any other line."""
    name = cache.get(line)
    if name is None and line[:7] == b"event: " and 10 not in line and 13 not in line:
        name = line[7:].decode("utf-8", "replace") or "message"
        if len(cache) < 256:
            cache[line] = name
    return name


def _lines_are_long(data: bytes) -> bool:
    """Whether lines average over 512 bytes, from four 16 KiB samples across ``data``."""
    step = (len(data) - 16384) // 3
    count = data.count
    return sum(count(b"\n", at, at + 16384) for at in range(0, 4 * step, step)) < 128


def _split_long_blocks(data: bytes) -> list[bytes]:
    """Same as ``data.split(b"\\n\\n")``, several times faster on long lines.

    ``split`` searches for the two-byte separator at about 1 GB/s whatever the
    data; ``find(b"\\n")`` is ``memchr``. With short lines the Python loop per
    LF costs more than it saves, so the caller samples the data first.
    """
    out: list[bytes] = []
    append = out.append
    find = data.find
    size = len(data)
    start = pos = 0
    while True:
        end = find(b"\n", pos)
        if end < 0:
            append(data[start:])
            return out
        if end + 1 < size and data[end + 1] == 10:
            append(data[start:end])
            start = pos = end + 2
        else:
            pos = end + 1


class Signal(enum.Enum):
    """What :meth:`SSEParser.next_event` returns when it has no event."""

    #: Feed more bytes with :meth:`SSEParser.receive_data`.
    NEED_DATA = "NEED_DATA"
    #: The stream has ended and every event has been returned.
    STREAM_END = "STREAM_END"

    def __repr__(self) -> str:
        return self.value


NEED_DATA: Final = Signal.NEED_DATA
STREAM_END: Final = Signal.STREAM_END


class ServerSentEvent(NamedTuple):
    """One dispatched server-sent event. Immutable; do not subclass.

    The field names match httpx-sse's ``ServerSentEvent``; construct it with
    keywords. It is a :class:`typing.NamedTuple` rather than an attrs class on
    purpose: a tuple is immutable in C, so the parser builds one in ~100 ns,
    where a frozen attrs instance costs ~250 ns even with its ``__init__``
    bypassed (measured on the project's machines; at ~70,000 events per 10 MB
    that is a sixth of the parser's time).
    """

    #: The event type: the last ``event:`` value of the block, else ``"message"``.
    event: str = "message"
    #: The ``data:`` lines of the block, joined with ``"\n"``.
    data: str = ""
    #: The last event ID in force when the event was dispatched (``""`` if none).
    id: str = ""
    #: The ``retry:`` value given in this event's own block, else ``None``.
    retry: Union[int, None] = None

    def json(self) -> Any:
        """Decode :attr:`data` as JSON (like httpx-sse's ``ServerSentEvent.json``)."""
        return json.loads(self.data)


#: Builds a parser event from a 4-tuple without the NamedTuple's Python ``__new__``.
_make_event: Callable[[type[ServerSentEvent], tuple[str, str, str, Union[int, None]]], ServerSentEvent] = tuple.__new__


class SSEParser:
    """Turns ``text/event-stream`` bytes into :class:`ServerSentEvent` objects.

    Sans-I/O: feed bytes with :meth:`receive_data`, take events with
    :meth:`next_event` or :meth:`events`. Any chunking of the same bytes gives
    the same events.

    Args:
        max_event_size: the most bytes one event (or one line) may hold; see
            the module docstring. Must be positive.
    """

    __slots__ = (
        "_max",
        "_queue",
        "_pending",
        "_pending_size",
        "_pending_nl",
        "_data",
        "_etype",
        "_retry",
        "_last_id",
        "_names",
        "_lines",
        "_skip_lf",
        "_at_start",
        "_ended",
        "_error",
        "_received",
        "_backlog",
        "_backlog_pos",
        "_batch_bytes_hint",
        "_simple",
        "_dispatched",
        "discarded_bytes",
    )

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size <= 0:
            raise ValueError("max_event_size must be positive")
        self._max = max_event_size
        self._queue: deque[ServerSentEvent] = deque()
        self._pending: list[bytes] = []  # pieces of the open (unterminated) block
        self._pending_size = 0
        self._pending_nl = False  # the held block ends with LF
        self._data: list[bytes] = []  # data lines of the open block
        self._etype = b""
        self._retry: int | None = None
        self._last_id = ""
        self._names: dict[bytes, str] = {b"": "message"}  # event type -> name
        self._lines: dict[bytes, str] = {}  # whole "event: NAME" line -> name
        self._skip_lf = False  # the previous chunk ended with CR
        self._at_start: bytes | None = b""  # held while a leading BOM may be arriving
        self._ended = False
        self._error: EventTooLarge | None = None
        self._received = 0
        # Blocks of large chunks not dispatched yet, with their batch size.
        self._backlog: deque[tuple[list[bytes], int]] = deque()
        self._batch_bytes_hint = 0  # size of the chunk being split
        self._backlog_pos = 0
        # True when a chunk with no CR or LF may simply be held (see iter_events).
        self._simple = False
        self._dispatched = 0
        #: Bytes of the unterminated block discarded at end of stream
        #: (0 after a clean end, or before the end).
        self.discarded_bytes = 0

    @property
    def last_event_id(self) -> str:
        """The last event ID seen so far (for a reconnect's ``Last-Event-ID``)."""
        return self._last_id

    @property
    def ended(self) -> bool:
        """Whether end of stream (``receive_data(b"")``) has been received."""
        return self._ended

    @property
    def events_dispatched(self) -> int:
        """Events dispatched so far (returned or still queued)."""
        return self._dispatched

    @property
    def bytes_received(self) -> int:
        """Total input bytes received so far."""
        return self._received

    def receive_data(self, data: bytes) -> None:
        """Feed the next chunk of the stream; ``b""`` means end of stream.

        Raises:
            LocalProtocolError: data after end of stream.
        """
        if self._ended:
            if data:
                raise LocalProtocolError(
                    "receive_data() called with data after end of stream",
                    offset=self._received,
                )
            return
        if not data:
            self._end_of_stream()
            return
        if self._error is not None:
            return
        self._received += len(data)
        self._feed(data)

    def _pump(self) -> bool:
        """Dispatch the next batch of the backlog; False when there is none."""
        backlog = self._backlog
        if not backlog:
            return False  # blocks queued before an error still precede it: keep going
        blocks, batch = backlog[0]
        start = self._backlog_pos
        end = start + batch
        if end >= len(blocks):
            backlog.popleft()
            self._backlog_pos = 0
        else:
            self._backlog_pos = end
        self._blocks(blocks[start:end], False)
        return True

    def _dispatch(self, blocks: list[bytes], check: bool) -> bool:
        """Dispatch complete blocks now, or queue many for lazy dispatch.

        Many blocks (a large chunk) are dispatched a batch at a time as events
        are taken, so only one batch of events is alive at once. Blocks that
        need the size check are dispatched at once, after any backlog, so an
        error is always raised after the events before it.
        """
        if check:
            while self._pump():
                pass
            return self._blocks(blocks, True)
        if self._backlog or len(blocks) > _BATCH:
            # About _BATCH_BYTES of input per batch, however long the events are.
            average = max(1, self._batch_bytes_hint // len(blocks))
            self._backlog.append((blocks, max(1, min(_BATCH, _BATCH_BYTES // average))))
            return True
        return self._blocks(blocks, False)

    def _feed(self, data: bytes) -> None:
        """Parse one chunk: cut it into blocks, dispatch the complete ones, hold the rest."""
        if self._at_start is not None:
            data = self._strip_bom(data)
            if not data:
                return
        if self._skip_lf:
            self._skip_lf = False
            if data[0] == 10:
                data = data[1:]
                if not data:
                    return
        if 13 in data:
            # CRLF and CR become LF (in C); a CR ending the chunk may pair
            # with a LF starting the next one.
            data = data.replace(b"\r\n", b"\n")
            if 13 in data:
                self._skip_lf = data[-1] == 13
                data = data.replace(b"\r", b"\n")
        elif not self._pending_nl and 10 not in data:
            # No line break: nothing can complete; hold the piece (tiny chunks).
            self._pending.append(data)
            self._pending_size += len(data)
            if self._pending_size > self._max:
                self._fail(self._pending_size)
            return

        pending = self._pending
        if self._pending_nl and data[0] == 10:
            # The blank line straddles two chunks: close the held block.
            block = b"".join(pending)[:-1]
            pending.clear()
            self._pending_size = 0
            self._pending_nl = False
            if not self._dispatch([block], len(block) > self._max):
                return
            data = data[1:]
            if not data:
                return
        # Choose how to cut blocks: split() is best for many short events, a
        # memchr() loop for long lines (split's search runs at ~1 GB/s).
        if len(data) > 65536:
            blocks = _split_long_blocks(data) if _lines_are_long(data) else data.split(b"\n\n")
        else:
            first = data.find(b"\n\n")
            if first < 0:
                blocks = [data]
            elif first > 512 and data.count(b"\n", 0, first) * 256 < first:
                blocks = _split_long_blocks(data)  # long lines, not just long events
            else:
                blocks = data.split(b"\n\n")
        tail = blocks.pop()
        self._batch_bytes_hint = len(data)
        budget = self._pending_size + len(data)
        if blocks:
            if pending:
                pending.append(blocks[0])
                blocks[0] = b"".join(pending)
                pending.clear()
            if not self._dispatch(blocks, budget > self._max):
                return
            self._pending_size = 0
        if tail:
            pending.append(tail)
            self._pending_size += len(tail)
            self._pending_nl = tail[-1] == 10
            # A held trailing LF may be the end of the block, not part of it.
            if self._pending_size - self._pending_nl > self._max:
                self._fail(self._pending_size - self._pending_nl)
        else:
            self._pending_nl = False
        self._simple = not self._pending_nl and not self._skip_lf and self._error is None

    def _blocks(self, blocks: list[bytes], check: bool) -> bool:
        """Dispatch complete blocks (each ended by a blank line); hot path.

        With ``check``, blocks are first measured against the size limit; the
        blocks before an oversized one are dispatched, then the error is stored
        and False returned.
        """
        if check:
            limit = self._max
            for index, block in enumerate(blocks):
                if len(block) > limit:
                    self._blocks(blocks[:index], False)
                    self._fail(len(block))
                    return False
        queue = self._queue
        queued_before = len(queue)
        dispatched_before = self._dispatched
        emit = queue.append
        make = _make_event
        cls = ServerSentEvent
        utf8_decode = codecs.utf_8_decode
        names = self._lines
        last_id = self._last_id
        name: Union[str, None]
        for block in blocks:
            if len(block) > 512:
                # Large events: find the data line and decode it in place (no
                # copy of the payload).
                if block.startswith(b"data: "):
                    name = "message"
                    start = 6
                else:
                    start = block.find(b"\ndata: ") + 7
                    name = _event_name(names, block[: start - 7]) if start > 7 else None
                if name is not None and block.find(b"\n", start) < 0:
                    emit(make(cls, (name, utf8_decode(memoryview(block)[start:], "replace", True)[0], last_id, None)))
                    continue
                name = None
            else:
                head, sep, payload = block.partition(b"\ndata: ")
                if sep:
                    # "event: NAME" lines are cached whole: one lookup checks
                    # the line and gives the decoded name.
                    name = names.get(head) or _event_name(names, head)
                    if name is not None and 10 in payload:
                        name = None  # more lines follow
                elif head[:6] == b"data: " and 10 not in head:
                    name = "message"
                    payload = head[6:]
                else:
                    name = None
                if name is not None:
                    try:
                        text = payload.decode()
                    except UnicodeDecodeError:
                        text = payload.decode("utf-8", "replace")
                    emit(make(cls, (name, text, last_id, None)))
                    continue
            # Anything else goes through the general line interpreter.
            self._last_id = last_id
            self._interpret(block.split(b"\n"))
            self._interpret(_BLANK)
            last_id = self._last_id
        self._dispatched = dispatched_before + len(queue) - queued_before
        return True

    def _strip_bom(self, data: bytes) -> bytes:
        head = (self._at_start or b"") + data
        if len(head) < 3 and _BOM.startswith(head):
            self._at_start = head
            return b""
        self._at_start = None
        return head[3:] if head.startswith(_BOM) else head

    def _interpret(self, lines: list[bytes]) -> None:
        """Interpret complete lines (hot path: keep this loop flat)."""
        data_lines = self._data
        add_data = data_lines.append
        etype = self._etype
        retry = self._retry
        last_id = self._last_id
        names = self._names
        emit = self._queue.append
        dispatched = self._dispatched
        for line in lines:
            if not line:
                if data_lines:
                    name = names.get(etype)
                    if name is None:
                        name = etype.decode("utf-8", "replace")
                        if len(names) < 64:
                            names[etype] = name
                    text = (data_lines[0] if len(data_lines) == 1 else b"\n".join(data_lines)).decode("utf-8", "replace")
                    emit(_make_event(ServerSentEvent, (name, text, last_id, retry)))
                    dispatched += 1
                    data_lines.clear()
                etype = b""
                retry = None
            elif line[:6] == b"data: ":
                add_data(line[6:])
            elif line[:7] == b"event: ":
                etype = line[7:]
            else:
                colon = line.find(b":")
                if colon == 0:
                    continue  # comment
                if colon < 0:
                    field = line
                    value = b""
                else:
                    field = line[:colon]
                    value = line[colon + 1 :]
                    if value[:1] == b" ":
                        value = value[1:]
                if field == b"data":
                    add_data(value)
                elif field == b"event":
                    etype = value
                elif field == b"id":
                    if b"\0" not in value:
                        last_id = value.decode("utf-8", "replace")
                elif field == b"retry":
                    if value.isdigit():
                        retry = int(value)
        self._etype = etype
        self._retry = retry
        self._last_id = last_id
        self._dispatched = dispatched

    def _fail(self, size: int) -> None:
        self._simple = False
        self._error = EventTooLarge(
            limit=self._max,
            size=size,
            event_index=self._dispatched,
            offset=self._received,
        )
        self._pending.clear()
        self._pending_size = 0
        self._data.clear()

    def _end_of_stream(self) -> None:
        while self._pump():
            pass
        self._ended = True
        if self._error is not None:
            return
        held = b"".join(self._pending) if self._at_start is None else self._at_start
        self._at_start = None
        self._pending.clear()
        self.discarded_bytes = len(held)
        if held:
            # Complete lines of the unterminated block still set the last
            # event ID (WHATWG); the block itself is never dispatched.
            self._interpret(held.split(b"\n")[:-1])
            self._data.clear()

    def next_event(self) -> ServerSentEvent | Literal[Signal.NEED_DATA, Signal.STREAM_END]:
        """Return the next dispatched event, or a :class:`Signal`.

        Returns:
            the next :class:`ServerSentEvent`; :data:`NEED_DATA` when more input
            is needed; :data:`STREAM_END` once the stream has ended and every
            event has been returned.

        Raises:
            EventTooLarge: after the events that preceded the oversized one.
                It is raised again on every later call (sticky).
        """
        queue = self._queue
        while not queue and self._pump():
            pass
        if queue:
            return queue.popleft()
        if self._error is not None:
            raise self._error
        return STREAM_END if self._ended else NEED_DATA

    def events(self) -> Iterator[ServerSentEvent]:
        """Iterate over every event ready now (stops at NEED_DATA or STREAM_END).

        Raises:
            EventTooLarge: as :meth:`next_event`, once the events before it are consumed.
        """
        if not self._queue and not self._backlog and self._error is None:
            return _NO_EVENTS  # the common case with small chunks: no generator
        return self._drain()

    def _drain(self) -> Iterator[ServerSentEvent]:
        # Pops one at a time: a consumer that stops early loses nothing.
        queue = self._queue
        while True:
            while queue:
                yield queue.popleft()
            if not self._pump():
                break
        if self._error is not None:
            raise self._error


_NO_EVENTS: Final[Iterator[ServerSentEvent]] = iter(())


def iter_events(
    chunks: Iterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> Iterator[ServerSentEvent]:
    """Parse an iterable of byte chunks, yielding events as they complete.

    Empty chunks are skipped (they are not end of stream); the end of the
    iterable is. Raises what :meth:`SSEParser.next_event` raises, after the
    events before it.
    """
    parser = SSEParser(max_event_size=max_event_size)
    feed = parser.receive_data
    pump = parser._pump
    queue = parser._queue  # read directly: one generator layer less per event
    backlog = parser._backlog
    pending = parser._pending
    held = 0  # bytes held below without the parser's bookkeeping
    for chunk in chunks:
        if parser._simple and 10 not in chunk and 13 not in chunk:
            # Small chunks inside a line: hold them without a method call
            # (exactly what receive_data would do; synced before the next feed).
            pending.append(chunk)
            held += len(chunk)
            if held + parser._pending_size > max_event_size:
                parser._pending_size += held
                parser._received += held
                held = 0
                parser._fail(parser._pending_size)
                raise parser._error  # type: ignore[misc]
            continue
        if held:
            parser._pending_size += held
            parser._received += held
            held = 0
        if chunk:
            feed(chunk)
            while True:
                if queue:
                    yield from queue
                    queue.clear()
                if not backlog or not pump():
                    break
            if parser._error is not None:
                raise parser._error
    if held:
        parser._pending_size += held
        parser._received += held
    feed(b"")
    yield from parser.events()


async def aiter_events(
    chunks: AsyncIterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> AsyncIterator[ServerSentEvent]:
    """Async twin of :func:`iter_events`; works on asyncio and trio alike.

    It takes ownership of ``chunks``: if the source has an ``aclose()`` method
    (an async generator, an httpx byte stream) it is closed when this iterator
    finishes, fails or is closed early.
    """
    parser = SSEParser(max_event_size=max_event_size)
    feed = parser.receive_data
    try:
        async for chunk in chunks:
            if chunk:
                feed(chunk)
                for event in parser.events():
                    yield event
        feed(b"")
        for event in parser.events():
            yield event
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
