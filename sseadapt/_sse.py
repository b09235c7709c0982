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

:meth:`SSEParser.receive_data` takes one chunk and does all the work for it.
A chunk is ``bytes``: held pieces are kept by reference until their blank
line arrives, so any other bytes-like chunk is copied first (a reader may
reuse its buffer) and anything else is refused with
:class:`~sseadapt.LocalProtocolError`; :func:`iter_events` does the same. Then:

1. A UTF-8 BOM at the very start of the stream is dropped once ("a single
   U+FEFF BYTE ORDER MARK character at the start of the stream is ignored").
2. Only CR, LF and CRLF end lines (never U+2028, U+2029 or NEL: this is
   bytes). A CR that ends one chunk makes a LF that starts the next one part
   of the same line ending, so CRLF split across chunks is one line break.
3. The chunk is cut in three: the *head*, up to its first blank line, which
   completes the block held from earlier chunks; the *run* of complete blocks
   up to its last blank line; the unterminated *tail*, kept as a piece of the
   next block. Held pieces are joined once, when their blank line arrives, so
   a long line fed in small chunks is never copied or rescanned (linear time,
   openai/openai-python#3687). Blank lines are found with ``memchr`` while
   lines are long and with the two-byte search (~1 GB/s whatever the data)
   only once they prove short. The head and tail are normalised to LF with
   ``bytes.replace``; a CRLF run keeps its CRs (step 4). A run larger than
   64 KiB is dispatched a window at a time, as events are taken, so a 10 MB
   chunk never becomes 10 MB of live events at once.
4. A run whose blocks have the two shapes Anthropic and OpenAI streams use
   (``event: N`` + ``data: X``, or ``data: X`` alone) is split into lines once;
   when all its blocks have one shape (the usual case) they are checked and
   made into events by C loops (``map``/``zip``, :meth:`SSEParser._emit_all`),
   else walked a block at a time (:meth:`SSEParser._shaped`). A CRLF run's
   usual case is split by ``bytes.splitlines()``, which breaks at CR, LF and
   CRLF, exactly the stream's line ends; the walk keeps each line's CR and
   checks that it holds exactly one, at its end. The first block of any
   other shape, and everything after it, goes through the general line
   interpreter: ``field: value`` split at the first colon (one leading space
   removed), comments skipped, unknown fields ignored, ``id`` values
   containing NUL ignored, ``retry`` only when it is all ASCII digits (and
   no longer than ``int()`` converts, 4300 digits by default: a longer value
   is ignored, as browsers ignore one that overflows their integer type,
   rather than raising ``ValueError``), ``data`` lines joined with LF.
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
breaks between them (each counted as one byte, whatever its spelling; empty
lines around it are not part of it), which also bounds any single line. The
check costs nothing while the bytes held plus the chunk fit under the limit,
and is exact otherwise, so every chunking of the same input reaches the same
verdict. Crossing the limit stores an
:class:`~sseadapt.EventTooLarge` that :meth:`~SSEParser.next_event` raises
after the events that preceded it. The parser holds at most one open event,
so its buffer stays within the limit. (Chunks received while a large chunk
is still being dispatched a window at a time wait, unparsed, until the events
before them are taken; every reader in this package takes them first.)

Performance
-----------

The cost is Python work per event, not scanning (``design/performance-notes.md``):
splitting happens in C, the fast path spends a handful of operations per
event, and events are tuples built with ``tuple.__new__`` (immutable for free;
see :class:`ServerSentEvent`). :func:`iter_events` does the common work of a
chunk itself, without going through :meth:`SSEParser.receive_data`: it holds
chunks that complete nothing, closes the held block when a chunk completes
exactly one, dispatches a chunk that is exactly one event (how a server's
writes usually arrive) when nothing is held, and hands a network read of short
events straight to the run (after a CRLF read, keeping the open block as
received, to be joined to the next read). :meth:`SSEParser.receive_data` has a
shorter fast path of its own for the same reason (a method call costs about
what a small chunk's parsing does): once the parser is past the stream's first
bytes, with no CR pending, no backlog, no error and no end (``_steady``), a LF
chunk is held or closes the held block without going through :meth:`_feed`,
and a chunk of one short event (LF or CRLF) is dispatched directly; a small
CRLF chunk is normalised to LF and taken the LF way (:meth:`_small_crlf`),
unless it ends with CR or keeps a lone CR. When the
held block also does not end with LF (``_free``), a chunk with no line break
is appended and nothing else changes but the held size: the bytes it adds
are counted into :attr:`~SSEParser.bytes_received` from the held size when
that state is left, since a second int sum per chunk (a new int object) cost
~8% of the class's instructions on 7-byte chunks. Field values are never
validated here; the serializer validates what it writes.
"""

from __future__ import annotations

import codecs
import enum
import json
from collections import deque
from itertools import chain, repeat
from operator import itemgetter
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
#: Complete events of a large chunk are dispatched about this many bytes at a
#: time, as they are taken, so a 10 MB chunk never becomes 10 MB of live events.
_WINDOW: Final = 64 * 1024
#: Events longer than this take the long-event paths (decoded in place, not
#: walked as lines).
_SHORT: Final = 512
#: The payload of a ``data: X`` line.
_PAYLOAD: Final = itemgetter(slice(6, None))


#: The name caches hold this many lines of at most this many bytes: a stream
#: of long, distinct names would otherwise keep 256 of them (a 1 MB name each:
#: ~512 MB), past the memory bound of a few events.
_NAME_CACHE_SIZE: Final = 256
_NAME_CACHE_LINE: Final = 256


def _event_name(cache: dict[bytes, str], line: bytes) -> Union[str, None]:
    """The event name of an ``event: NAME`` line (cached), or None for any other line."""
    name = cache.get(line)
    if name is None and line[:7] == b"event: " and 10 not in line and 13 not in line:
        name = line[7:].decode("utf-8", "replace") or "message"
        if len(cache) < _NAME_CACHE_SIZE and len(line) <= _NAME_CACHE_LINE:
            cache[line] = name
    return name


def _event_name_crlf(cache: dict[bytes, str], line: bytes) -> Union[str, None]:
    """Same as :func:`_event_name` for a line that still ends with its CR (``event: NAME\\r``)."""
    name = cache.get(line)
    if name is None and line[:7] == b"event: " and line.find(b"\r") == len(line) - 1 and 10 not in line:
        name = line[7:-1].decode("utf-8", "replace") or "message"
        if len(cache) < _NAME_CACHE_SIZE and len(line) <= _NAME_CACHE_LINE:
            cache[line] = name
    return name


def _find_blank(data: bytes, start: int, stop: int) -> int:
    """Index of the first ``b"\\n\\n"`` in ``data[start:stop]``, or -1.

    Driven by ``find(b"\\n")`` (``memchr``): a two-byte search runs at about
    1 GB/s whatever the data, ``memchr`` many times faster, and blank lines
    come within a few line breaks of any point of an event stream.
    """
    find = data.find
    pos = find(b"\n", start, stop)
    while pos >= 0:
        pos += 1
        if pos < stop and data[pos] == 10:
            return pos - 1
        pos = find(b"\n", pos + 1, stop)
    return -1


def _first_blank(data: bytes, start: int, stop: int) -> int:
    """:func:`_find_blank`, fast whatever the line length: ``memchr`` for the
    first few line breaks (long lines, or a blank line close by), then the
    two-byte search if lines turn out short."""
    find = data.find
    pos = find(b"\n", start, stop)
    for _ in range(6):
        if pos < 0:
            return -1
        after = pos + 1
        if after < stop and data[after] == 10:
            return pos
        pos = find(b"\n", after + 1, stop)
    return find(b"\n\n", pos, stop) if pos >= 0 else -1


def _last_blank(data: bytes, start: int, stop: int) -> int:
    """Index of the last ``b"\\n\\n"`` in ``data[start:stop]``, or -1: the
    mirror of :func:`_first_blank`."""
    rfind = data.rfind
    end = stop
    for _ in range(6):
        pos = rfind(b"\n", start, end)
        if pos <= start:
            return -1
        if data[pos - 1] == 10:
            return pos - 1
        end = pos - 1
    return rfind(b"\n\n", start, end)


class _Window:
    """A large chunk being dispatched a window at a time (see :data:`_WINDOW`).

    ``data[pos:stop]`` are complete blocks not dispatched yet; ``data[stop:]``
    is the chunk's unterminated tail, held once the window reaches it.
    """

    __slots__ = ("data", "pos", "stop", "crlf")

    def __init__(self, data: bytes, pos: int, stop: int, crlf: bool) -> None:
        self.data = data
        self.pos = pos
        self.stop = stop
        self.crlf = crlf


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

    Raises:
        TypeError: ``max_event_size`` is not an ``int``.
        ValueError: ``max_event_size`` is not positive.
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
        "_lines_crlf",
        "_skip_lf",
        "_at_start",
        "_ended",
        "_error",
        "_received",
        "_backlog",
        "_insert_at",
        "_dispatched",
        "_steady",
        "_free",
        "_free_from",
        "discarded_bytes",
    )

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if not isinstance(max_event_size, int) or isinstance(max_event_size, bool):
            raise TypeError(f"max_event_size must be an int, not {type(max_event_size).__name__}")
        if max_event_size <= 0:
            raise ValueError("max_event_size must be positive")
        self._max = max_event_size
        self._queue: deque[ServerSentEvent] = deque()
        self._pending: list[bytes] = []  # pieces of the open (unterminated) block, LF-normalised
        self._pending_size = 0
        self._pending_nl = False  # the held block ends with LF
        self._data: list[bytes] = []  # data lines of the open block
        self._etype = b""
        self._retry: int | None = None
        self._last_id = ""
        self._names: dict[bytes, str] = {b"": "message"}  # event type -> name
        self._lines: dict[bytes, str] = {}  # whole "event: NAME" line -> name
        # The same for lines still ending with their CR; kept apart so that a
        # line found here is known to hold exactly one CR, at its end.
        self._lines_crlf: dict[bytes, str] = {}
        self._skip_lf = False  # the previous chunk ended with CR
        self._at_start: bytes | None = b""  # held while a leading BOM may be arriving
        self._ended = False
        self._error: EventTooLarge | None = None
        self._received = 0
        # Work not done yet, in order: a large chunk's remaining windows, and
        # chunks received while one was pending.
        self._backlog: deque[Union[_Window, bytes]] = deque()
        # Where work deferred by the current step goes: ahead of older work,
        # after work the same step deferred earlier.
        self._insert_at = 0
        self._dispatched = 0
        # True only while past any BOM, not after a CR, with no backlog, no
        # error and no end: receive_data's fast path. Set by receive_data from
        # that state; cleared where any of it changes (_defer, _fail, end).
        self._steady = False
        # _steady and the held block not ending with LF: a line-free bytes
        # chunk is then only appended (the first test in receive_data).
        # Recomputed wherever receive_data recomputes _steady or may change
        # _pending_nl; cleared with _steady. The chunks it takes are not added
        # to _received (an int sum allocates): they are the held bytes past
        # _free_from, counted when the free state is left.
        self._free = False
        self._free_from = 0
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
        if self._free:
            return self._received + self._pending_size - self._free_from
        return self._received

    def receive_data(self, data: bytes) -> None:
        """Feed the next chunk of the stream; ``b""`` means end of stream.

        Any bytes-like object is taken (copied if it is not ``bytes``).

        Raises:
            LocalProtocolError: data after end of stream, or data that is not
                bytes-like (a ``str``, say).
        """
        if self._free and type(data) is bytes and 10 not in data and 13 not in data and data:
            # Inside a line (the most common small chunk): nothing but the held size changes.
            self._pending.append(data)
            size = self._pending_size + len(data)
            self._pending_size = size
            if size > self._max:
                self._received += size - self._free_from
                self._fail(size)
            return
        if self._free:
            self._received += self._pending_size - self._free_from
            self._free = False
        if type(data) is not bytes:
            data = _as_bytes(data, "receive_data()")
        if self._steady and data:
            if 13 in data:
                if not self._pending_size and len(data) < 256 and len(data) <= self._max:
                    # A chunk of one short CRLF event (nothing held), as iter_events takes it.
                    event = _short_event(data, self._lines.get, self._last_id)
                    if event is not None:
                        self._received += len(data)
                        self._dispatched += 1
                        self._queue.append(event)
                        return
                if self._small_crlf(data):
                    return
            else:
                # LF-only data in the steady state: small chunks are taken here
                # (the method calls of _feed are most of their cost), the rest by _feed_lf.
                size = len(data)
                self._received += size
                if 10 not in data:
                    # Inside a line (as _hold, which this chunk cannot start).
                    self._pending.append(data)
                    size += self._pending_size
                    self._pending_size = size
                    self._pending_nl = False
                    if size > self._max:
                        self._fail(size)
                    else:
                        self._free, self._free_from = True, size
                    return
                if size < 256 and not (self._pending_nl and data[0] == 10):
                    if not self._pending_size and size <= self._max:
                        # A chunk of one short event, nothing held (as iter_events takes it).
                        event = _short_event(data, self._lines.get, self._last_id)
                        if event is not None:
                            self._dispatched += 1
                            self._queue.append(event)
                            return
                    blank = data.find(b"\n\n")
                    if blank < 0:
                        self._hold(data)
                        self._free = self._steady and not self._pending_nl
                        self._free_from = self._pending_size
                        return
                    if data.find(b"\n\n", blank + 2) < 0 and self._pending_size + blank <= self._max:
                        # Completes exactly the held block: _feed_lf's head path, inlined
                        # (through _feed_lf the class took 33% more instructions on 7-byte chunks).
                        pending = self._pending
                        if pending:
                            pending.append(data[:blank])
                            block = b"".join(pending)
                            pending.clear()
                            self._pending_size = 0
                            self._pending_nl = False
                        else:
                            block = data[:blank]
                        self._block(block)
                        if blank + 2 < size:
                            self._hold(data[blank + 2 :])
                        self._free = self._steady and not self._pending_nl
                        self._free_from = self._pending_size
                        return
                self._insert_at = 0
                self._feed_lf(data)
                self._free = self._steady and not self._pending_nl
                self._free_from = self._pending_size
                return
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
        if self._backlog:
            self._backlog.append(data)  # after the windows still to dispatch
        else:
            self._insert_at = 0
            self._feed(data)
        self._steady = steady = (
            self._at_start is None and not self._skip_lf and not self._backlog and self._error is None
        )
        self._free = steady and not self._pending_nl
        self._free_from = self._pending_size

    def _small_crlf(self, data: bytes) -> bool:
        """:meth:`receive_data`'s steady path for a chunk holding CR (and not
        one short event): True if taken here, False to leave it to :meth:`_feed`.

        A chunk under 256 bytes that does not end with CR (whose LF may start
        the next chunk) and holds no lone CR is taken as LF data, as
        :meth:`_feed` would normalise it: its CRs are counted here, the rest by
        the LF steady path (a second ``receive_data`` call costs less than the
        general path's calls: 12% fewer instructions for the class on CRLF
        streams in 7-byte chunks).
        """
        size = len(data)
        if size >= 256 or data[-1] == 13:
            return False
        normalised = data.replace(b"\r\n", b"\n")
        if 13 in normalised:
            return False
        self._received += size - len(normalised)
        self.receive_data(normalised)
        return True

    def _pump(self) -> bool:
        """Do the next piece of deferred work; False when there is none."""
        backlog = self._backlog
        if not backlog:
            return False
        if self._error is not None:
            backlog.clear()
            return False
        job = backlog[0]
        self._insert_at = 0
        if isinstance(job, bytes):
            backlog.popleft()
            self._feed(job)
            return True
        data, pos, stop = job.data, job.pos, job.stop
        end = pos + _WINDOW
        if end >= stop - 4:  # (the region ends with its blank line: a cut after `end` exists)
            backlog.popleft()
            self._run(data, pos, stop, job.crlf)
            if self._error is None:
                self._tail(data, stop, job.crlf)
            return True
        # End the window at a blank line: the last one before ``end``, else
        # the first after it (one event longer than the window).
        if job.crlf:
            cut = data.rfind(b"\r\n\r\n", pos, end)
            cut = (cut if cut >= 0 else data.find(b"\r\n\r\n", end, stop)) + 4
        else:
            cut = _last_blank(data, pos, end)
            cut = (cut if cut >= 0 else _first_blank(data, end, stop)) + 2
        job.pos = cut
        self._run(data, pos, cut, job.crlf)
        return True

    def _feed(self, data: bytes) -> None:
        """Parse one chunk: dispatch the blocks it completes, hold the rest.

        A chunk is cut in three: the *head*, up to its first blank line, which
        closes the held block; the *run* of complete blocks up to its last
        blank line; the unterminated *tail*, held. A chunk with CRLF line
        breaks keeps them through the run (see :meth:`_shaped`); the head and
        tail are normalised to LF.
        """
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
            first = data.find(b"\r\n\r\n")
            if first < 0:
                self._feed_lf(self._normalise(data))
                return
            cut = first + 4
            deferred = len(self._backlog)
            self._feed_lf(self._normalise(data[:cut]))  # ends with a blank line
            if self._error is not None:
                return
            if len(self._backlog) != deferred:
                if cut < len(data):
                    self._defer(data[cut:])  # the head left work for later: the rest waits behind it
                return
            last = data.rfind(b"\r\n\r\n", cut)
            self._run_and_tail(data, cut, last + 4 if last >= 0 else cut, True)
        elif 10 in data:
            self._feed_lf(data)
        else:
            self._hold(data)  # inside a line (small network reads)

    def _normalise(self, data: bytes) -> bytes:
        """CRLF and CR become LF (in C); a CR ending the chunk may pair with a
        LF starting the next one."""
        data = data.replace(b"\r\n", b"\n")
        if 13 in data:
            self._skip_lf = data[-1] == 13
            data = data.replace(b"\r", b"\n")
        return data

    def _feed_lf(self, data: bytes) -> None:
        """:meth:`_feed` for LF-only data."""
        pending = self._pending
        if self._pending_nl and data[0] == 10:
            # The blank line straddles two chunks: close the held block.
            block = b"".join(pending)[:-1]
            pending.clear()
            self._pending_size = 0
            self._pending_nl = False
            if not self._blocks([block], len(block) > self._max):
                return
            data = data[1:]
            if not data:
                return
        size = len(data)
        first = _first_blank(data, 0, size)
        if first < 0:
            self._hold(data)
            return
        if pending and first + 2 < size <= _WINDOW and self._pending_size + first <= _SHORT:
            # The held block and the chunk's complete blocks make one run
            # (a chunk that only closes the held block is the head below).
            held = len(data)
            pending.append(data)
            data = b"".join(pending)
            pending.clear()
            size = len(data)
            start = size - held + first + 2
            run_start = 0
        else:
            head = data[:first]
            if pending:
                pending.append(head)
                head = b"".join(pending)
                pending.clear()
            if len(head) <= self._max:
                self._block(head)
            elif not self._blocks([head], True):
                self._pending_size = 0
                self._pending_nl = False
                return
            start = run_start = first + 2
        self._pending_size = 0
        self._pending_nl = False
        last = _last_blank(data, start, size) if start < size else -1
        self._run_and_tail(data, run_start, last + 2 if last >= 0 else start, False)

    def _run_and_tail(self, data: bytes, start: int, stop: int, crlf: bool) -> None:
        """Dispatch the complete blocks ``data[start:stop]`` (lazily when many),
        then take the tail ``data[stop:]``."""
        if stop - start > _WINDOW:
            self._defer(_Window(data, start, stop, crlf))
            return
        if stop > start:
            self._run(data, start, stop, crlf)
            if self._error is not None:
                return
        self._tail(data, stop, crlf)

    def _defer(self, job: Union[_Window, bytes]) -> None:
        """Queue work for later: after what this step deferred, before older work."""
        self._steady = self._free = False
        self._backlog.insert(self._insert_at, job)
        self._insert_at += 1

    def _tail(self, data: bytes, stop: int, crlf: bool) -> None:
        if stop < len(data):
            tail = data[stop:] if stop else data
            if crlf:
                self._feed_lf(self._normalise(tail))
            else:
                self._hold(tail)

    def _hold(self, piece: bytes) -> None:
        """Keep a piece of the open block (joined once, when it completes).

        Line breaks starting a block are empty lines that dispatch nothing:
        they are dropped, so a held block never starts with one and its size
        is the event's size.
        """
        if not self._pending_size and piece[0] == 10:  # (iter_events may hold b"")
            piece = piece.lstrip(b"\n")
            if not piece:
                return
        self._pending.append(piece)
        size = self._pending_size + len(piece)
        self._pending_size = size
        # A held trailing LF may be the end of the block, not part of it.
        self._pending_nl = newline = piece[-1] == 10
        if size - newline > self._max:
            self._fail(size - newline)

    def _run(self, data: bytes, start: int, stop: int, crlf: bool) -> None:
        """Dispatch ``data[start:stop]``: complete blocks, ending with a blank line."""
        check = stop - start > self._max
        if not check and data.find(b"\r\n\r\n" if crlf else b"\n\n", start, start + _SHORT) >= 0:  # short events
            start = self._shaped(data, start, stop, crlf)
            if start == stop:
                return
        if crlf:
            region = data[start:stop].replace(b"\r\n", b"\n")
            if 13 in region:
                region = region.replace(b"\r", b"\n")  # ends with LF: no CR to carry
            data, start, stop = region, 0, len(region)
        # ``split`` is best for short lines (its two-byte search runs at ~1 GB/s);
        # one memchr step per line for long lines, told apart by the first bytes.
        end = start + 600
        if end < stop and data.find(b"\n\n", start, end) < 0 and data.count(b"\n", start, end) < 4:
            self._long_run(data, start, stop, check)
        else:
            self._blocks(data[start : stop - 2].split(b"\n\n"), check)

    def _long_run(self, data: bytes, start: int, stop: int, check: bool) -> None:
        """:meth:`_run` for long lines: one ``memchr`` step per line, and a
        ``data:`` block of one line, or of ``event:`` + ``data:``, decoded in
        place (its payload is never copied)."""
        find = data.find
        name: Union[str, None]
        while True:
            newline = find(b"\n", start, stop)
            if newline < 0 or newline + 1 >= stop:
                return  # all taken, or what is left is one more line break (an empty line)
            if data[newline + 1] == 10:  # a block of one line
                end = newline
                name = "message" if data.startswith(b"data: ", start, end) else None
                text_start = start + 6
            else:
                second = find(b"\n", newline + 1, stop)  # exists: the region ends with a blank line
                if data[second + 1] == 10:  # a block of two lines
                    end = second
                    name = _event_name(self._lines, data[start:newline]) if data.startswith(b"data: ", newline + 1, end) else None
                    text_start = newline + 7
                else:
                    end = _find_blank(data, second, stop)
                    name = None
            if check and end - start > self._max:
                size = end - start - (data[start] == 10)  # an empty line before the block is not part of it
                if size > self._max:
                    self._fail(size)
                    return
            if name is None:
                self._block(data[start:end])
            else:
                text = codecs.utf_8_decode(memoryview(data)[text_start:end], "replace", True)[0]
                self._queue.append(_make_event(ServerSentEvent, (name, text, self._last_id, None)))
                self._dispatched += 1
            start = end + 2

    def _shaped(self, data: bytes, start: int, stop: int, crlf: bool) -> int:
        """Dispatch the leading blocks of ``data[start:stop]`` that have one of
        the two shapes Anthropic and OpenAI streams use, ``event: N`` +
        ``data: X`` or ``data: X`` alone; return where it stopped.

        The usual case, every block of one shape, is checked and dispatched
        whole by :meth:`_emit_all`. A CRLF region is split for it by
        ``bytes.splitlines()``, which breaks at CR, LF and CRLF, exactly an
        event stream's line ends, so its lines hold no CR and are checked as
        LF lines are. Otherwise the region is split at LF and walked a block
        (2 or 3 lines) at a time; the first block of another shape stops the
        walk, and the caller interprets the rest. With CRLF the walked lines
        keep their CR, and each is checked to hold exactly one, at its end
        (a lone CR or LF stops the walk).
        """
        if crlf:
            lines = data[start:stop].splitlines()
        else:
            lines = data[start : stop - 1].split(b"\n")  # the final blank line's second LF left off
        first = lines[0]
        event_shaped = first[:7] == b"event: "
        if event_shaped:
            if not len(lines) % 3:
                heads = lines[0::3]
                found: list[Any] = list(map(self._lines.get, heads))  # names, or None for a line not in the cache
                # One scan when every name is cached; else fill the cache
                # (a line that is no "event:" line stays None).
                if None not in found or None not in (
                    found := [name or _event_name(self._lines, head) for name, head in zip(found, heads)]
                ):
                    if self._emit_all(found, lines[1::3], lines[2::3]):
                        return stop
        elif first[:6] == b"data: ":
            if not len(lines) % 2 and self._emit_all(None, lines[0::2], lines[1::2]):
                return stop
        else:
            return start
        if crlf:
            lines = data[start : stop - 1].split(b"\n")  # the walk counts line lengths: the lines keep their CR
        names = self._lines_crlf if crlf else self._lines
        get = names.get
        queue = self._queue
        before = len(queue)
        emit = queue.append
        make = _make_event
        cls = ServerSentEvent
        last_id = self._last_id
        lines_iter = iter(lines)
        if event_shaped:
            per_block = 3
            if crlf:
                for head, line, blank in zip(lines_iter, lines_iter, lines_iter):
                    name = get(head)
                    if name is None and (name := _event_name_crlf(names, head)) is None:
                        break
                    # Each line is checked to hold one CR, at its end: the CR
                    # count over the region only balances across lines.
                    if blank != b"\r" or line[:6] != b"data: " or line.find(b"\r") != len(line) - 1:
                        break
                    payload = line[6:-1]
                    try:
                        text = payload.decode()
                    except UnicodeDecodeError:
                        text = payload.decode("utf-8", "replace")
                    emit(make(cls, (name, text, last_id, None)))
            else:
                for head, line, blank in zip(lines_iter, lines_iter, lines_iter):
                    name = get(head)
                    if name is None and (name := _event_name(names, head)) is None:
                        break
                    if blank or line[:6] != b"data: ":
                        break
                    payload = line[6:]
                    try:
                        text = payload.decode()
                    except UnicodeDecodeError:
                        text = payload.decode("utf-8", "replace")
                    emit(make(cls, (name, text, last_id, None)))
        else:
            per_block = 2
            end_of_line = b"\r" if crlf else b""
            for line, blank in zip(lines_iter, lines_iter):
                if blank != end_of_line or line[:6] != b"data: ":
                    break
                payload = line[6:-1] if crlf else line[6:]
                if crlf and line.find(b"\r") != len(line) - 1:
                    break
                try:
                    text = payload.decode()
                except UnicodeDecodeError:
                    text = payload.decode("utf-8", "replace")
                emit(make(cls, ("message", text, last_id, None)))
        done = len(queue) - before
        self._dispatched += done
        used = done * per_block
        if used == len(lines):
            return stop
        return start + sum(map(len, lines[:used])) + used

    def _emit_all(self, names: Union[list[str], None], data_lines: list[bytes], blanks: list[bytes]) -> bool:
        """:meth:`_shaped`'s usual case, every block of one shape: check all the
        blocks, then build their events in C (``map``/``zip``, no bytecode per
        event). False, having dispatched nothing, if any block is not of the
        shape or a data line is not valid UTF-8 (the walk then takes them).
        The lines hold no line break (split at LF, or by ``splitlines()``)."""
        # Byte strings sharing a prefix are contiguous in sorted order: if the
        # least and the greatest data line start with "data: ", all do.
        if min(data_lines)[:6] != b"data: " or max(data_lines)[:6] != b"data: " or any(blanks):
            return False
        try:
            texts = list(map(bytes.decode, map(_PAYLOAD, data_lines)))
        except UnicodeDecodeError:
            return False
        self._queue.extend(map(_make_event, repeat(ServerSentEvent), zip(names or repeat("message"), texts, repeat(self._last_id), repeat(None))))
        self._dispatched += len(texts)
        return True

    def _blocks(self, blocks: list[bytes], check: bool) -> bool:
        """Dispatch complete blocks (each ended by a blank line).

        With ``check``, blocks are first measured against the size limit; the
        blocks before an oversized one are dispatched, then the error is stored
        and False returned.
        """
        if check:
            limit = self._max
            for index, block in enumerate(blocks):
                # (An empty line next to the block, left by splitting at
                # b"\n\n" in a run of line breaks, is not part of it.)
                if len(block) > limit and len(block.strip(b"\n")) > limit:
                    self._blocks(blocks[:index], False)
                    self._fail(len(block.strip(b"\n")))
                    return False
        one = self._block
        for block in blocks:
            one(block)
        return True

    def _block(self, block: bytes) -> None:
        """Dispatch one complete block: the two common shapes inline, anything
        else through the general line interpreter."""
        name: Union[str, None]
        if len(block) > _SHORT:
            # Large events: find the data line and decode it in place (no
            # copy of the payload).
            if block.startswith(b"data: "):
                name = "message"
                start = 6
            else:
                start = block.find(b"\ndata: ") + 7
                name = _event_name(self._lines, block[: start - 7]) if start > 7 else None
            if name is not None and block.find(b"\n", start) < 0:
                text = codecs.utf_8_decode(memoryview(block)[start:], "replace", True)[0]
                self._queue.append(_make_event(ServerSentEvent, (name, text, self._last_id, None)))
                self._dispatched += 1
                return
        else:
            head, sep, payload = block.partition(b"\ndata: ")
            if sep:
                # "event: NAME" lines are cached whole: one lookup checks the
                # line and gives the decoded name.
                name = self._lines.get(head) or _event_name(self._lines, head)
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
                self._queue.append(_make_event(ServerSentEvent, (name, text, self._last_id, None)))
                self._dispatched += 1
                return
        self._interpret(block.split(b"\n"))
        self._interpret(_BLANK)

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
                        if len(names) < 64 and len(etype) <= _NAME_CACHE_LINE:
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
                        try:
                            retry = int(value)
                        except ValueError:
                            pass  # more digits than int() converts: ignored, as browsers ignore an overflowing value
        self._etype = etype
        self._retry = retry
        self._last_id = last_id
        self._dispatched = dispatched

    def _fail(self, size: int) -> None:
        self._steady = self._free = False
        self._error = EventTooLarge(
            limit=self._max,
            size=size,
            event_index=self._dispatched,
            offset=self._received,
        )
        self._pending.clear()
        self._pending_size = 0
        self._data.clear()

    def _sync(self, size: int, received: int, ends_lf: bool) -> None:
        """Take over pieces :func:`iter_events` held in ``_pending`` itself:
        the held size, bytes received since the last sync, the trailing LF."""
        self._pending_size = size
        self._received += received
        self._pending_nl = ends_lf

    def _overflow(self, size: int, received: int, ends_lf: bool) -> EventTooLarge:
        """:meth:`_sync`, then the size error :meth:`_hold` would have stored."""
        self._sync(size, received, ends_lf)
        self._fail(size - ends_lf)
        assert self._error is not None
        return self._error

    def _end_of_stream(self) -> None:
        while self._pump():
            pass
        self._ended = True
        self._steady = self._free = False
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
        if not self._queue and (self._steady or not self._backlog and self._error is None):
            return _NO_EVENTS  # the common case with small chunks: no generator
        return self._drain()

    def _drain(self) -> Iterator[ServerSentEvent]:
        # Pops one at a time: a consumer that stops early loses nothing.
        queue = self._queue
        while True:
            while queue:
                yield queue.popleft()
            if not self._backlog or not self._pump():
                break
        if self._error is not None:
            raise self._error


_NO_EVENTS: Final[Iterator[ServerSentEvent]] = iter(())


def _as_bytes(data: object, caller: str) -> bytes:
    """A chunk that is not ``bytes``, as ``bytes``: a bytes-like chunk
    (``bytearray``, ``memoryview``, ...) is copied, since the parser holds
    chunks between calls and a caller may reuse its buffer; anything else is
    refused."""
    if isinstance(data, str):
        raise LocalProtocolError(
            f"{caller} takes bytes, not str: encode the text first (an event stream is UTF-8)"
        )
    try:
        view = memoryview(data)  # type: ignore[arg-type]  # (refused below if not a buffer)
    except TypeError:
        raise LocalProtocolError(f"{caller} takes bytes, not {type(data).__name__}") from None
    except ValueError as exc:  # a released memoryview, say
        raise LocalProtocolError(f"{caller} cannot read this {type(data).__name__}: {exc}") from None
    with view:
        return view.tobytes()


def _chunk_iterator(chunks: Iterable[bytes], caller: str, async_twin: Union[str, None] = None) -> Iterator[bytes]:
    """``iter(chunks)`` for a sync reader, refusing at the call what is no
    iterable of chunks. A whole stream: iterating ``bytes`` yields ints and a
    ``str`` one-character strings, so the chunk check would blame an ``int``
    the caller never passed. An async iterable: the error names the async
    twin, ``async_twin``, if the caller has one."""
    if isinstance(chunks, (bytes, bytearray, memoryview, str)):
        kind = type(chunks).__name__
        wrap = "[text.encode()]" if isinstance(chunks, str) else "[data]"
        raise TypeError(f"{caller} takes an iterable of byte chunks, not one {kind}: pass {wrap}")
    try:
        return iter(chunks)
    except TypeError:
        hint = f" (for an async one, use {async_twin})" if async_twin and hasattr(chunks, "__aiter__") else ""
        raise TypeError(f"{caller} takes an iterable of byte chunks, not {type(chunks).__name__}{hint}") from None


def _refuse_sync_chunks(chunks: object, caller: str, sync_twin: str) -> None:
    """Refuse at the call what an async reader cannot iterate (``async for``
    would fail only at the first step), naming the sync twin for an iterable."""
    if not hasattr(chunks, "__aiter__"):
        hint = f" (for a sync one, use {sync_twin})" if hasattr(chunks, "__iter__") else ""
        raise TypeError(f"{caller} takes an async iterable of byte chunks, not {type(chunks).__name__}{hint}")


def _plain_crlf_tail(tail: bytes, limit: int) -> bool:
    """Whether the unterminated end of a CRLF read (what follows its last
    ``\\r\\n\\r\\n``) can be held as received: every line break in it a CRLF
    (but for a final CR, which a LF in the next read may complete), no empty
    line, none at its start, and within the size limit (so its LF form is
    too; the verdict is left to the bytes that complete it)."""
    crlfs = tail.count(b"\r\n")
    return (
        tail.count(b"\n") == crlfs
        and tail.count(b"\r") == crlfs + (tail[-1:] == b"\r")
        and tail[:1] != b"\r"
        and not tail.endswith(b"\n\r")
        and len(tail) <= limit
    )


def _short_event(raw: bytes, names_get: Callable[[bytes], Union[str, None]], last_id: str) -> Union[ServerSentEvent, None]:
    """The event of a chunk that is exactly one block of the common shapes,
    ``event: NAME`` (a line in the name cache) + ``data: X`` or ``data: X``
    alone, then its blank line, with LF or CRLF throughout and no other line
    break; None for any other chunk. The caller checks the size limit."""
    crlf = 13 in raw
    head, sep, rest = raw.partition(b"\r\ndata: " if crlf else b"\ndata: ")
    if sep:
        name = names_get(head)  # (cached lines hold no CR or LF)
    elif head[:6] == b"data: ":
        name, rest = "message", head[6:]
    else:
        return None
    # The rest is the payload and the blank line: no other CR or LF.
    payload = rest[: -4 if crlf else -2]
    if name is None or not rest.endswith(b"\r\n\r\n" if crlf else b"\n\n") or 10 in payload or 13 in payload:
        return None
    try:
        text = payload.decode()
    except UnicodeDecodeError:
        text = payload.decode("utf-8", "replace")
    return _make_event(ServerSentEvent, (name, text, last_id, None))


def iter_events(
    chunks: Iterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> Iterator[ServerSentEvent]:
    """Parse an iterable of byte chunks, yielding events as they complete.

    Empty chunks are skipped (they are not end of stream); the end of the
    iterable is. Chunks may be any bytes-like objects (copied if not
    ``bytes``). Raises what :meth:`SSEParser.next_event` raises, after the
    events before it, and :class:`~sseadapt.LocalProtocolError` for a chunk
    that is not bytes-like; ``TypeError`` at the call for a whole stream
    (``bytes`` or ``str``) passed instead of an iterable of chunks, or for
    anything else that is not iterable (an async iterable: use
    :func:`aiter_events`).
    """
    chunk_iter = _chunk_iterator(chunks, "iter_events()", "aiter_events()")
    # The events of each chunk come out of a C iterator: no generator step per event.
    return chain.from_iterable(_event_batches(chunk_iter, max_event_size))


def _event_batches(chunks: Iterable[bytes], max_event_size: int) -> Iterator[Iterable[ServerSentEvent]]:
    """:func:`iter_events`, as the events each chunk completes.

    A batch is the parser's queue itself, cleared when the next batch is
    asked for (after the consumer has taken every event of this one).
    """
    parser = SSEParser(max_event_size=max_event_size)
    feed = parser._feed
    pump = parser._pump
    one = parser._block
    run = parser._run
    shaped = parser._shaped
    queue = parser._queue
    backlog = parser._backlog
    pending = parser._pending
    hold = pending.append
    lines_get = parser._lines.get
    make = _make_event
    cls = ServerSentEvent
    limit = max_event_size
    short_chunk = min(256, limit + 1)  # a chunk this short holds an event within the limit
    # Common chunks are handled here, exactly as _feed would: held when they
    # cannot complete a block, closing the held block when they complete
    # exactly one, or, for reads of up to a window, run with the held block
    # (LF) or cut into head, run and tail (CRLF; the tail is then held as
    # received, crlf_tail, and the next read joined to it). Anything else
    # goes to _feed; the parser's counters are synced (_sync) before anything
    # else touches it.
    plain = False  # the parser is past any BOM and not after a CR
    after_cr = False  # the last chunk ended with CR, taken as a line break: skip one LF
    ends_lf = False  # the held block ends with LF
    base = 0  # held bytes at the last sync
    extra = 0  # bytes held since the last sync (LF-normalised)
    dropped = 0  # bytes received since the last sync but not held (CRs of CRLFs, empty lines)
    room = limit  # bytes the held block may still grow by
    crlf_tail: Union[bytes, None] = None  # the open block after a CRLF read, as received (plain is False)
    crlf_start = -1  # >= 0: run data[crlf_start:stop] (CRLF kept), then hold `tail` as received
    fast = False  # plain and not ends_lf: a line-free chunk needs no state change
    for raw in chunks:
        if type(raw) is not bytes:
            raw = _as_bytes(raw, "iter_events()")
        if fast and 10 not in raw and 13 not in raw:
            # Inside a line: hold it (the most common small chunk). An empty
            # chunk is held too: no test for it here, so nothing may take a
            # non-empty `pending` to mean bytes are held (sizes say that).
            hold(raw)
            extra += len(raw)
            if extra > room:
                raise parser._overflow(base + extra, extra + dropped, False)
            continue
        if fast and not extra and not base and raw[-1] == 10:
            # Nothing held and the chunk ends a line: a chunk that is exactly
            # one event (as a server's writes arrive when the reader keeps up)
            # of the common shapes is dispatched here; any other goes on below.
            size = len(raw)
            if size < short_chunk:
                event = _short_event(raw, lines_get, parser._last_id)
                if event is not None:
                    parser._received += size + dropped
                    dropped = 0
                    parser._dispatched += 1
                    yield (event,)
                    continue
            elif 13 not in raw and size - 2 <= limit and _first_blank(raw, 0, size) == size - 2:
                # One long event (LF): the parser's block dispatch, which decodes in place.
                parser._received += size + dropped
                dropped = 0
                one(raw[: size - 2])
                if queue:
                    yield queue
                    queue.clear()
                continue
        if after_cr and raw:  # (plain is False after a CR)
            # The CR ending the last chunk was a line break; a LF starting
            # this one is its other half.
            after_cr, plain = False, True
            if raw[0] == 10:
                raw = raw[1:]
                dropped += 1
        if not raw:
            fast = plain and not ends_lf
            continue
        if plain:
            chunk = raw
            blank = -2  # where the chunk closes the held block; -2: leave it to the parser
            taken_whole = False  # a read whose blocks are all dispatched here, `tail` then held
            size = len(raw)
            if size < 256:
                if 13 in raw:
                    # CRLF becomes LF; a CR ending the chunk is a line break
                    # whose LF may start the next chunk; any other lone CR is
                    # left to the parser.
                    chunk = raw.replace(b"\r\n", b"\n")
                    if 13 in chunk:
                        chunk = chunk[:-1] + b"\n" if chunk.find(b"\r") == len(chunk) - 1 else b""
                if not chunk:
                    pass
                elif ends_lf and chunk[0] == 10:
                    blank = -1  # the blank line straddles: the held block ends with the LF before it
                elif (blank := chunk.find(b"\n\n")) < 0:
                    if chunk[0] == 10 and not base + extra:  # (pending may hold b"")
                        chunk = chunk.lstrip(b"\n")  # empty lines before a block (as _hold)
                    if raw is not chunk:
                        dropped += len(raw) - len(chunk)
                        if raw[-1] == 13:
                            after_cr, plain = True, False
                    if chunk:
                        hold(chunk)
                        extra += len(chunk)
                        ends_lf = chunk[-1] == 10
                        if extra - ends_lf > room:
                            raise parser._overflow(base + extra, extra + dropped, ends_lf)
                    fast = plain and not ends_lf
                    continue
                if blank >= -1 and chunk.find(b"\n\n", blank + 2) >= 0:
                    blank = -2  # more than one block: the parser's run
            elif 13 not in raw and not (ends_lf and raw[0] == 10):
                if base + extra > _SHORT:
                    # A network read inside a long event (the parser would
                    # take the held block and this read's head apart anyway):
                    # closed here when it holds exactly one blank line.
                    blank = _first_blank(raw, 0, size)
                    if blank >= 0 and _last_blank(raw, blank + 2, size) >= 0:
                        blank = -2
                    last = -1 if blank == -1 else -2
                else:
                    last = _last_blank(raw, 0, size)
                if last == -1:
                    # No blank line; an empty line starting a block is dropped (as _hold).
                    if raw[0] == 10 and not base + extra:
                        raw = raw[1:]
                        size -= 1
                        dropped += 1
                    hold(raw)
                    extra += size
                    ends_lf = raw[-1] == 10
                    if extra - ends_lf > room:
                        raise parser._overflow(base + extra, extra + dropped, ends_lf)
                    fast = plain and not ends_lf
                    continue
                if last >= 0 and size <= _WINDOW and extra + last + 2 <= room:
                    # A network read of short events: the held block and the
                    # read's complete blocks make one run, as in _feed_lf.
                    hold(raw)
                    data = b"".join(pending)
                    pending.clear()
                    parser._received += extra + dropped + size
                    extra = dropped = 0
                    stop = len(data) - size + last + 2
                    # _shaped first, as _run would, without _run's probe for
                    # short events (these are): ~2% on network reads.
                    taken = shaped(data, 0, stop, False)
                    if taken != stop:
                        run(data, taken, stop, False)
                    tail = data[stop:]  # after the last blank line, so no empty line starts it
                    taken_whole, cr_end = True, False
            elif size <= _WINDOW and (first := raw.find(b"\r\n\r\n")) >= 0:
                # A network read of a CRLF stream, as _feed takes it: the head
                # (up to its first blank line) normalised to close the held
                # block, the run after it kept in CRLF, the tail held as
                # received (crlf_tail, above). Taken here only when the head
                # holds no lone CR or other blank line, the tail no blank
                # line in any form, and nothing nears the limit; every check
                # comes before anything is dispatched.
                last = raw.rfind(b"\r\n\r\n")
                head = raw[: first + 4].replace(b"\r\n", b"\n")
                tail = raw[last + 4 :]
                if (
                    13 not in head
                    and not (ends_lf and head[0] == 10)
                    and head.find(b"\n\n") == len(head) - 2
                    and extra + len(head) - 2 <= room
                    and last - first <= limit
                    and _plain_crlf_tail(tail, limit)
                ):
                    if len(head) > 2:
                        hold(head[:-2])
                    block = b"".join(pending)
                    pending.clear()
                    parser._received += extra + dropped + size
                    extra = dropped = base = 0
                    ends_lf = False
                    room = limit
                    one(block)
                    data, crlf_start, stop = raw, first + 4, last + 4
            if blank >= -1 and extra + blank <= room:
                # Completes exactly the held block, within the limit.
                if blank > 0:
                    hold(chunk[:blank])
                block = b"".join(pending)
                if blank < 0:
                    block = block[:-1]
                pending.clear()
                parser._received += extra + dropped + len(raw)
                extra = dropped = 0
                # The common short block, a cached "event: NAME" line and one
                # data line, is dispatched here as _block would; others by _block.
                name = None
                if len(block) <= _SHORT:
                    head, sep, payload = block.partition(b"\ndata: ")
                    if sep and 10 not in payload:
                        name = lines_get(head)
                if name is not None:
                    try:
                        text = payload.decode()
                    except UnicodeDecodeError:
                        text = payload.decode("utf-8", "replace")
                    parser._dispatched += 1
                    yield (make(cls, (name, text, parser._last_id, None)),)
                else:
                    one(block)
                tail = chunk[blank + 2 :]
                if tail and tail[0] == 10:
                    tail = tail.lstrip(b"\n")  # empty lines before a block (as _hold)
                taken_whole, cr_end = True, raw[-1] == 13
            if taken_whole:
                # The chunk's blocks are all dispatched: its events out, its tail held.
                if queue:
                    yield queue
                    queue.clear()
                ends_lf = False
                base = len(tail)
                if base:
                    hold(tail)
                    ends_lf = tail[-1] == 10
                    if base - ends_lf > limit:
                        raise parser._overflow(base, 0, ends_lf)
                if cr_end:
                    after_cr, plain = True, False
                room = limit - base
                fast = plain and not ends_lf
                continue
        elif crlf_tail is not None:
            # After a CRLF read, the open block is held as received, nothing
            # else: a read that completes it is joined to it and run whole
            # (a CRLF split between the reads needs no care).
            data = crlf_tail + raw
            stop = data.rfind(b"\r\n\r\n") + 4
            if 4 <= stop <= limit and len(raw) <= _WINDOW:
                tail = data[stop:]
                if _plain_crlf_tail(tail, limit):
                    parser._received += len(raw)
                    crlf_start = 0
        if crlf_start >= 0:
            if stop > crlf_start:
                taken = shaped(data, crlf_start, stop, True)  # (as above)
                if taken != stop:
                    run(data, taken, stop, True)
            if queue:
                yield queue
                queue.clear()
            crlf_tail = tail or None
            plain = crlf_tail is None
            crlf_start = -1
            fast = plain and not ends_lf
            continue
        parser._sync(base + extra, extra + dropped + len(raw), ends_lf)
        if crlf_tail is not None:
            raw = crlf_tail + raw  # the held tail (received already) goes first
            crlf_tail = None
        parser._insert_at = 0
        feed(raw)
        while True:
            if queue:
                yield queue
                queue.clear()
            if not backlog or not pump():
                break
        if parser._error is not None:
            raise parser._error
        plain = parser._at_start is None and not parser._skip_lf
        ends_lf = parser._pending_nl
        base = parser._pending_size
        extra = dropped = 0
        room = limit - base
        fast = plain and not ends_lf
    parser._sync(base + extra, extra + dropped, ends_lf)
    if crlf_tail is not None:
        feed(crlf_tail)  # only held: it completes no block (_plain_crlf_tail)
    parser.receive_data(b"")
    yield parser.events()


def aiter_events(
    chunks: AsyncIterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> AsyncIterator[ServerSentEvent]:
    """Async twin of :func:`iter_events` (the same chunks taken, the same
    errors); works on asyncio and trio alike.

    It takes ownership of ``chunks``: if the source has an ``aclose()`` method
    (an async generator, an httpx byte stream) it is closed when this iterator
    finishes, fails or is closed early.

    Raises:
        TypeError: at the call, for ``chunks`` that is not an async iterable
            (a list, say: use :func:`iter_events`).
    """
    _refuse_sync_chunks(chunks, "aiter_events()", "iter_events()")
    parser = SSEParser(max_event_size=max_event_size)  # (a bad max_event_size is refused at the call too)
    return _aiter_events(parser, chunks)


async def _aiter_events(parser: SSEParser, chunks: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    feed = parser.receive_data
    try:
        async for chunk in chunks:
            if type(chunk) is not bytes:
                chunk = _as_bytes(chunk, "aiter_events()")  # (before the test for b"", which a str "" passes)
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
