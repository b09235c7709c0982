"""Pure ASGI middleware: serve every ``/v1/complete`` client its own dialect.

:class:`SSEAdaptMiddleware` wraps an ASGI app that speaks today's API and
lets 2023-01-01 and 2023-06-01 Text Completions clients use it unchanged:

* The client's dialect comes from ``anthropic-version`` on ``POST
  /v1/complete`` (D18: missing or ``2023-01-01`` -> legacy; ``2023-06-01``;
  anything else -> 400).
* ``app_api="complete"``: the app serves 2023-06-01 ``/v1/complete``; the
  middleware rewrites the request's ``anthropic-version`` and converts the
  answer for legacy clients.
* ``app_api="messages"``: the app serves only ``/v1/messages``; the middleware
  translates the request (D10) and sends it there, and converts the answer
  to the client's dialect.
* Streams are converted chunk by chunk as the app sends them (no buffering);
  non-streaming JSON answers and error bodies are translated (D13). The
  app's response headers are kept, but for those describing the body (a
  converted stream gets ``SSE_HEADERS``' content type and caching). The app
  is asked for ``accept-encoding: identity``; a stream, JSON answer or error
  it compresses anyway cannot be read, and the client gets 502 ``api_error``,
  as for a JSON answer or error body over 16 MiB.
* A converted stream the app leaves open (it raises mid-stream, or returns
  without its last body message) ends with the client's error shape after
  the text so far, as a cut upstream does; the app's exception then goes on
  to the server.
* Paths are matched within the app: under a ``root_path`` (a Starlette
  ``Mount``, uvicorn's ``--root-path``) ``/prefix/v1/complete`` is
  ``/v1/complete``, and its Messages request goes to ``/prefix/v1/messages``.
* Every other request passes straight through. ``receive`` is handed on, so
  a client disconnect reaches the app as ``http.disconnect``.

No framework is involved (no ``BaseHTTPMiddleware``, which breaks streaming).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Union

from ._asgi import SSE_HEADERS, ASGIApp, BodyTooLarge, ClientGone, Message, Receive, Scope, Send, header_map, read_body, route_path
from ._events import Dialect
from ._pipeline import Pipeline, PipelineOptions, check_options
from ._requests import (
    RequestRejected,
    check_default_model,
    check_model_map,
    check_positive_int,
    client_answer,
    client_dialect_for_complete,
    error_body,
    legacy_to_messages_request,
    request_json_object,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["SSEAdaptMiddleware"]

#: Largest non-streaming answer or error body translated (502 above).
_MAX_BUFFERED = 16 * 1024 * 1024
#: Request headers the app gets from the middleware instead of the client's.
_REPLACED = frozenset({b"anthropic-version", b"accept-encoding"})
_REPLACED_WITH_BODY = _REPLACED | {b"content-length", b"transfer-encoding", b"content-type", b"content-encoding"}
#: App response headers a converted stream does not keep: its framing and the
#: ones ``SSE_HEADERS`` sets.
_STREAM_REPLACES = frozenset({b"content-length", b"content-encoding", b"transfer-encoding"} | {k for k, _ in SSE_HEADERS})


class SSEAdaptMiddleware:
    """Wrap ``app`` so legacy and 2023-06-01 completions clients can use it.

    Args:
        app: the wrapped ASGI app.
        app_api: what the app serves: ``"complete"`` (2023-06-01 ``/v1/complete``)
            or ``"messages"`` (``/v1/messages`` only).
        default_model, model_map: D15 model mapping when ``app_api="messages"``.
        max_body_size: largest request body translated (413 above), also once
            a gzip/deflate body is decoded (other content codings: 415).
        **pipeline_options: passed to :class:`~sseadapt.Pipeline` (:class:`~sseadapt.PipelineOptions`).

    Raises:
        TypeError, ValueError: an option :class:`~sseadapt.Pipeline` would refuse
            for a conversion the middleware makes, an ``app`` that is not
            callable, a ``default_model`` that is no model name, a ``model_map``
            not of names to names, a ``max_body_size`` not above 0 (checked
            here, not per request).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        app_api: Literal["complete", "messages"] = "complete",
        default_model: Union[str, None] = None,
        model_map: Mapping[str, str] | None = None,
        max_body_size: int = 10 * 1024 * 1024,
        **pipeline_options: Unpack[PipelineOptions],
    ) -> None:
        if not callable(app):
            raise TypeError(f"SSEAdaptMiddleware wraps an ASGI app (a callable), not {type(app).__name__}")
        if app_api not in ("complete", "messages"):
            raise ValueError(f"SSEAdaptMiddleware app_api must be 'complete' or 'messages', not {app_api!r}")
        check_default_model(default_model, "SSEAdaptMiddleware default_model")
        if model_map is not None:
            check_model_map(model_map, "SSEAdaptMiddleware model_map")
        check_positive_int(max_body_size, "SSEAdaptMiddleware max_body_size")
        if app_api == "messages":
            check_options(pipeline_options, [(Dialect.MESSAGES, Dialect.LEGACY), (Dialect.MESSAGES, Dialect.COMPLETIONS)])
        else:
            check_options(pipeline_options, [(Dialect.COMPLETIONS, Dialect.LEGACY)])
        self.app = app
        self.app_api = app_api
        self.default_model = default_model
        self.model_map = dict(model_map or {})
        self.max_body_size = max_body_size
        self.pipeline_options = pipeline_options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or route_path(scope) != "/v1/complete":
            await self.app(scope, receive, send)
            return
        try:
            client = client_dialect_for_complete(header_map(scope).get("anthropic-version"))
        except RequestRejected as exc:
            await _reply(send, exc.status, error_body(Dialect.COMPLETIONS, exc.error_type, exc.message))
            return
        if client is Dialect.COMPLETIONS and self.app_api == "complete":
            await self.app(scope, receive, send)  # nothing to convert
            return

        inner_scope = dict(scope)
        # A rewritten body (app_api="messages") is new JSON of a new length; else the client's framing stays.
        replaced = _REPLACED_WITH_BODY if self.app_api == "messages" else _REPLACED
        inner_headers = [(k, v) for k, v in scope["headers"] if k.lower() not in replaced]
        inner_headers.append((b"anthropic-version", b"2023-06-01"))
        inner_headers.append((b"accept-encoding", b"identity"))  # the answer is read as it is sent
        inner_receive = receive
        source = Dialect.COMPLETIONS
        if self.app_api == "messages":
            try:
                try:
                    body = await read_body(scope, receive, self.max_body_size)
                except BodyTooLarge:
                    raise RequestRejected(f"request body exceeds {self.max_body_size} bytes", status=413, error_type="request_too_large") from None
                except ClientGone:
                    return
                body_object = request_json_object(body, header_map(scope).get("content-encoding"), self.max_body_size)
                request = legacy_to_messages_request(body_object, default_model=self.default_model, model_map=self.model_map)
            except RequestRejected as exc:
                await _reply(send, exc.status, error_body(client, exc.error_type, exc.message))
                return
            new_body = json.dumps(request).encode()
            inner_headers.append((b"content-type", b"application/json"))
            inner_headers.append((b"content-length", str(len(new_body)).encode()))
            # The same place under the app's root_path (the full path ends with the route).
            prefix = scope["path"][: -len("/v1/complete")]
            raw_path = scope.get("raw_path")
            inner_scope["path"] = prefix + "/v1/messages"
            if isinstance(raw_path, bytes) and raw_path.endswith(b"/v1/complete"):
                inner_scope["raw_path"] = raw_path[: -len(b"/v1/complete")] + b"/v1/messages"
            else:
                inner_scope["raw_path"] = inner_scope["path"].encode("utf-8")
            inner_receive = _replay(new_body, receive)
            source = Dialect.MESSAGES
        inner_scope["headers"] = inner_headers
        converting = _ConvertingSend(send, source, client, self.pipeline_options)
        try:
            await self.app(inner_scope, inner_receive, converting)
        except Exception:
            # The client's stream still ends in its dialect's error shape
            # (as a cut upstream does in the proxy); the error goes on to the server.
            with contextlib.suppress(Exception):
                await converting.end_unfinished_stream()
            raise
        await converting.end_unfinished_stream()


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later calls: http.disconnect reaches the app

    return replay


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _ConvertingSend:
    """Intercepts the app's response and re-speaks it in the client's dialect."""

    def __init__(self, send: Send, source: Dialect, client: Dialect, options: PipelineOptions) -> None:
        self._send = send
        self._source = source
        self._client = client
        self._options = options
        self._mode = ""  # "stream", "json", "pass", or "refused"
        self._start: Message = {}
        self._pipeline: Pipeline | None = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._stream_ended = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] == "http.response.body":
            await self._on_body(message)
        else:
            await self._send(message)

    async def _on_start(self, message: Message) -> None:
        headers = {k.lower(): v for k, v in message.get("headers", [])}
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()  # media types ignore case
        self._start = message
        if message["status"] == 200 and "text/event-stream" in content_type:
            self._mode = "stream"
        elif "json" in content_type or message["status"] != 200:
            self._mode = "json"  # small: translated once complete (any error body, D13)
        else:
            self._mode = "pass"
            await self._send(message)
            return
        encoding = headers.get(b"content-encoding", b"identity").strip().lower()
        if encoding != b"identity":
            # Asked for identity, and the answer must be read to be translated.
            self._mode = "refused"
            reason = f"the app answered with content-encoding {encoding.decode('latin-1')!r}, which sseadapt does not decode"
            await _reply(self._send, 502, error_body(self._client, "api_error", reason))
        elif self._mode == "stream":
            self._pipeline = Pipeline(self._source, self._client, **self._options)
            # The app's own headers (request-id, rate limits, CORS, cookies) stay;
            # those describing the body are replaced by the converted stream's.
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _STREAM_REPLACES]
            await self._send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + kept})

    async def _on_body(self, message: Message) -> None:
        body = message.get("body", b"")
        more = bool(message.get("more_body"))
        if self._mode == "stream":
            assert self._pipeline is not None
            pipeline = self._pipeline
            if body:
                pipeline.receive_data(body)
            if not more:
                pipeline.receive_data(b"")
            out = pipeline.data_to_send()
            self._stream_ended = not more
            if out or not more:
                await self._send({"type": "http.response.body", "body": out, "more_body": more})
        elif self._mode == "refused":
            pass  # answered already
        elif self._mode == "json":
            self._buffered += len(body)
            if self._buffered > _MAX_BUFFERED:
                self._mode, self._buffer = "refused", []
                reason = f"the app's answer is larger than {_MAX_BUFFERED} bytes, the most sseadapt translates"
                await _reply(self._send, 502, error_body(self._client, "api_error", reason))
                return
            self._buffer.append(body)
            if not more:
                await self._send_json(b"".join(self._buffer))
        else:
            await self._send(message)

    async def end_unfinished_stream(self) -> None:
        """End a converted stream the app left open (it raised, or returned
        without its last body message): the input ends there, so the client
        gets the text so far and then its dialect's error shape."""
        if self._mode == "stream" and not self._stream_ended:
            await self._on_body({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_json(self, raw: bytes) -> None:
        status = self._start["status"]
        translated = client_answer(status, raw, self._source, self._client)
        # The app's headers stay, but those describing a body that changed.
        replaced = {b"content-length"} if translated is None else {b"content-length", b"content-type"}
        headers = [(k, v) for k, v in self._start.get("headers", []) if k.lower() not in replaced]
        out = raw if translated is None else translated
        if translated is not None:
            headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(out)).encode()))
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": out, "more_body": False})
