"""sseadapt: read, validate and re-speak Anthropic API event streams.

No networking code lives in the core: the SSE parser and serializer, the
Anthropic event machines and the converters take bytes or events and return
bytes or events. The adapters (``sseadapt.httpx``, ``sseadapt.asgi``,
``sseadapt.proxy``) and the CLI do the I/O.
"""

from ._errors import (
    ERROR_STATUS as ERROR_STATUS,
    ConversionError as ConversionError,
    EventTooLarge as EventTooLarge,
    IncompleteStream as IncompleteStream,
    InvalidPayload as InvalidPayload,
    LocalProtocolError as LocalProtocolError,
    ProtocolError as ProtocolError,
    RemoteProtocolError as RemoteProtocolError,
    SSEAdaptError as SSEAdaptError,
    UnexpectedEvent as UnexpectedEvent,
    UnrepresentableEvent as UnrepresentableEvent,
    UpstreamError as UpstreamError,
)
from ._serializer import Comment as Comment, SSESerializer as SSESerializer
from ._sse import (
    DEFAULT_MAX_EVENT_SIZE as DEFAULT_MAX_EVENT_SIZE,
    NEED_DATA as NEED_DATA,
    STREAM_END as STREAM_END,
    ServerSentEvent as ServerSentEvent,
    Signal as Signal,
    SSEParser as SSEParser,
    aiter_events as aiter_events,
    iter_events as iter_events,
)
from ._version import __version__ as __version__

__all__ = [
    "ERROR_STATUS",
    "Comment",
    "ConversionError",
    "DEFAULT_MAX_EVENT_SIZE",
    "EventTooLarge",
    "IncompleteStream",
    "InvalidPayload",
    "LocalProtocolError",
    "NEED_DATA",
    "ProtocolError",
    "RemoteProtocolError",
    "SSEAdaptError",
    "SSEParser",
    "SSESerializer",
    "STREAM_END",
    "ServerSentEvent",
    "Signal",
    "UnexpectedEvent",
    "UnrepresentableEvent",
    "UpstreamError",
    "__version__",
    "aiter_events",
    "iter_events",
]
