"""Converters between stream dialects: typed events in, output bytes out.

Theory of operation
-------------------

A converter receives the validated typed events of one input stream (from a
:class:`~sseadapt.StreamReader`) through :meth:`Converter.send` and returns the
bytes of the output dialect for each. Sans-I/O: no clock, randomness or I/O
except through the injected ``clock`` and ``log_id_factory``.

The decisions it implements are in ``../shared/spec/wire-formats.md`` §8:

* Output shape (§1.2): an optional ``event:`` line, exactly one ``data:``
  line of one-line JSON, a blank line; never comments, ``id:`` or ``retry:``.
  JSON uses Python's default separators for the completions dialects and
  compact ones for Messages and OpenAI, ``ensure_ascii=False`` (D12). Lone
  surrogates (which JSON input can carry as ``\\udXXX`` escapes) are written
  back as escapes, so output is always valid UTF-8.
* Terminal markers are written only when the input's terminal arrives (C1):
  Messages ``message_stop``; 2023-06-01 the completion with a ``stop_reason``;
  legacy ``[DONE]`` after a stop event (so output that needs the legacy stop
  event is held until ``[DONE]``).
* An input ``error`` event becomes the output dialect's error shape, and the
  output ends there (D4, C7). Input that ends early (D7) or breaks its
  protocol gets the same shape with type ``api_error``; the converter never
  writes a terminal marker for it. Every piece of text received before the
  error has been written before the error shape.
* Pings (C4, D2): kept in place for 2023-06-01 and Messages output, dropped
  for legacy output unless ``ping="keep"``, never written to OpenAI output.
  Unknown events (D6): passed through untouched where the output has named
  events, dropped for data-only outputs unless ``unknown="raise"``.
* Cumulative legacy text costs O(output bytes): the JSON-escaped text is kept
  and extended with each escaped increment (JSON escaping is concatenative),
  never re-encoded from the start.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Final, Literal, Union

from ._errors import ConversionError, LocalProtocolError
from ._events import (
    _bad_starting_text,
    _DIALECT_EVENTS,
    AnthropicEvent,
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
    TextDelta,
    UnknownEvent,
)

__all__ = [
    "Converter",
    "ConverterOptions",
    "make_converter",
    "SUPPORTED_CONVERSIONS",
    "TRUNCATED_MESSAGE",
    "completion_stop_reason",
    "openai_finish_reason",
]

#: The D7 message (C8).
TRUNCATED_MESSAGE: Final = "upstream stream ended early (no terminal event)"

PingPolicy = Literal["default", "keep", "event", "drop"]
UnknownPolicy = Literal["default", "pass", "drop", "raise"]


# Encoders built once: json.dumps() with non-default arguments builds a new
# JSONEncoder on every call, which was the largest cost of the converters.
_encode_default = json.JSONEncoder(ensure_ascii=False).encode
_encode_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps_default(obj: Any) -> bytes:
    return _encode_default(obj).encode("utf-8", "backslashreplace")


def _dumps_compact(obj: Any) -> bytes:
    return _encode_compact(obj).encode("utf-8", "backslashreplace")


def _escaped(text: str) -> bytes:
    """The JSON string body of ``text`` (without quotes)."""
    return _encode_default(text)[1:-1].encode("utf-8", "backslashreplace")


_PING_EVENT: Final = b'event: ping\ndata: {"type": "ping"}\n\n'
_DONE: Final = b"data: [DONE]\n\n"


def completion_stop_reason(stop_reason: Union[str, None]) -> str:
    """D9: a Messages ``stop_reason`` as a Text Completions ``stop_reason``."""
    if stop_reason in ("max_tokens", "model_context_window_exceeded"):
        return "max_tokens"
    return "stop_sequence"


def openai_finish_reason(stop_reason: Union[str, None]) -> str:
    """D11: a Messages ``stop_reason`` as an OpenAI ``finish_reason``."""
    return _FINISH.get(stop_reason or "", "stop")


_FINISH: Final = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _error_object(event: ErrorEvent) -> dict[str, Any]:
    """The upstream ``error`` object, copied unchanged (C7)."""
    error = event.raw.get("error")
    if isinstance(error, dict):
        return error
    return {"type": event.error_type, "message": event.message}


def _passthrough(event: UnknownEvent) -> bytes:
    """An unknown event as it arrived (its data split into ``data:`` lines).

    Raises:
        ConversionError: a CR or LF in the name, or a CR in the data, would
            inject lines (the parser never produces these; hand-built events can).
    """
    if "\r" in event.event or "\n" in event.event or "\r" in event.data or not event.event:
        raise ConversionError(f"unknown event {event.event!r} cannot be written without injecting lines", event=event)
    lines = [b"event: " + event.event.encode("utf-8", "backslashreplace")] if event.event != "message" else []
    lines.extend(b"data: " + line for line in event.data.encode("utf-8", "backslashreplace").split(b"\n"))
    return b"\n".join(lines) + b"\n\n"


class ConverterOptions:
    """Options shared by every converter (validated once, then read-only).

    Args:
        ping: ``"default"`` (per D2/C4), ``"keep"`` (alias ``"event"``) or ``"drop"``.
        unknown: ``"default"`` (per D6), ``"pass"``, ``"drop"`` or ``"raise"``.
        non_text: Messages -> completions: ``"drop"`` non-text blocks (D9) or ``"raise"``.
        include_usage: Messages -> OpenAI: end with the usage chunk (D11).
        clock: returns the unix time for OpenAI ``created`` (injectable, C9), an int.
        log_id_factory: makes a legacy ``log_id`` when the input has none (D1, C9), a str.

    Raises:
        ValueError: a policy that is not one of its choices.
        TypeError: ``include_usage`` is not a bool, or ``clock`` or
            ``log_id_factory`` is not callable. What they return is checked
            when it is used: a ``clock`` that returns no int, or a
            ``log_id_factory`` that returns no str, raises :exc:`TypeError`
            from the call that needed it.
    """

    __slots__ = ("ping", "unknown", "non_text", "include_usage", "clock", "log_id_factory")

    def __init__(
        self,
        *,
        ping: PingPolicy = "default",
        unknown: UnknownPolicy = "default",
        non_text: Literal["drop", "raise"] = "drop",
        include_usage: bool = False,
        clock: Callable[[], int] | None = None,
        log_id_factory: Callable[[], str] | None = None,
    ) -> None:
        if ping not in ("default", "keep", "event", "drop"):
            raise ValueError(f"ping must be default, keep, event or drop, not {ping!r}")
        if unknown not in ("default", "pass", "drop", "raise"):
            raise ValueError(f"unknown must be default, pass, drop or raise, not {unknown!r}")
        if non_text not in ("drop", "raise"):
            raise ValueError(f"non_text must be drop or raise, not {non_text!r}")
        if not isinstance(include_usage, bool):
            raise TypeError(f"include_usage must be a bool, not {type(include_usage).__name__}")
        for name, factory in (("clock", clock), ("log_id_factory", log_id_factory)):
            if factory is not None and not callable(factory):
                raise TypeError(f"{name} must be callable, not {type(factory).__name__}")
        self.ping: PingPolicy = "keep" if ping == "event" else ping
        self.unknown: UnknownPolicy = unknown
        self.non_text = non_text
        self.include_usage = include_usage
        self.clock: Callable[[], int] = clock or (lambda: int(time.time()))
        self.log_id_factory: Callable[[], str] = log_id_factory or (lambda: secrets.token_hex(32))


class Converter:
    """Base class: one instance converts one stream.

    Subclasses implement :meth:`_convert`; the base handles the shared
    rules (pings, unknown events, errors, closing after an error shape).
    """

    source: Dialect
    target: Dialect

    def __init__(self, options: ConverterOptions) -> None:
        self.options = options
        self._accepts = _DIALECT_EVENTS[self.source]
        self.finished = False  # a terminal marker or an error shape was written
        self._wire: Union[str, None] = None  # the SSE data of the event being converted
        named = self.target in (Dialect.COMPLETIONS, Dialect.MESSAGES)
        if self.target is Dialect.OPENAI and options.ping == "keep":
            raise ValueError("OpenAI output cannot carry pings (the openai SDK reads them as chunks)")
        if not named and options.unknown == "pass":
            raise ValueError(f"{self.target} output is data-only: unknown events cannot pass through")
        self._keep_pings = options.ping == "keep" or (options.ping == "default" and named)
        self._pass_unknown = options.unknown == "pass" or (options.unknown == "default" and named)

    def send(self, event: AnthropicEvent, data: Union[str, None] = None) -> bytes:
        """Convert one typed input event; returns the output bytes (maybe ``b""``).

        ``data`` is the SSE data the event was decoded from, if known: the
        identity conversions re-emit it as received instead of re-serialising
        ``event.raw`` (same JSON, the input's own spelling, several times
        cheaper). Other conversions ignore it.

        Raises:
            ConversionError: an option says to refuse this event.
            LocalProtocolError: ``event`` is not an event of the source
                dialect (a converter would otherwise drop it unseen).
        """
        if not isinstance(event, self._accepts):
            raise LocalProtocolError(
                f"a {self.source} -> {self.target} converter takes {self.source} events, not {type(event).__name__}"
            )
        if self.finished:
            return b""
        if isinstance(event, Ping):
            return _PING_EVENT if self._keep_pings else b""
        if isinstance(event, UnknownEvent):
            if self._pass_unknown:
                return _passthrough(event)
            if self.options.unknown == "raise":
                raise ConversionError(
                    f"unknown event {event.event!r} has no {self.target} form", event=event
                )
            return b""
        if isinstance(event, ErrorEvent):
            self.finished = True
            return self._error(event.error_type, event.message, _error_object(event))
        self._wire = data
        return self._convert(event)

    def fail(self, error_type: str, message: str) -> bytes:
        """End the output with the target's error shape (D7, or a broken input).

        Returns ``b""`` if the output already ended.
        """
        if self.finished:
            return b""
        self.finished = True
        return self._error(error_type, message, {"type": error_type, "message": message})

    def _convert(self, event: AnthropicEvent) -> bytes:
        raise NotImplementedError

    def _error(self, error_type: str, message: str, error: dict[str, Any]) -> bytes:
        raise NotImplementedError


# -- per-target writers ------------------------------------------------------


class _LegacyOut(Converter):
    """Writes legacy 2023-01-01 output (D1-D4) from incremental text."""

    target = Dialect.LEGACY

    def __init__(self, options: ConverterOptions) -> None:
        super().__init__(options)
        self._text = bytearray()  # JSON-escaped cumulative text
        self._model: Union[str, None] = None
        self._log_id: Union[str, None] = None
        self._tail = b""  # ', "stop_reason": null, ... "exception": null}\n\n'
        self._tail_key: tuple[Union[str, None], Union[str, None]] | None = None

    def _ids(self, model: Union[str, None], log_id: Union[str, None]) -> None:
        if model is not None:
            self._model = model
        if self._log_id is None and log_id is not None:
            self._log_id = log_id

    def _fields(self) -> tuple[bytes, bytes]:
        if self._log_id is None:
            log_id = self.options.log_id_factory()
            if not isinstance(log_id, str):
                raise TypeError(f"log_id_factory() must return a str, not {type(log_id).__name__}")
            self._log_id = log_id
        return _dumps_default(self._model), _dumps_default(self._log_id)

    def _text_event(self, piece: str) -> bytes:
        if not piece:
            return b""
        self._text += _escaped(piece)
        key = (self._model, self._log_id)
        if key != self._tail_key or self._log_id is None:
            model, log_id = self._fields()
            self._tail = (
                b'", "stop_reason": null, "model": ' + model + b', "truncated": false, "stop": null, "log_id": '
                + log_id + b', "exception": null}\n\n'
            )
            self._tail_key = (self._model, self._log_id)
        return b'data: {"completion": "' + self._text + self._tail

    def _stop_and_done(self, stop_reason: str, stop: Union[str, None]) -> bytes:
        self.finished = True
        model, log_id = self._fields()
        return (
            b'data: {"completion": "' + self._text + b'", "stop_reason": ' + _dumps_default(stop_reason)
            + b', "model": ' + model + b', "truncated": false, "stop": ' + _dumps_default(stop)
            + b', "log_id": ' + log_id + b', "exception": null}\n\n' + _DONE
        )

    def _error(self, error_type: str, message: str, error: dict[str, Any]) -> bytes:
        model, log_id = self._fields()
        return (
            b'data: {"completion": "' + self._text + b'", "stop_reason": null, "model": ' + model
            + b', "truncated": false, "stop": null, "log_id": ' + log_id + b', "exception": '
            + _dumps_default(f"{error_type}: {message}") + b', "error": ' + _dumps_default(error) + b"}\n\n"
        )


class _CompletionsOut(Converter):
    """Writes 2023-06-01 completions output."""

    target = Dialect.COMPLETIONS

    def _error(self, error_type: str, message: str, error: dict[str, Any]) -> bytes:
        return b'event: error\ndata: {"error": ' + _dumps_default(error) + b"}\n\n"


class _MessagesOut(Converter):
    """Writes Messages output."""

    target = Dialect.MESSAGES

    def _error(self, error_type: str, message: str, error: dict[str, Any]) -> bytes:
        return b'event: error\ndata: {"type":"error","error":' + _dumps_compact(error) + b"}\n\n"


# -- identity conversions (validate, then re-emit) ---------------------------


def _wire_or_dumps(wire: Union[str, None], raw: dict[str, Any], dumps: Callable[[Any], bytes]) -> bytes:
    """The event's data as received, when it fits on one ``data:`` line; else re-serialised."""
    if wire is not None and "\n" not in wire:
        try:
            return wire.encode()
        except UnicodeEncodeError:  # a caller's str with lone surrogates
            pass
    return dumps(raw)


class LegacyToLegacy(_LegacyOut):
    source = Dialect.LEGACY

    def __init__(self, options: ConverterOptions) -> None:
        super().__init__(options)
        self._held = b""
        self._last: LegacyCompletion | None = None

    def _convert(self, event: AnthropicEvent) -> bytes:
        if isinstance(event, LegacyCompletion):
            self._ids(event.model, event.log_id)
            self._last = event
            out = b"data: " + _wire_or_dumps(self._wire, event.raw, _dumps_default) + b"\n\n"
            if event.stop_reason is not None:
                self._held = out  # C1: written with [DONE]
                return b""
            return out
        if isinstance(event, LegacyDone):
            self.finished = True
            return self._held + _DONE
        return b""

    def _error(self, error_type: str, message: str, error: dict[str, Any]) -> bytes:
        if self._last is not None:
            self._text = bytearray(_escaped(self._last.completion))
        return super()._error(error_type, message, error)


class CompletionsToCompletions(_CompletionsOut):
    source = Dialect.COMPLETIONS

    def _convert(self, event: AnthropicEvent) -> bytes:
        if isinstance(event, Completion):
            if event.stop_reason is not None:
                self.finished = True
            return b"event: completion\ndata: " + _wire_or_dumps(self._wire, event.raw, _dumps_default) + b"\n\n"
        return b""


_MESSAGE_NAMES: Final[dict[type, bytes]] = {
    MessageStart: b"message_start",
    ContentBlockStart: b"content_block_start",
    ContentBlockDelta: b"content_block_delta",
    ContentBlockStop: b"content_block_stop",
    MessageDelta: b"message_delta",
    MessageStop: b"message_stop",
}


class MessagesToMessages(_MessagesOut):
    source = Dialect.MESSAGES

    def _convert(self, event: AnthropicEvent) -> bytes:
        name = _MESSAGE_NAMES.get(type(event))
        if name is None:
            return b""
        if isinstance(event, MessageStop):
            self.finished = True
        raw: dict[str, Any] = event.raw  # type: ignore[union-attr]
        return b"event: " + name + b"\ndata: " + _wire_or_dumps(self._wire, raw, _dumps_compact) + b"\n\n"


# -- completions <-> legacy -----------------------------------------------------


class CompletionsToLegacy(_LegacyOut):
    """2023-06-01 -> 2023-01-01 (D1-D4, D6-D8, C3)."""

    source = Dialect.COMPLETIONS

    def _convert(self, event: AnthropicEvent) -> bytes:
        if not isinstance(event, Completion):
            return b""
        self._ids(event.model, event.log_id if event.log_id is not None else event.id)
        if event.stop_reason is None:
            return self._text_event(event.completion)
        if event.completion:
            self._text += _escaped(event.completion)
        return self._stop_and_done(event.stop_reason, event.stop)


class LegacyToCompletions(_CompletionsOut):
    """2023-01-01 -> 2023-06-01 (D5, D19, C1, C5)."""

    source = Dialect.LEGACY

    def __init__(self, options: ConverterOptions) -> None:
        super().__init__(options)
        self._prev = ""
        self._held = b""

    def _completion_event(self, raw: dict[str, Any], completion: str) -> bytes:
        delta = completion[len(self._prev) :]
        self._prev = completion
        out: dict[str, Any] = {"type": "completion"}
        log_id = raw.get("log_id")
        if isinstance(log_id, str):
            out["id"] = log_id
        for key, value in raw.items():
            if key in ("truncated", "exception", "type") or (key == "id" and "id" in out):
                continue
            out[key] = delta if key == "completion" else value
        return b"event: completion\ndata: " + _dumps_default(out) + b"\n\n"

    def _convert(self, event: AnthropicEvent) -> bytes:
        if isinstance(event, LegacyCompletion):
            if event.stop_reason is not None:
                self._held = self._completion_event(event.raw, event.completion)
                return b""
            if event.completion == self._prev:
                return b""  # nothing new (C2)
            return self._completion_event(event.raw, event.completion)
        if isinstance(event, LegacyDone):
            self.finished = True
            return self._held
        return b""

    def send(self, event: AnthropicEvent, data: Union[str, None] = None) -> bytes:
        if isinstance(event, ErrorEvent) and not self.finished:
            # Keep the text that arrived with the legacy error event (D4 carries it).
            text = event.raw.get("completion")
            if isinstance(text, str) and text.startswith(self._prev) and text != self._prev:
                return self._completion_event(
                    {"completion": text, "stop_reason": None, **{k: v for k, v in event.raw.items() if k in ("model", "log_id")}},
                    text,
                ) + super().send(event)
        return super().send(event, data)


# -- Messages -> completions / legacy / OpenAI ----------------------------------


def _starting_text(event: ContentBlockStart) -> str:
    """A text block's starting text (``""`` from the API)."""
    if _bad_starting_text(event.content_block) is not None:
        # Decoded events never get here (InvalidPayload); this one was built by hand.
        raise LocalProtocolError(f"text block {event.index} starts with 'text' that is not str")
    text: str = event.content_block.get("text", "")
    return text


class _FromMessages(Converter):
    """Shared Messages input handling: which blocks carry text (D9, C11)."""

    source = Dialect.MESSAGES

    def __init__(self, options: ConverterOptions) -> None:
        super().__init__(options)
        self.message_id: Union[str, None] = None
        self.model: Union[str, None] = None
        self.stop_reason: Union[str, None] = None
        self.stop_sequence: Union[str, None] = None
        self._text_blocks: set[int] = set()

    def _start(self, event: MessageStart) -> None:
        self.message_id = event.message_id
        self.model = event.model

    def _block_start(self, event: ContentBlockStart) -> str:
        """Note a text block; return its starting text (``""`` from the API)."""
        if event.block_type == "text":
            self._text_blocks.add(event.index)
            return _starting_text(event)
        if self.options.non_text == "raise":
            raise ConversionError(
                f"{event.block_type!r} block has no {self.target} form", event=event
            )
        return ""

    def _text_of(self, event: ContentBlockDelta) -> str:
        delta = event.delta
        if isinstance(delta, TextDelta) and event.index in self._text_blocks:
            return delta.text
        return ""

    def _message_delta(self, event: MessageDelta) -> None:
        if "stop_reason" in event.delta:
            self.stop_reason = event.stop_reason
            self.stop_sequence = event.stop_sequence


class MessagesToCompletions(_FromMessages, _CompletionsOut):
    """Messages -> 2023-06-01 completions (D9, C1, C4, C5, C11)."""

    def __init__(self, options: ConverterOptions) -> None:
        super().__init__(options)
        self._head = b""
        self._tail = b""

    def _convert(self, event: AnthropicEvent) -> bytes:
        if isinstance(event, ContentBlockDelta):
            text = self._text_of(event)
            if not text:
                return b""
            return self._head + _dumps_default(text) + self._tail
        if isinstance(event, MessageStart):
            self._start(event)
            ident = _dumps_default(self.message_id)
            self._head = b'event: completion\ndata: {"type": "completion", "id": ' + ident + b', "completion": '
            self._tail = (
                b', "stop_reason": null, "model": ' + _dumps_default(self.model)
                + b', "stop": null, "log_id": ' + ident + b"}\n\n"
            )
        elif isinstance(event, ContentBlockStart):
            text = self._block_start(event)
            if text:
                return self._head + _dumps_default(text) + self._tail
        elif isinstance(event, MessageDelta):
            self._message_delta(event)
        elif isinstance(event, MessageStop):
            self.finished = True
            stop = self.stop_sequence if self.stop_reason == "stop_sequence" else None
            ident = _dumps_default(self.message_id)
            return (
                self._head + b'""' + b', "stop_reason": ' + _dumps_default(completion_stop_reason(self.stop_reason))
                + b', "model": ' + _dumps_default(self.model) + b', "stop": ' + _dumps_default(stop)
                + b', "log_id": ' + ident + b"}\n\n"
            )
        return b""


class MessagesToLegacy(_FromMessages, _LegacyOut):
    """Messages -> 2023-01-01 completions (D9, D1-D4)."""

    def _convert(self, event: AnthropicEvent) -> bytes:
        if isinstance(event, ContentBlockDelta):
            return self._text_event(self._text_of(event))
        if isinstance(event, MessageStart):
            self._start(event)
            self._ids(self.model, self.message_id)
        elif isinstance(event, ContentBlockStart):
            return self._text_event(self._block_start(event))
        elif isinstance(event, MessageDelta):
            self._message_delta(event)
        elif isinstance(event, MessageStop):
            stop = self.stop_sequence if self.stop_reason == "stop_sequence" else None
            return self._stop_and_done(completion_stop_reason(self.stop_reason), stop)
        return b""


class MessagesToOpenAI(_FromMessages):
    """Messages -> OpenAI ``chat.completion.chunk`` (D11, C2, C10)."""

    target = Dialect.OPENAI

    def __init__(self, options: ConverterOptions) -> None:
        super().__init__(options)
        self._head = b""
        self._tool_index: dict[int, int] = {}
        self._usage: dict[str, Any] = {}

    def _chunk(self, delta: bytes, finish: bytes = b"null") -> bytes:
        return self._head + b'"choices":[{"index":0,"delta":' + delta + b',"logprobs":null,"finish_reason":' + finish + b"}]}\n\n"

    def _block_start(self, event: ContentBlockStart) -> str:
        if event.block_type == "text":
            self._text_blocks.add(event.index)
            return _starting_text(event)
        if self.options.non_text == "raise" and event.block_type not in ("tool_use", "thinking", "redacted_thinking"):
            raise ConversionError(f"{event.block_type!r} block has no openai form", event=event)
        return ""

    def _convert(self, event: AnthropicEvent) -> bytes:
        if isinstance(event, ContentBlockDelta):
            delta = event.delta
            if isinstance(delta, TextDelta):
                text = self._text_of(event)
                return self._chunk(b'{"content":' + _dumps_compact(text) + b"}") if text else b""
            if isinstance(delta, InputJSONDelta) and delta.partial_json:
                tool = self._tool_index.get(event.index)
                if tool is None:
                    return b""
                return self._chunk(
                    b'{"tool_calls":[{"index":%d,"function":{"arguments":' % tool
                    + _dumps_compact(delta.partial_json) + b"}}]}"
                )
            return b""
        if isinstance(event, MessageStart):
            self._start(event)
            self._usage = dict(event.usage)
            self._head = (
                b'data: {"id":' + _dumps_compact(self.message_id) + b',"object":"chat.completion.chunk","created":'
                + _dumps_compact(_created(self.options.clock)) + b',"model":' + _dumps_compact(self.model) + b","
            )
            return self._chunk(b'{"role":"assistant","content":""}')
        if isinstance(event, ContentBlockStart):
            text = self._block_start(event)
            if text:
                return self._chunk(b'{"content":' + _dumps_compact(text) + b"}")
            if event.block_type == "tool_use":
                tool = len(self._tool_index)
                self._tool_index[event.index] = tool
                block = event.content_block
                call = {"index": tool, "id": block.get("id"), "type": "function", "function": {"name": block.get("name"), "arguments": ""}}
                return self._chunk(b'{"tool_calls":[' + _dumps_compact(call) + b"]}")
        elif isinstance(event, MessageDelta):
            self._message_delta(event)
            for key, value in event.usage.items():
                if value is not None:
                    self._usage[key] = value
        elif isinstance(event, MessageStop):
            self.finished = True
            out = self._chunk(b"{}", _dumps_compact(openai_finish_reason(self.stop_reason)))
            if self.options.include_usage:
                out += self._head + b'"choices":[],"usage":' + _dumps_compact(self._openai_usage()) + b"}\n\n"
            return out + _DONE
        return b""

    def _openai_usage(self) -> dict[str, int]:
        def count(key: str) -> int:
            value = self._usage.get(key)
            return value if type(value) is int else 0  # (a bool is no count)

        prompt = count("input_tokens") + count("cache_creation_input_tokens") + count("cache_read_input_tokens")
        completion = count("output_tokens")
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _error(self, error_type: str, message: str, error: dict[str, Any]) -> bytes:
        body = {"message": message, "type": error_type, "code": None}
        return b'data: {"error":' + _dumps_compact(body) + b"}\n\n"


_CONVERTERS: Final[dict[tuple[Dialect, Dialect], type[Converter]]] = {
    (Dialect.LEGACY, Dialect.LEGACY): LegacyToLegacy,
    (Dialect.LEGACY, Dialect.COMPLETIONS): LegacyToCompletions,
    (Dialect.COMPLETIONS, Dialect.COMPLETIONS): CompletionsToCompletions,
    (Dialect.COMPLETIONS, Dialect.LEGACY): CompletionsToLegacy,
    (Dialect.MESSAGES, Dialect.MESSAGES): MessagesToMessages,
    (Dialect.MESSAGES, Dialect.COMPLETIONS): MessagesToCompletions,
    (Dialect.MESSAGES, Dialect.LEGACY): MessagesToLegacy,
    (Dialect.MESSAGES, Dialect.OPENAI): MessagesToOpenAI,
}

#: Every (source, target) pair sseadapt converts.
SUPPORTED_CONVERSIONS: Final = tuple(_CONVERTERS)


def _created(clock: Callable[[], int]) -> int:
    created = clock()
    if type(created) is not int:  # (a bool is no time)
        raise TypeError(f"clock() must return an int, not {type(created).__name__}")
    return created


def make_converter(
    source: Union[Dialect, str], target: Union[Dialect, str], options: ConverterOptions | None = None
) -> Converter:
    """Create the converter for one stream from ``source`` to ``target``.

    Raises:
        ValueError: the pair is not supported, or an option does not fit the target.
    """
    pair = (Dialect.parse(source), Dialect.parse(target))
    cls = _CONVERTERS.get(pair)
    if cls is None:
        pairs = ", ".join(f"{a.value} -> {b.value}" for a, b in _CONVERTERS)
        raise ValueError(f"no converter from {pair[0]} to {pair[1]}; supported: {pairs}")
    return cls(options or ConverterOptions())
