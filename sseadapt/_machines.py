"""Validating state machines for the Anthropic stream dialects.

Theory of operation
-------------------

All transition logic lives in the tables below, one per dialect, in the form
``{(state, event_kind): next_state}``. An event's *kind* is a short string
computed from the typed event by :func:`event_kind` (``"completion"`` and
``"stop"`` are both :class:`~sseadapt.Completion` events, told apart by
``stop_reason``), so the tables stay plain data that tests and docs can walk.

Rules shared by every dialect (spec §4.6, D6, D7):

* ``ping`` and unknown events are allowed in every state and change nothing;
* an ``error`` event moves any live state to ``ERROR``; the machine keeps the
  :class:`~sseadapt.UpstreamError` in :attr:`StreamMachine.upstream_error`;
* a (state, kind) pair missing from the table is a protocol violation: the
  machine moves to ``ERROR`` and raises :class:`~sseadapt.UnexpectedEvent`
  naming both. ``ERROR`` is sticky: every later event raises again;
* :meth:`StreamMachine.end` at end of input raises
  :class:`~sseadapt.IncompleteStream` unless the terminal event arrived (or
  the stored upstream error, if the stream reported one).

Guards the tables cannot express, checked after the table lookup: Messages
blocks open with ``index`` 0, 1, 2, … in order; a delta or stop names the
open block; a delta's type fits the block's type (unknown deltas and unknown
block types fit anything, D6). Legacy cumulative text must extend the previous
text (D5).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterator
from typing import Final, Union

from ._errors import IncompleteStream, LocalProtocolError, ProtocolError, SSEAdaptError, UnexpectedEvent, UpstreamError
from ._events import (
    _DECODERS,
    _DIALECT_EVENTS,
    AnthropicEvent,
    CitationsDelta,
    Completion,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Dialect,
    ErrorEvent,
    InputJSONDelta,
    LegacyCompletion,
    LegacyDone,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
    UnknownDelta,
    UnknownEvent,
)
from ._sse import DEFAULT_MAX_EVENT_SIZE, SSEParser

__all__ = [
    "State",
    "TRANSITIONS",
    "EVENT_KINDS",
    "event_kind",
    "StreamMachine",
    "StreamReader",
]


class State(enum.Enum):
    """States of the dialect machines (each dialect uses a subset)."""

    #: Nothing yet (every dialect).
    START = "START"
    #: Completions: text is arriving.
    STREAMING = "STREAMING"
    #: Legacy: the stop event arrived; ``[DONE]`` must follow.
    STOPPED = "STOPPED"
    #: Messages: inside the message, no block open.
    IN_MESSAGE = "IN_MESSAGE"
    #: Messages: a content block is open.
    IN_BLOCK = "IN_BLOCK"
    #: Messages: ``message_delta`` seen; only more deltas or ``message_stop``.
    MESSAGE_DELTA = "MESSAGE_DELTA"
    #: The terminal event arrived (every dialect).
    DONE = "DONE"
    #: An error event or a protocol violation (every dialect; sticky).
    ERROR = "ERROR"

    # Members are singletons: identity hashing (C) instead of Enum's
    # hash(self._name_) (a Python call), for the per-event table lookup.
    __hash__ = object.__hash__


S = State

#: ``TRANSITIONS[dialect][(state, kind)] -> next state``. Pings, unknown
#: events and errors are handled by the shared rules in the module docstring.
TRANSITIONS: Final[dict[Dialect, dict[tuple[State, str], State]]] = {
    Dialect.LEGACY: {
        (S.START, "completion"): S.STREAMING,
        (S.START, "stop"): S.STOPPED,
        (S.STREAMING, "completion"): S.STREAMING,
        (S.STREAMING, "stop"): S.STOPPED,
        (S.STOPPED, "done"): S.DONE,
    },
    Dialect.COMPLETIONS: {
        (S.START, "completion"): S.STREAMING,
        (S.START, "stop"): S.DONE,
        (S.STREAMING, "completion"): S.STREAMING,
        (S.STREAMING, "stop"): S.DONE,
    },
    Dialect.MESSAGES: {
        (S.START, "message_start"): S.IN_MESSAGE,
        (S.IN_MESSAGE, "content_block_start"): S.IN_BLOCK,
        (S.IN_BLOCK, "content_block_delta"): S.IN_BLOCK,
        (S.IN_BLOCK, "content_block_stop"): S.IN_MESSAGE,
        (S.IN_MESSAGE, "message_delta"): S.MESSAGE_DELTA,
        (S.MESSAGE_DELTA, "message_delta"): S.MESSAGE_DELTA,
        (S.MESSAGE_DELTA, "message_stop"): S.DONE,
        # The docs promise "one or more" message_delta, but a stream without
        # one is still a complete message (stop_reason stays null).
        (S.IN_MESSAGE, "message_stop"): S.DONE,
    },
}

#: Every event kind each dialect's decoder can produce.
EVENT_KINDS: Final[dict[Dialect, tuple[str, ...]]] = {
    Dialect.LEGACY: ("completion", "stop", "done", "ping", "error", "unknown"),
    Dialect.COMPLETIONS: ("completion", "stop", "ping", "error", "unknown"),
    Dialect.MESSAGES: (
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
        "unknown",
    ),
}

_KIND_BY_TYPE: Final[dict[type, str]] = {
    UnknownEvent: "unknown",
    Ping: "ping",
    ErrorEvent: "error",
    LegacyDone: "done",
    MessageStart: "message_start",
    ContentBlockStart: "content_block_start",
    ContentBlockDelta: "content_block_delta",
    ContentBlockStop: "content_block_stop",
    MessageDelta: "message_delta",
    MessageStop: "message_stop",
}


def event_kind(event: AnthropicEvent) -> str:
    """The table key for ``event`` (see the module docstring).

    Raises:
        LocalProtocolError: ``event`` is not one of the typed Anthropic events.
    """
    if isinstance(event, (Completion, LegacyCompletion)):
        return "stop" if event.stop_reason is not None else "completion"
    kind = _KIND_BY_TYPE.get(type(event))
    if kind is None:
        for base in type(event).__mro__[1:]:  # a subclass of an event type
            if base in _KIND_BY_TYPE:
                return _KIND_BY_TYPE[base]
        raise LocalProtocolError(f"{type(event).__name__} is not an Anthropic event (see EVENT_KINDS)")
    return kind


#: Which delta types fit which block types; unknown block types take any delta.
_DELTAS_FOR_BLOCK: Final[dict[str, tuple[type, ...]]] = {
    "text": (TextDelta, CitationsDelta),
    "tool_use": (InputJSONDelta,),
    "server_tool_use": (InputJSONDelta,),
    "mcp_tool_use": (InputJSONDelta,),
    "thinking": (ThinkingDelta, SignatureDelta),
}
_NO_DELTA_BLOCKS: Final = frozenset(
    ["redacted_thinking", "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result"]
)

_TERMINAL_NAME: Final[dict[Dialect, str]] = {
    Dialect.LEGACY: "a stop event followed by data: [DONE]",
    Dialect.COMPLETIONS: "a completion with a stop_reason",
    Dialect.MESSAGES: "message_stop",
}


class StreamMachine:
    """Validates the order of one stream's typed events.

    Args:
        dialect: the stream's dialect (not :attr:`Dialect.OPENAI`).
    """

    def __init__(self, dialect: Union[Dialect, str]) -> None:
        self.dialect = Dialect.parse(dialect)
        if self.dialect not in TRANSITIONS:
            raise ValueError(f"no state machine for {self.dialect}")
        self._table = TRANSITIONS[self.dialect]
        self._types = _DIALECT_EVENTS[self.dialect]
        #: The current :class:`State`.
        self.state = State.START
        #: The error the stream reported, once it did.
        self.upstream_error: UpstreamError | None = None
        #: The protocol violation that put the machine in ERROR, if any.
        self.violation: UnexpectedEvent | None = None
        #: Typed events accepted so far.
        self.event_count = 0
        #: Unknown events seen (D6: allowed, but many of them hint at a wrong dialect).
        self.unknown_count = 0
        self._blocks_opened = 0
        self._open_block: ContentBlockStart | None = None
        self._cumulative = ""

    def receive(self, event: AnthropicEvent) -> State:
        """Apply one event; return the new state.

        Raises:
            UnexpectedEvent: the event is illegal now (the machine is then in
                ERROR and stays there).
            LocalProtocolError: ``event`` is not a typed event of the machine's
                dialect (the machine is unchanged).
        """
        if not isinstance(event, self._types):
            kind = event_kind(event)  # (raises for what is no event at all)
            raise LocalProtocolError(f"{self.dialect}: a {type(event).__name__} ({kind!r}) is not an event of this dialect")
        state = self.state
        kind = event_kind(event)
        index = self.event_count
        if state is State.ERROR:
            raise self._violate(f"{kind!r} event after the stream failed", event, index)
        if kind == "ping" or kind == "unknown":
            self.event_count += 1
            if kind == "unknown":
                self.unknown_count += 1
            return state
        if kind == "error":
            assert isinstance(event, ErrorEvent)
            self.upstream_error = UpstreamError(
                error_type=event.error_type, message=event.message, body=event.raw, event_index=index
            )
            self.state = State.ERROR
            self.event_count += 1
            return self.state
        new = self._table.get((state, kind))
        if new is None:
            raise self._violate(f"{kind!r} event is not allowed in state {state.name}", event, index)
        self._guard(event, index)
        self.state = new
        self.event_count += 1
        return new

    def _violate(self, msg: str, event: AnthropicEvent, index: int) -> UnexpectedEvent:
        state = self.state
        self.state = State.ERROR
        error = UnexpectedEvent(
            f"{self.dialect.value}: {msg} (event #{index})", state=state, event=event, event_index=index
        )
        if self.violation is None:
            self.violation = error
        return error

    def _guard(self, event: AnthropicEvent, index: int) -> None:
        if isinstance(event, LegacyCompletion):
            if not event.completion.startswith(self._cumulative):
                raise self._violate(
                    "cumulative completion does not extend the previous text (D5)", event, index
                )
            self._cumulative = event.completion
        elif isinstance(event, ContentBlockStart):
            if event.index != self._blocks_opened:
                raise self._violate(
                    f"content_block_start index {event.index}, expected {self._blocks_opened}",
                    event,
                    index,
                )
            self._blocks_opened += 1
            self._open_block = event
        elif isinstance(event, ContentBlockDelta):
            block = self._open_block
            assert block is not None
            if event.index != block.index:
                raise self._violate(
                    f"delta for block {event.index} while block {block.index} is open", event, index
                )
            delta = event.delta
            if not isinstance(delta, UnknownDelta):
                btype = block.block_type
                fits = _DELTAS_FOR_BLOCK.get(btype)
                if (fits is not None and not isinstance(delta, fits)) or btype in _NO_DELTA_BLOCKS:
                    raise self._violate(
                        f"{type(delta).__name__} does not fit a {btype!r} block", event, index
                    )
        elif isinstance(event, ContentBlockStop):
            block = self._open_block
            assert block is not None
            if event.index != block.index:
                raise self._violate(
                    f"content_block_stop for block {event.index} while block {block.index} is open",
                    event,
                    index,
                )
            self._open_block = None

    def end(self) -> None:
        """Declare end of input.

        Raises:
            UpstreamError: the stream reported an error (its ``error`` event).
            UnexpectedEvent: the stream had broken the protocol earlier.
            IncompleteStream: the input ended before the terminal event.
        """
        if self.state is State.DONE:
            return
        if self.upstream_error is not None:
            raise self.upstream_error
        if self.violation is not None:
            raise self.violation
        hint = ""
        if self.state is State.START and self.unknown_count:
            hint = (
                f" ({self.unknown_count} events were not {self.dialect.value} events:"
                " is the dialect right?)"
            )
        raise IncompleteStream(
            f"{self.dialect.value} stream ended in state {self.state.name} before "
            f"{_TERMINAL_NAME[self.dialect]}{hint}",
            state=self.state,
            event_index=self.event_count,
        )


class StreamReader:
    """Bytes in, validated typed events out: parser, decoder and machine in one.

    Sans-I/O, with the parser's verbs: :meth:`receive_data` (``b""`` = end of
    stream), :meth:`next_event`, :meth:`events`. Errors surface in order:
    every event before the fault is returned first, then the error is raised,
    and raised again on later calls. At end of stream, a stream that did not
    reach its terminal event raises :class:`~sseadapt.IncompleteStream` (or
    the :class:`~sseadapt.UpstreamError` it reported).

    Args:
        dialect: the input dialect, named by the caller.
        max_event_size: passed to :class:`~sseadapt.SSEParser`.
    """

    def __init__(self, dialect: Union[Dialect, str], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.machine = StreamMachine(dialect)
        self.dialect = self.machine.dialect
        # decode_event without its per-call checks: the dialect has a machine,
        # so a decoder, and the parser yields only ServerSentEvents.
        self._decode = _DECODERS[self.dialect]
        self.parser = SSEParser(max_event_size=max_event_size)
        self._ready: deque[tuple[AnthropicEvent, str]] = deque()  # with the SSE data it came from
        self._error: SSEAdaptError | None = None
        self._ended = False

    def receive_data(self, data: bytes) -> None:
        """Feed bytes; ``b""`` ends the stream."""
        parser = self.parser
        parser.receive_data(data)
        if self._error is not None:
            return
        machine = self.machine
        decode = self._decode
        try:
            for sse in parser.events():
                event = decode(sse)
                machine.receive(event)
                self._ready.append((event, sse.data))
            if data == b"" and not self._ended:
                self._ended = True
                machine.end()
        except SSEAdaptError as exc:
            if isinstance(exc, ProtocolError):
                if exc.event_index is None:
                    exc.event_index = machine.event_count
                if exc.offset is None:
                    exc.offset = parser.bytes_received
            self._error = exc

    @property
    def complete(self) -> bool:
        """Whether the terminal event has arrived."""
        return self.machine.state is State.DONE

    def next_event(self) -> AnthropicEvent | None:
        """Return the next typed event, or ``None`` if none is ready.

        Raises:
            SSEAdaptError: the stream's first fault, after the events before it.
        """
        if self._ready:
            return self._ready.popleft()[0]
        if self._error is not None:
            raise self._error
        return None

    def events(self) -> Iterator[AnthropicEvent]:
        """Yield the typed events ready now; then raise the fault, if any."""
        ready = self._ready
        while ready:
            yield ready.popleft()[0]
        if self._error is not None:
            raise self._error

    def events_with_data(self) -> Iterator[tuple[AnthropicEvent, str]]:
        """As :meth:`events`, each event with the SSE data it was decoded from."""
        ready = self._ready
        while ready:
            yield ready.popleft()
        if self._error is not None:
            raise self._error
