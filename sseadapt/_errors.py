"""Every exception sseadapt raises on purpose.

The tree::

    SSEAdaptError                     root: catch this to catch everything below
    ├── ProtocolError                 a stream broke its protocol (abstract)
    │   ├── LocalProtocolError        *you* asked for something illegal
    │   │   └── UnrepresentableEvent  an event the serializer cannot write faithfully
    │   └── RemoteProtocolError       the *peer's bytes* broke the protocol
    │       ├── EventTooLarge         an SSE event or line over ``max_event_size``
    │       ├── InvalidPayload        data that is not the JSON the dialect requires
    │       ├── UnexpectedEvent       an event that is illegal in the machine's state
    │       ├── IncompleteStream      the input ended before its terminal event
    │       └── StreamInterrupted     the transport failed mid-stream (stall, drop, shutdown)
    ├── ConversionError               the converter was told to refuse something it met
    └── UpstreamError                 the stream carried an Anthropic ``error`` event

Direction follows h11: a :class:`LocalProtocolError` means the calling code misused
the library (fix your code); a :class:`RemoteProtocolError` means the bytes that
arrived are at fault (report it to whoever sent them). :class:`UpstreamError` is
neither: the stream was well formed and *told* us it failed, with an error type
and the HTTP status it stands for.

Attributes are structured so that callers never parse messages: every protocol
error carries ``event_index`` (0-based count of SSE events before the fault) and
``offset`` (bytes of input consumed when it was detected) where they are known,
else ``None``.

Feeding a stream operation something that is not what it takes (a ``str`` to
``receive_data``, a non-event to ``send`` or ``receive``) is a
:class:`LocalProtocolError`. Only setting a thing up with bad arguments (an
unknown dialect, a limit that is not a positive ``int``) raises Python's own
``ValueError`` or ``TypeError``, as documented where it can. Any other
exception escaping sseadapt is a bug.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SSEAdaptError",
    "ProtocolError",
    "LocalProtocolError",
    "UnrepresentableEvent",
    "RemoteProtocolError",
    "EventTooLarge",
    "InvalidPayload",
    "UnexpectedEvent",
    "IncompleteStream",
    "StreamInterrupted",
    "ConversionError",
    "UpstreamError",
    "ERROR_STATUS",
]


class SSEAdaptError(Exception):
    """Root of every exception sseadapt raises on purpose."""


class ProtocolError(SSEAdaptError):
    """A protocol was broken; see the two subclasses for who broke it.

    Attributes:
        event_index: how many SSE events had been read before the fault, if known.
        offset: how many input bytes had been consumed when it was detected, if known.
    """

    def __init__(
        self,
        msg: str,
        *,
        event_index: int | None = None,
        offset: int | None = None,
    ) -> None:
        if type(self) is ProtocolError:
            raise TypeError("ProtocolError is abstract; raise a subclass")
        super().__init__(msg)
        self.event_index = event_index
        self.offset = offset


class LocalProtocolError(ProtocolError):
    """The calling code asked for something the protocol does not allow."""


class UnrepresentableEvent(LocalProtocolError):
    """The serializer was given an event it cannot write without changing it.

    Attributes:
        field: the offending field (``"event"``, ``"id"``, ``"data"``, ``"retry"``,
            ``"comment"``).
        value: the value that cannot be written.
    """

    def __init__(self, msg: str, *, field: str, value: object) -> None:
        super().__init__(msg)
        self.field = field
        self.value = value


class RemoteProtocolError(ProtocolError):
    """The bytes that arrived break the protocol."""


class EventTooLarge(RemoteProtocolError):
    """An SSE event (or a single line) grew past the configured limit.

    Attributes:
        limit: the configured ``max_event_size`` in bytes.
        size: the size seen when the limit was crossed (at least ``limit + 1``).
    """

    def __init__(
        self,
        *,
        limit: int,
        size: int,
        event_index: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(
            f"SSE event larger than max_event_size={limit} bytes "
            f"(at least {size} bytes seen)",
            event_index=event_index,
            offset=offset,
        )
        self.limit = limit
        self.size = size


class InvalidPayload(RemoteProtocolError):
    """An event's data is not the JSON the dialect requires.

    Attributes:
        event: the SSE event name the payload arrived under.
        data: the raw data string.
    """

    def __init__(
        self,
        msg: str,
        *,
        event: str,
        data: str,
        event_index: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(msg, event_index=event_index, offset=offset)
        self.event = event
        self.data = data


class UnexpectedEvent(RemoteProtocolError):
    """An event arrived that the dialect's state machine does not allow now.

    Attributes:
        state: the machine's state when the event arrived.
        event: the offending typed event.
    """

    def __init__(
        self,
        msg: str,
        *,
        state: object,
        event: object,
        event_index: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(msg, event_index=event_index, offset=offset)
        self.state = state
        self.event = event


class IncompleteStream(RemoteProtocolError):
    """The input ended before the dialect's terminal event.

    Attributes:
        state: the machine's state at end of input.
    """

    def __init__(
        self,
        msg: str,
        *,
        state: object,
        event_index: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(msg, event_index=event_index, offset=offset)
        self.state = state


class StreamInterrupted(RemoteProtocolError):
    """The stream could not be read to its end: it stalled past the idle
    timeout, the connection dropped, or the server is shutting down.

    Attributes:
        error_type: the Anthropic error type written to the client
            (``"timeout_error"`` for a stall, else ``"api_error"``).
    """

    def __init__(self, msg: str, *, error_type: str = "api_error") -> None:
        super().__init__(msg)
        self.error_type = error_type


class ConversionError(SSEAdaptError):
    """A converter met something its options tell it to refuse.

    Example: an unknown event when converting to a data-only dialect with
    ``unknown="raise"``.

    Attributes:
        event: the typed event that was refused.
    """

    def __init__(self, msg: str, *, event: object) -> None:
        super().__init__(msg)
        self.event = event


#: HTTP status an Anthropic ``error.type`` stands for
#: (https://docs.claude.com/en/api/errors).
ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


class UpstreamError(SSEAdaptError):
    """The stream carried an Anthropic ``error`` event (or an equivalent).

    Attributes:
        error_type: ``error.type`` as sent, e.g. ``"overloaded_error"``.
        message: ``error.message`` as sent.
        status: the HTTP status that error type corresponds to (529 for
            ``overloaded_error``; 500 for a type not in :data:`ERROR_STATUS`).
        body: the whole decoded payload, for fields not modelled here.
    """

    def __init__(
        self,
        *,
        error_type: str,
        message: str,
        body: dict[str, Any] | None = None,
        event_index: int | None = None,
    ) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.status = ERROR_STATUS.get(error_type, 500)
        self.body = body if body is not None else {}
        self.event_index = event_index
