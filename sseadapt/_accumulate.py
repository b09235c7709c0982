"""Sans-I/O accumulators: fold a typed event stream into its final result.

Like the SDKs' stream helpers (``MessageStream.get_final_message()``), but
without I/O: :meth:`add` each typed event, then call :meth:`result`. Each
accumulator runs its own :class:`~sseadapt.StreamMachine`, so ``result()``
never returns for a stream that did not reach its terminal event: it raises
:class:`~sseadapt.IncompleteStream`, or the stream's
:class:`~sseadapt.UpstreamError`.

Text is collected as pieces and joined once, so accumulating costs O(bytes).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, Final, Union

import attrs

from ._errors import InvalidPayload, LocalProtocolError
from ._events import (
    _bad_starting_text,
    AnthropicEvent,
    CitationsDelta,
    Completion,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Dialect,
    InputJSONDelta,
    LegacyCompletion,
    MessageDelta,
    MessageStart,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
    json_from_wire,
)
from ._machines import StreamMachine, StreamReader
from ._sse import _chunk_iterator

__all__ = [
    "CompletionResult",
    "CompletionAccumulator",
    "MessageAccumulator",
    "accumulate",
]


@attrs.frozen(kw_only=True)
class CompletionResult:
    """The final state of a Text Completions stream (either version)."""

    completion: str
    stop_reason: Union[str, None]
    model: Union[str, None]
    stop: Union[str, None] = None
    log_id: Union[str, None] = None


class CompletionAccumulator:
    """Folds a Text Completions stream (``2023-01-01`` or ``2023-06-01``)."""

    def __init__(self, dialect: Union[Dialect, str]) -> None:
        self.machine = StreamMachine(dialect)
        if self.machine.dialect not in (Dialect.LEGACY, Dialect.COMPLETIONS):
            raise ValueError("CompletionAccumulator takes a completions dialect")
        self._pieces: list[str] = []
        self._cumulative = ""
        self.stop_reason: Union[str, None] = None
        self.model: Union[str, None] = None
        self.stop: Union[str, None] = None
        self.log_id: Union[str, None] = None

    @property
    def text(self) -> str:
        """The completion text so far."""
        if self.machine.dialect is Dialect.LEGACY:
            return self._cumulative
        if len(self._pieces) > 1:
            self._pieces[:] = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""

    def add(self, event: AnthropicEvent) -> None:
        """Apply one typed event (validated by the accumulator's machine)."""
        self.machine.receive(event)
        if isinstance(event, LegacyCompletion):
            self._cumulative = event.completion
        elif isinstance(event, Completion):
            self._pieces.append(event.completion)
            if event.id is not None and self.log_id is None:
                self.log_id = event.id
        else:
            return
        if event.model is not None:
            self.model = event.model
        if event.stop_reason is not None:
            self.stop_reason = event.stop_reason
            self.stop = event.stop
        if event.log_id is not None:
            self.log_id = event.log_id

    def result(self) -> CompletionResult:
        """The final completion.

        Raises:
            IncompleteStream: the stream has not reached its terminal event.
            UpstreamError: the stream reported an error.
        """
        self.machine.end()
        return CompletionResult(
            completion=self.text,
            stop_reason=self.stop_reason,
            model=self.model,
            stop=self.stop,
            log_id=self.log_id,
        )


# Message fields the accumulator builds itself; a message_delta's delta does not replace them.
_OWN_FIELDS: Final = frozenset(["content", "usage"])


class MessageAccumulator:
    """Folds a Messages stream into the final ``Message`` object (a dict).

    Content blocks come out as the API returns them in a non-streaming
    response: text with its ``citations``, ``tool_use`` with ``input`` parsed
    from the concatenated ``partial_json``, thinking with its ``signature``.
    Usage counters take the latest value seen (C6). A ``message_delta``'s
    ``delta`` fields (``stop_reason``, ``stop_sequence``, newer ones) are set on
    the message, except ``content`` and ``usage``, which come from the blocks
    and the events' ``usage``.
    """

    def __init__(self) -> None:
        self.machine = StreamMachine(Dialect.MESSAGES)
        self.message: dict[str, Any] = {}
        self._pieces: dict[int, list[str]] = {}

    def add(self, event: AnthropicEvent) -> None:
        """Apply one typed event (validated by the accumulator's machine)."""
        self.machine.receive(event)
        if isinstance(event, ContentBlockDelta):
            delta = event.delta
            block = self.message["content"][event.index]
            if isinstance(delta, (TextDelta, InputJSONDelta, ThinkingDelta)):
                self._pieces[event.index].append(
                    delta.text
                    if isinstance(delta, TextDelta)
                    else delta.partial_json
                    if isinstance(delta, InputJSONDelta)
                    else delta.thinking
                )
            elif isinstance(delta, SignatureDelta):
                block["signature"] = delta.signature
            elif isinstance(delta, CitationsDelta):
                block.setdefault("citations", []).append(copy.deepcopy(delta.citation))
        elif isinstance(event, MessageStart):
            self.message = copy.deepcopy(event.message)
            self.message["content"] = []
            self.message["usage"] = dict(event.usage)
        elif isinstance(event, ContentBlockStart):
            if (key := _bad_starting_text(event.content_block)) is not None:
                # Decoded events never get here (InvalidPayload); this one was built by hand.
                raise LocalProtocolError(f"{key} block {event.index} starts with {key!r} that is not str")
            self.message["content"].append(copy.deepcopy(event.content_block))
            self._pieces[event.index] = []
        elif isinstance(event, ContentBlockStop):
            self._close_block(event.index)
        elif isinstance(event, MessageDelta):
            for key, value in event.delta.items():
                if key not in _OWN_FIELDS:  # built from the blocks and the events' usage
                    self.message[key] = copy.deepcopy(value)
            usage = self.message.setdefault("usage", {})
            for key, value in event.usage.items():
                if value is not None:
                    usage[key] = copy.deepcopy(value)

    def _close_block(self, index: int) -> None:
        block = self.message["content"][index]
        joined = "".join(self._pieces.pop(index, []))
        btype = block.get("type")
        if btype == "text":
            block["text"] = block.get("text", "") + joined
        elif btype == "thinking":
            block["thinking"] = block.get("thinking", "") + joined
        elif joined and "input" in block:
            try:
                block["input"] = json_from_wire(joined)
            except ValueError as exc:
                raise InvalidPayload(
                    f"tool input of block {index} is not JSON: {exc}",
                    event="content_block_stop",
                    data=joined,
                ) from None

    def result(self) -> dict[str, Any]:
        """The final message.

        Raises:
            IncompleteStream: the stream has not reached ``message_stop``.
            UpstreamError: the stream reported an error.
        """
        self.machine.end()
        return self.message


def accumulate(
    dialect: Union[Dialect, str], chunks: Iterable[bytes]
) -> Union[CompletionResult, dict[str, Any]]:
    """Read a whole stream from byte chunks and return its final result.

    A :class:`CompletionResult` for the completions dialects, the final message
    dict for Messages.

    Raises:
        SSEAdaptError: the stream is malformed, incomplete or reported an error.
        TypeError: a whole stream (``bytes`` or ``str``) passed instead of an
            iterable of chunks, or anything else that is not iterable.
    """
    chunk_iter = _chunk_iterator(chunks, "accumulate()")
    reader = StreamReader(dialect)
    acc: Union[CompletionAccumulator, MessageAccumulator] = (
        MessageAccumulator() if reader.dialect is Dialect.MESSAGES else CompletionAccumulator(reader.dialect)
    )
    for chunk in chunk_iter:
        if chunk:
            reader.receive_data(chunk)
            for event in reader.events():
                acc.add(event)
    reader.receive_data(b"")
    for event in reader.events():
        acc.add(event)
    return acc.result()
