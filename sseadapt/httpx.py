"""httpx integration (extra ``httpx``): converting transports and SSE helpers.

Converting transports
---------------------

:class:`ConvertingTransport` and :class:`AsyncConvertingTransport` wrap any
inner httpx transport. For each request, a *selector* decides whether and how
the response is converted; the default, :func:`legacy_selector`, makes a
``2023-06-01`` server serve 2023-01-01 clients:

* ``POST …/v1/complete`` with ``anthropic-version`` missing or ``2023-01-01``:
  the request goes out with ``anthropic-version: 2023-06-01`` and a
  ``text/event-stream`` answer is converted 2023-06-01 -> legacy (D18);
* everything else passes through untouched.

Conversion streams: each chunk the inner transport yields is converted and
handed on at once; nothing buffers the body. Closing the response closes the
inner stream. A read that times out (the client's ``timeout``) ends the
stream with the target's error shape and ``timeout_error``, as the proxy's
idle timeout does; a dropped connection is a cut stream (``api_error``, D7).
Whole answers: an error (status 400 and above) comes back in the target's
error shape (D13: ``{"error": {...}}`` for completions clients, with
``content-type: application/json``); a JSON 200 answer is translated when the
shapes differ (2023-06-01 or Messages -> legacy, Messages -> 2023-06-01), as
the proxy and the middleware do; other answers pass as sent (no OpenAI
``chat.completion`` object is built). Such a body is read whole before the
response is returned, as ``read()`` would.
A converted request asks for ``accept-encoding: identity`` (a
transport sees the body before httpx undoes any compression); a server that
compresses anyway has its body decoded by httpx's decoders first, and one that
cannot be decoded ends the stream with the error shape.

SSE helpers (httpx-sse's API, sseadapt's parser)
------------------------------------------------

``connect_sse(client, method, url, **kwargs)`` / ``aconnect_sse(...)`` are
context managers yielding an :class:`EventSource` whose ``iter_sse()`` /
``aiter_sse()`` yield :class:`~sseadapt.ServerSentEvent` (``.event``,
``.data``, ``.id``, ``.retry``, ``.json()``). A response that is not
``text/event-stream`` raises :class:`SSEError` (an ``httpx.TransportError``).
The request carries ``Accept: text/event-stream`` and ``Cache-Control:
no-store`` unless the caller's headers name either (in any case).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Union

try:
    import httpx
except ImportError as exc:  # (tests/test_exports.py blocks the import to check the message)
    raise ImportError("sseadapt.httpx needs httpx: pip install 'sseadapt[httpx]'") from exc

from ._errors import StreamInterrupted
from ._events import Dialect
from ._pipeline import Pipeline, PipelineOptions, check_options
from ._requests import client_answer
from ._sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEParser

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "ConvertingTransport",
    "AsyncConvertingTransport",
    "Conversion",
    "Selector",
    "legacy_selector",
    "SSEError",
    "EventSource",
    "connect_sse",
    "aconnect_sse",
]

#: (source dialect, target dialect, headers to set on the outgoing request)
Conversion = tuple[Dialect, Dialect, dict[str, str]]
Selector = Callable[[httpx.Request], Union[Conversion, None]]


def legacy_selector(request: httpx.Request) -> Conversion | None:
    """Convert 2023-06-01 completions to legacy for 2023-01-01 clients (D18)."""
    if request.method != "POST" or not request.url.path.endswith("/v1/complete"):
        return None
    version = request.headers.get("anthropic-version", "").strip()
    if version not in ("", "2023-01-01"):
        return None
    return Dialect.COMPLETIONS, Dialect.LEGACY, {"anthropic-version": "2023-06-01"}


class SSEError(httpx.TransportError):
    """The response is not a ``text/event-stream`` (httpx-sse's error name)."""


def _prepare(request: httpx.Request, selector: Selector) -> Conversion | None:
    conversion = selector(request)
    if conversion is not None:
        request.headers["accept-encoding"] = "identity"  # the body is parsed as it arrives
        for name, value in conversion[2].items():
            request.headers[name] = value
    return conversion


def _check_arguments(owner: str, inner: object, method: str, selector: object, options: PipelineOptions) -> None:
    """Refuse at construction what would fail on every request: an inner
    transport without ``method`` (a sync one given to the async transport, say),
    a selector that is not callable, pipeline options (the conversions another
    selector picks are known only per request: their names are checked)."""
    if inner is not None and not callable(getattr(inner, method, None)):
        raise TypeError(f"{owner} needs an inner transport with {method}(), not {type(inner).__name__}")
    if not callable(selector):
        raise TypeError(f"{owner} selector must be callable, not {type(selector).__name__}")
    check_options(options, [(Dialect.COMPLETIONS, Dialect.LEGACY)] if selector is legacy_selector else [])


def _encoded(response: httpx.Response) -> bool:
    encoding: str = response.headers.get("content-encoding", "identity")
    return encoding.strip().lower() != "identity"


def _timed_out(pipeline: Pipeline, exc: httpx.TimeoutException) -> None:
    # As the proxy does for a stall: the client hears a timeout, not a cut.
    message = "upstream stream timed out"
    pipeline.abort(StreamInterrupted(f"{message} ({type(exc).__name__})", error_type="timeout_error"), "timeout_error", message)


def _decoding_failed(pipeline: Pipeline, exc: httpx.DecodingError) -> None:
    message = f"upstream stream could not be decoded: {exc}"
    pipeline.abort(StreamInterrupted(message), "api_error", message)


def _convertible(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return response.status_code == 200 and "text/event-stream" in content_type.lower()  # media types ignore case


def _converted_headers(response: httpx.Response) -> list[tuple[str, str]]:
    # The body changes size and is never compressed after conversion.
    drop = {"content-length", "content-encoding", "transfer-encoding"}
    return [(k, v) for k, v in response.headers.multi_items() if k.lower() not in drop]


#: Whole (non-streaming) answers translated between these (source, target) pairs.
_TRANSLATED_ANSWERS = frozenset(
    {(Dialect.COMPLETIONS, Dialect.LEGACY), (Dialect.MESSAGES, Dialect.LEGACY), (Dialect.MESSAGES, Dialect.COMPLETIONS)}
)


def _whole_answer(response: httpx.Response, conversion: Conversion) -> bool:
    """A response read whole and given in the target's shape: an error (any
    pair, D13) or a JSON answer of a pair whose answers differ in shape."""
    if response.status_code >= 400:
        return True
    content_type: str = response.headers.get("content-type", "")
    return response.status_code == 200 and "json" in content_type.lower() and conversion[:2] in _TRANSLATED_ANSWERS


def _answer(response: httpx.Response, raw: bytes, conversion: Conversion) -> httpx.Response:
    """``response`` with its (decoded) body ``raw`` in the target's shape."""
    translated = client_answer(response.status_code, raw, conversion[0], conversion[1])
    # The body is decoded (and maybe rewritten): headers describing it are replaced.
    drop = {"content-length", "content-encoding", "transfer-encoding"}
    if translated is not None:
        drop.add("content-type")
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in drop]
    if translated is not None:
        headers.append(("content-type", "application/json"))
    return httpx.Response(response.status_code, headers=headers, content=raw if translated is None else translated, extensions=response.extensions)


class _SyncConvertedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, pipeline: Pipeline) -> None:
        self._inner = inner
        self._pipeline = pipeline

    def __iter__(self) -> Iterator[bytes]:
        pipeline = self._pipeline
        try:
            for chunk in self._inner:
                pipeline.receive_data(chunk)
                out = pipeline.data_to_send()
                if out:
                    yield out
                if pipeline.ended:
                    return
        except httpx.TimeoutException as exc:
            _timed_out(pipeline, exc)
        except httpx.TransportError:
            pass  # a dropped upstream is a cut stream (D7)
        except httpx.DecodingError as exc:
            _decoding_failed(pipeline, exc)
        pipeline.receive_data(b"")
        out = pipeline.data_to_send()
        if out:
            yield out

    def close(self) -> None:
        self._inner.close()


class _SyncDecodedStream(httpx.SyncByteStream):
    """A compressed body, decoded by httpx (``iter_bytes``) as it arrives."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = httpx.Response(response.status_code, headers=response.headers, stream=response.stream)

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_bytes()

    def close(self) -> None:
        self._response.close()


class _AsyncConvertedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, pipeline: Pipeline) -> None:
        self._inner = inner
        self._pipeline = pipeline

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pipeline = self._pipeline
        try:
            async for chunk in self._inner:
                pipeline.receive_data(chunk)
                out = pipeline.data_to_send()
                if out:
                    yield out
                if pipeline.ended:
                    return
        except httpx.TimeoutException as exc:
            _timed_out(pipeline, exc)
        except httpx.TransportError:
            pass  # a dropped upstream is a cut stream (D7)
        except httpx.DecodingError as exc:
            _decoding_failed(pipeline, exc)
        pipeline.receive_data(b"")
        out = pipeline.data_to_send()
        if out:
            yield out

    async def aclose(self) -> None:
        await self._inner.aclose()


class _AsyncDecodedStream(httpx.AsyncByteStream):
    """The async twin of :class:`_SyncDecodedStream`."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = httpx.Response(response.status_code, headers=response.headers, stream=response.stream)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_bytes():
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


class ConvertingTransport(httpx.BaseTransport):
    """A sync transport that converts event streams on the fly.

    Args:
        inner: the transport that does the I/O (default ``httpx.HTTPTransport()``).
        selector: chooses the conversion per request (default :func:`legacy_selector`).
        **pipeline_options: passed to :class:`~sseadapt.Pipeline` (``ping``, ``line_ending``, …;
            :class:`~sseadapt.PipelineOptions`).

    Raises:
        TypeError, ValueError: an option :class:`~sseadapt.Pipeline` would refuse (with the
            default selector checked for its conversion; with another, names only);
            an ``inner`` without ``handle_request()`` or a ``selector`` that is not callable.
    """

    def __init__(self, inner: httpx.BaseTransport | None = None, *, selector: Selector = legacy_selector, **pipeline_options: Unpack[PipelineOptions]) -> None:
        _check_arguments("ConvertingTransport", inner, "handle_request", selector, pipeline_options)
        self.inner = inner or httpx.HTTPTransport()
        self.selector = selector
        self.pipeline_options = pipeline_options

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        conversion = _prepare(request, self.selector)
        response = self.inner.handle_request(request)
        if conversion is None:
            return response
        if _whole_answer(response, conversion):
            whole = httpx.Response(response.status_code, headers=response.headers, stream=response.stream)
            try:
                raw = whole.read()  # decoded, as httpx would read it
            finally:
                whole.close()
            return _answer(response, raw, conversion)
        if not _convertible(response):
            return response
        assert isinstance(response.stream, httpx.SyncByteStream)
        pipeline = Pipeline(conversion[0], conversion[1], **self.pipeline_options)
        body = _SyncDecodedStream(response) if _encoded(response) else response.stream
        return httpx.Response(
            status_code=response.status_code,
            headers=_converted_headers(response),
            stream=_SyncConvertedStream(body, pipeline),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()


class AsyncConvertingTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`ConvertingTransport` (asyncio and trio); its
    ``inner`` must have ``handle_async_request()``."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None, *, selector: Selector = legacy_selector, **pipeline_options: Unpack[PipelineOptions]) -> None:
        _check_arguments("AsyncConvertingTransport", inner, "handle_async_request", selector, pipeline_options)
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.selector = selector
        self.pipeline_options = pipeline_options

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        conversion = _prepare(request, self.selector)
        response = await self.inner.handle_async_request(request)
        if conversion is None:
            return response
        if _whole_answer(response, conversion):
            whole = httpx.Response(response.status_code, headers=response.headers, stream=response.stream)
            try:
                raw = await whole.aread()  # decoded, as httpx would read it
            finally:
                await whole.aclose()
            return _answer(response, raw, conversion)
        if not _convertible(response):
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        pipeline = Pipeline(conversion[0], conversion[1], **self.pipeline_options)
        body = _AsyncDecodedStream(response) if _encoded(response) else response.stream
        return httpx.Response(
            status_code=response.status_code,
            headers=_converted_headers(response),
            stream=_AsyncConvertedStream(body, pipeline),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class EventSource:
    """An SSE response being read with sseadapt's parser (httpx-sse's API)."""

    def __init__(self, response: httpx.Response, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.response = response
        self._max = max_event_size

    def _check(self) -> None:
        content_type = self.response.headers.get("content-type", "").partition(";")[0].strip()
        if content_type.lower() != "text/event-stream":
            raise SSEError(f"Expected response header Content-Type to contain 'text/event-stream', got {content_type!r}")

    def iter_sse(self) -> Iterator[ServerSentEvent]:
        """Yield events as they arrive (always decoded as UTF-8, whatever the charset)."""
        self._check()
        parser = SSEParser(max_event_size=self._max)
        for chunk in self.response.iter_bytes():
            parser.receive_data(chunk)
            yield from parser.events()
        parser.receive_data(b"")
        yield from parser.events()

    async def aiter_sse(self) -> AsyncIterator[ServerSentEvent]:
        """Async twin of :meth:`iter_sse`."""
        self._check()
        parser = SSEParser(max_event_size=self._max)
        async for chunk in self.response.aiter_bytes():
            parser.receive_data(chunk)
            for event in parser.events():
                yield event
        parser.receive_data(b"")
        for event in parser.events():
            yield event


def _sse_headers(kwargs: dict[str, Any]) -> dict[str, Any]:
    # httpx.Headers keeps repeated names and matches names ignoring case: a
    # caller's "accept" or "cache-control" wins, and none of their headers is lost.
    headers = httpx.Headers(kwargs.pop("headers", None))
    if "accept" not in headers:
        headers["Accept"] = "text/event-stream"
    if "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
    kwargs["headers"] = headers
    return kwargs


@contextlib.contextmanager
def connect_sse(client: httpx.Client, method: str, url: str, **kwargs: Any) -> Iterator[EventSource]:
    """Open a streaming request and yield its :class:`EventSource`; closes it on exit."""
    with client.stream(method, url, **_sse_headers(kwargs)) as response:
        yield EventSource(response)


@contextlib.asynccontextmanager
async def aconnect_sse(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> AsyncIterator[EventSource]:
    """Async twin of :func:`connect_sse`."""
    async with client.stream(method, url, **_sse_headers(kwargs)) as response:
        yield EventSource(response)
