"""Bytes in, bytes out: parser -> decoder -> state machine -> converter.

Three forms of the same pipeline, for embedding in other SDKs and servers:

* :class:`Pipeline`, sans-I/O: :meth:`Pipeline.receive_data` (``b""`` = end
  of input), then :meth:`Pipeline.data_to_send` for the output bytes ready so
  far;
* :func:`convert_iter`, a generator over an iterable of byte chunks;
* :func:`aconvert`, an async generator over an async iterable (asyncio or
  trio); it closes its source when it finishes or is closed.

Whatever goes wrong upstream, the output is well formed: it ends either with
the target's terminal marker (the input completed) or with the target's error
shape (the input reported an error, ended early, or broke its protocol), never
both and never neither once the input has ended. :attr:`Pipeline.error` then
holds what went wrong.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Union

from ._convert import (
    TRUNCATED_MESSAGE,
    Converter,
    ConverterOptions,
    PingPolicy,
    UnknownPolicy,
    make_converter,
)
from ._errors import (
    ConversionError,
    IncompleteStream,
    LocalProtocolError,
    SSEAdaptError,
    UpstreamError,
)
from ._events import Dialect
from ._machines import StreamReader
from ._sse import DEFAULT_MAX_EVENT_SIZE, _as_bytes, _chunk_iterator, _refuse_sync_chunks

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Pipeline", "PipelineOptions", "convert_iter", "aconvert", "convert_bytes"]


class PipelineOptions(TypedDict, total=False):
    """:class:`Pipeline`'s keyword options, for the adapters that pass them on
    (``**pipeline_options: Unpack[PipelineOptions]``): type checkers then check
    their names and values, and ``starlette.middleware.Middleware`` accepts
    :class:`~sseadapt.asgi.SSEAdaptMiddleware`."""

    line_ending: Literal["\n", "\r\n"]
    max_event_size: int
    ping: PingPolicy
    unknown: UnknownPolicy
    non_text: Literal["drop", "raise"]
    include_usage: bool
    clock: Union[Callable[[], int], None]
    log_id_factory: Union[Callable[[], str], None]


class Pipeline:
    """Convert one stream from ``source`` to ``target`` dialect, incrementally.

    Args:
        source: the input dialect (named by the caller, never guessed).
        target: the output dialect.
        line_ending: ``"\\n"`` (default) or ``"\\r\\n"`` for the output (D8).
        max_event_size: limit for one input event (see :class:`~sseadapt.SSEParser`).
        ping, unknown, non_text, include_usage, clock, log_id_factory: see
            :class:`~sseadapt.ConverterOptions`.

    Raises:
        ValueError: unsupported pair or option.
        TypeError: an option of the wrong type (see :class:`~sseadapt.ConverterOptions`;
            ``max_event_size`` as :class:`~sseadapt.SSEParser`).
    """

    def __init__(
        self,
        source: Union[Dialect, str],
        target: Union[Dialect, str],
        *,
        line_ending: Literal["\n", "\r\n"] = "\n",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        ping: PingPolicy = "default",
        unknown: UnknownPolicy = "default",
        non_text: Literal["drop", "raise"] = "drop",
        include_usage: bool = False,
        clock: Callable[[], int] | None = None,
        log_id_factory: Callable[[], str] | None = None,
    ) -> None:
        if line_ending not in ("\n", "\r\n"):
            raise ValueError("line_ending must be '\\n' or '\\r\\n'")
        options = ConverterOptions(
            ping=ping,
            unknown=unknown,
            non_text=non_text,
            include_usage=include_usage,
            clock=clock,
            log_id_factory=log_id_factory,
        )
        self.converter: Converter = make_converter(source, target, options)
        self.reader = StreamReader(source, max_event_size=max_event_size)
        self._crlf = line_ending == "\r\n"
        self._out: list[bytes] = []
        self._ended = False
        #: What went wrong, once something did: an :class:`~sseadapt.UpstreamError`
        #: (the input's error event), a protocol error, or a :class:`~sseadapt.ConversionError`.
        self.error: SSEAdaptError | None = None

    @property
    def complete(self) -> bool:
        """Whether the input reached its terminal event and the output its marker."""
        return self.error is None and self.reader.complete

    @property
    def ended(self) -> bool:
        """Whether the output is final (terminal marker or error shape written)."""
        return self.converter.finished

    def receive_data(self, data: bytes) -> None:
        """Feed input bytes; ``b""`` ends the input.

        Any bytes-like object is taken (copied if it is not ``bytes``).

        Raises:
            LocalProtocolError: data after the end of input, or data that is
                not bytes-like.
        """
        if type(data) is not bytes:
            data = _as_bytes(data, "Pipeline.receive_data()")
        if self._ended:
            if data:
                raise LocalProtocolError("receive_data() called with data after end of input")
            return
        if not data:
            self._ended = True
        if self.error is not None:
            return
        reader = self.reader
        reader.receive_data(data)
        send = self.converter.send
        out = self._out
        try:
            for event, wire in reader.events_with_data():
                chunk = send(event, wire)
                if chunk:
                    out.append(chunk)
        except UpstreamError as exc:
            self.error = exc  # its error shape was written when the event came
            self._ensure_error_shape(exc.error_type, exc.message)
        except IncompleteStream as exc:
            self.error = exc
            self._ensure_error_shape("api_error", TRUNCATED_MESSAGE)
        except ConversionError as exc:
            self.error = exc
            self._ensure_error_shape("api_error", f"conversion refused: {exc}")
        except SSEAdaptError as exc:
            self.error = exc
            self._ensure_error_shape("api_error", f"upstream stream is invalid: {exc}")

    def abort(self, error: SSEAdaptError, error_type: str, message: str) -> None:
        """End the output now with the target's error shape (no terminal marker).

        For failures the parser cannot see, e.g. the upstream stalled or its
        connection dropped. Does nothing to output that already ended.
        """
        if self.error is None and not self.converter.finished:
            self.error = error
        self._ensure_error_shape(error_type, message)
        self._ended = True

    def _ensure_error_shape(self, error_type: str, message: str) -> None:
        chunk = self.converter.fail(error_type, message)
        if chunk:
            self._out.append(chunk)

    def data_to_send(self) -> bytes:
        """Return (and forget) the output bytes produced so far."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data.replace(b"\n", b"\r\n") if self._crlf else data


def check_options(options: Mapping[str, Any], pairs: Iterable[tuple[Dialect, Dialect]]) -> None:
    """Raise now what ``Pipeline(source, target, **options)`` would raise later,
    for each pair an adapter may build (and :exc:`TypeError` for a name that is
    no option), so a typo fails where the adapter is made, not per request."""
    unknown = sorted(set(options) - PipelineOptions.__optional_keys__)
    if unknown:
        names = ", ".join(sorted(PipelineOptions.__optional_keys__))
        raise TypeError(f"unknown pipeline option {unknown[0]!r}; the options are: {names}")
    for source, target in pairs:
        Pipeline(source, target, **options)


def convert_iter(
    chunks: Iterable[bytes], source: Union[Dialect, str], target: Union[Dialect, str], **options: Unpack[PipelineOptions]
) -> Iterator[bytes]:
    """Convert an iterable of input chunks, yielding output bytes as they are ready.

    The output always ends well formed (see the module docstring); the error,
    if any, is not raised: use :class:`Pipeline` to inspect it.

    Raises:
        ValueError, TypeError: at the call, not at the first ``next()``: an
            unsupported pair or option, a whole stream (``bytes`` or ``str``)
            passed instead of an iterable of chunks, or anything else that is
            not iterable (an async iterable: use :func:`aconvert`).
    """
    chunk_iter = _chunk_iterator(chunks, "convert_iter()", "aconvert()")
    return _converted(Pipeline(source, target, **options), chunk_iter)


def _converted(pipeline: Pipeline, chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            pipeline.receive_data(chunk)
            out = pipeline.data_to_send()
            if out:
                yield out
    pipeline.receive_data(b"")
    out = pipeline.data_to_send()
    if out:
        yield out


def aconvert(
    chunks: AsyncIterable[bytes], source: Union[Dialect, str], target: Union[Dialect, str], **options: Unpack[PipelineOptions]
) -> AsyncIterator[bytes]:
    """Async twin of :func:`convert_iter` (asyncio and trio).

    It takes ownership of ``chunks``: a source with ``aclose()`` is closed when
    the returned async generator finishes, fails or is closed early.

    Raises:
        ValueError, TypeError: at the call: an unsupported pair or option, or
            ``chunks`` that is not an async iterable (a list, say: use
            :func:`convert_iter`).
    """
    _refuse_sync_chunks(chunks, "aconvert()", "convert_iter()")
    return _aconverted(Pipeline(source, target, **options), chunks)


async def _aconverted(pipeline: Pipeline, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            if chunk:
                pipeline.receive_data(chunk)
                out = pipeline.data_to_send()
                if out:
                    yield out
        pipeline.receive_data(b"")
        out = pipeline.data_to_send()
        if out:
            yield out
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def convert_bytes(data: bytes, source: Union[Dialect, str], target: Union[Dialect, str], **options: Unpack[PipelineOptions]) -> bytes:
    """Convert a whole input stream at once (a convenience over :class:`Pipeline`)."""
    return b"".join(convert_iter([data], source, target, **options))
