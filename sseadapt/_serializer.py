"""Sans-I/O serializer: :class:`~sseadapt.ServerSentEvent` -> ``text/event-stream`` bytes.

The writer is the parser's inverse: for every event list it accepts,
``SSEParser`` reads back exactly the events it was given (a property the test
suite checks with Hypothesis). It therefore refuses, with
:class:`~sseadapt.UnrepresentableEvent`, anything the wire cannot carry
unchanged:

* an event name or id containing CR or LF (it would end the line and inject a
  new field), an id containing NUL (the spec makes readers ignore it), an empty
  event name (readers turn it into ``"message"``);
* data containing CR (readers take it as a line break; LF is fine, it becomes
  one ``data:`` line per line);
* a negative retry; text that is not encodable as UTF-8 (lone surrogates);
* a field of the wrong type (a name, id or data that is not a ``str``, a retry
  that is not an ``int``: ``bytes`` data, say, has no one text to write).

Anything but a :class:`~sseadapt.ServerSentEvent` or a :class:`Comment` is
refused with :class:`~sseadapt.LocalProtocolError`.

What it writes (https://html.spec.whatwg.org/multipage/server-sent-events.html):

* ``event: NAME`` unless the name is ``"message"``, the default;
* ``id: ID`` only when the id differs from the last one written (the reader
  keeps the last event ID in force, so repeating it adds nothing);
* ``retry: N`` when the event has one;
* one ``data: LINE`` per line of the data, then a blank line.
* :class:`Comment` becomes ``: TEXT`` and a blank line (a keep-alive).

Lines end with LF by default, CRLF on request; a bare CR is never written.
The Anthropic dialects add stricter rules of their own (exactly one data
line, no comments, no ``id:``); their writers live with the converters.
"""

from __future__ import annotations

import sys
from typing import Literal, Union

import attrs

from ._errors import LocalProtocolError, UnrepresentableEvent
from ._sse import ServerSentEvent

__all__ = ["Comment", "SSESerializer"]


@attrs.frozen
class Comment:
    """An SSE comment line (``: text``), typically a keep-alive."""

    #: The comment text; must not contain CR or LF.
    text: str = ""


def _encode(value: str, field: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnrepresentableEvent(
            f"{field} is not encodable as UTF-8: {exc.reason}", field=field, value=value
        ) from None


def _require_str(value: object, field: str) -> None:
    if not isinstance(value, str):
        raise UnrepresentableEvent(
            f"{field} must be a str, not {type(value).__name__}", field=field, value=value
        )


def _refuse_line_breaks(value: str, field: str) -> None:
    if "\r" in value or "\n" in value:
        raise UnrepresentableEvent(
            f"{field} {value!r} contains a line break; it would inject lines",
            field=field,
            value=value,
        )


class SSESerializer:
    """Write events as ``text/event-stream`` bytes, one :meth:`send` per event.

    Args:
        line_ending: ``"\\n"`` (default) or ``"\\r\\n"``.
    """

    __slots__ = ("_eol", "_last_id")

    def __init__(self, *, line_ending: Literal["\n", "\r\n"] = "\n") -> None:
        if line_ending not in ("\n", "\r\n"):
            raise ValueError("line_ending must be '\\n' or '\\r\\n'")
        self._eol = line_ending.encode("ascii")
        self._last_id = ""

    def send(self, event: Union[ServerSentEvent, Comment]) -> bytes:
        """Return the bytes for one event or comment.

        Raises:
            UnrepresentableEvent: the event cannot be written without changing
                what a reader gets back; nothing is written and the serializer's
                state is unchanged.
        """
        eol = self._eol
        if isinstance(event, Comment):
            _require_str(event.text, "comment")
            _refuse_line_breaks(event.text, "comment")
            text = _encode(event.text, "comment")
            return (b": " + text if text else b":") + eol + eol
        if not isinstance(event, ServerSentEvent):
            raise LocalProtocolError(f"send() takes a ServerSentEvent or a Comment, not {type(event).__name__}")

        parts: list[bytes] = []
        name = event.event
        _require_str(name, "event")
        _require_str(event.id, "id")
        _require_str(event.data, "data")
        retry = event.retry
        if retry is not None and (not isinstance(retry, int) or isinstance(retry, bool)):
            raise UnrepresentableEvent(
                f"retry must be an int or None, not {type(retry).__name__}", field="retry", value=retry
            )
        if name != "message":
            if not name:
                raise UnrepresentableEvent(
                    "an empty event name reads back as 'message'", field="event", value=name
                )
            _refuse_line_breaks(name, "event")
            parts.append(b"event: " + _encode(name, "event"))
        new_id = event.id
        if new_id != self._last_id:
            _refuse_line_breaks(new_id, "id")
            if "\0" in new_id:
                raise UnrepresentableEvent(
                    "an id containing NUL is ignored by readers", field="id", value=new_id
                )
            parts.append(b"id: " + _encode(new_id, "id") if new_id else b"id")
        if retry is not None:
            if retry < 0:
                raise UnrepresentableEvent("retry must be a non-negative integer", field="retry", value=retry)
            try:
                parts.append(b"retry: %d" % retry)
            except ValueError:  # more digits than int -> str converts; readers would not take it either
                raise UnrepresentableEvent(
                    f"retry has more than {sys.get_int_max_str_digits()} digits, which readers ignore", field="retry", value=retry
                ) from None
        if "\r" in event.data:
            raise UnrepresentableEvent(
                "data containing CR reads back as a line break", field="data", value=event.data
            )
        data = _encode(event.data, "data")
        for line in data.split(b"\n"):
            parts.append(b"data: " + line)
        parts.append(b"")
        parts.append(b"")
        self._last_id = new_id
        return eol.join(parts)
