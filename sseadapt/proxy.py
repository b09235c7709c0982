"""``sseadapt proxy``: let legacy clients keep working against today's API.

A pure ASGI app (served by uvicorn, extra ``proxy``) with one upstream, fixed by
configuration and never taken from the request (no open proxy).

Routes
------

Paths are those within the app: served under a ``root_path`` (uvicorn's
``--root-path``, a Starlette ``Mount``), what follows it.

``POST /v1/complete``
    The client's dialect comes from its ``anthropic-version`` (D18: missing or
    ``2023-01-01`` -> legacy, ``2023-06-01`` -> 2023-06-01, else 400). With
    ``upstream_api="messages"`` (the default: today's models serve only
    Messages) the request is translated per D10/D15-D17 and sent to
    ``/v1/messages``; with ``"complete"`` it goes to ``/v1/complete`` as is.
    The upstream always gets ``anthropic-version: 2023-06-01``. Streams are
    converted to the client's dialect as they arrive; non-streaming answers
    are translated to the client's JSON shape.

any other path (``/v1/messages`` …)
    Passed through: method, path, query and body. ``text/event-stream``
    responses from ``/v1/messages`` are validated and re-emitted: each known
    event under its canonical name with its data as received, unknown events
    untouched; others are relayed byte for byte.

Failures (D4, D7, D13)
----------------------

* An upstream HTTP error keeps its status; its body is translated into the
  client's error shape.
* Every answer given after the upstream's carries the upstream's
  ``request-id``, its retry advice (``x-should-retry``, ``retry-after-ms``,
  ``retry-after``, which current SDKs follow) and its ``anthropic-*`` headers
  (rate limits); other upstream headers are not relayed.
* Upstream unreachable -> 502; connect or read timeout before the response -> 504;
  both in the client's error shape. More concurrent upstream requests than
  ``max_upstream_connections``: the next waits up to ``connect_timeout`` for
  one to end, then gets 503 (``overloaded_error``).
* On ``/v1/complete``, an answer the client cannot be given -> 502 naming
  why: a stream for a request without ``stream`` or the reverse, JSON that is
  invalid or not an object, or an object that is not a message (or
  completion) of the upstream's API.
* Mid-stream: an ``error`` event, a cut, a dropped connection, an idle stream
  (no byte for ``idle_timeout`` seconds) or invalid data all end the client's
  stream with its dialect's error shape, never with a terminal marker.
* The client disconnecting cancels the upstream request at once. Upstream
  bytes are read only as fast as the client takes them (no unbounded buffer).
  A client that stops reading (a send to it waits ``send_timeout`` seconds)
  has its answer abandoned and the upstream request cancelled: held open, it
  would keep an upstream connection and a ``max_upstream_connections`` slot
  for as long as it liked. The answer cannot be completed (the server's send
  is what waits), so the server closes the connection once its buffer drains
  (uvicorn logs "ASGI callable returned without completing response").

Safety
------

Binds 127.0.0.1 unless told otherwise; only ``x-api-key``, ``authorization``,
``anthropic-beta`` (and, on passthrough, ``anthropic-version``,
``content-type``, ``content-encoding``, ``accept``) are forwarded, and only to
the configured upstream; request bodies over ``max_body_size`` get 413, also
when a gzip/deflate body decodes past it (other codings: 415); secrets never
reach the logs (only method, path, status, time, events).

Logging: logger ``sseadapt.proxy``; one INFO line per request, lifecycle at DEBUG.

Upstream connections: streams are spread over small pools (one httpx client
per 32 concurrent streams, up to 32), because httpcore places each request by
scanning its whole pool; the request limit is the proxy's own semaphore. Each
pool keeps up to 32 idle connections for reuse (httpx's keep-alive expiry).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, Union

import anyio
import attrs

try:
    import httpx
except ImportError as exc:  # (tests/test_exports.py blocks the import to check the message)
    raise ImportError("sseadapt.proxy needs httpx: pip install 'sseadapt[proxy]'") from exc

from ._asgi import SSE_HEADERS, BodyTooLarge, ClientGone, Message, Receive, Scope, Send, header_map, read_body, route_path
from ._errors import SSEAdaptError, StreamInterrupted
from ._events import Dialect, json_from_wire
from ._pipeline import Pipeline
from ._requests import (
    DEFAULT_MODEL,
    RequestRejected,
    UntranslatableAnswer,
    check_default_model,
    check_model_map,
    check_positive_int,
    client_dialect_for_complete,
    error_body,
    json_bytes,
    legacy_to_messages_request,
    request_json_object,
    stream_requested,
    translate_answer,
    upstream_error_body,
)
from .httpx import _decoding_failed

__all__ = ["ProxyConfig", "ProxyApp", "create_app", "create_app_from_env", "configure_logging", "SSE_HEADERS", "DEFAULT_MODEL"]

logger = logging.getLogger("sseadapt.proxy")

_FORWARDED = ("x-api-key", "authorization", "anthropic-beta")
_PASSTHROUGH_EXTRA = ("anthropic-version", "content-type", "content-encoding", "accept")
_READ_ERROR_BODY = 64 * 1024
_DRAIN_SECONDS = 1.0
_MAX_JSON_RESPONSE = 64 * 1024 * 1024
# Upstream streams per connection pool. httpcore places each request by
# scanning every connection of its pool against every waiting request; with
# one pool for 200 concurrent streams that placement cost more CPU than
# relaying the events (and stalled the loop at each stream's start and end),
# so streams are spread over small pools, each an httpx client.
_STREAMS_PER_POOL = 32
_MAX_POOLS = 32


_Headers = Sequence[tuple[bytes, bytes]]
# Upstream response headers a client acts on, relayed on every answer the
# proxy gives after the upstream's: the request id (D13), the retry advice
# current SDKs follow (x-should-retry, retry-after-ms, retry-after) and the
# API's own anthropic-* headers (rate limits, organization).
_RELAYED_NAMES = frozenset({b"request-id", b"retry-after", b"retry-after-ms", b"x-should-retry"})


def _relayed_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    relayed = []
    for name, value in response.headers.raw:
        name = name.lower()  # ASGI wants lower-case names
        if name in _RELAYED_NAMES or name.startswith(b"anthropic-"):
            relayed.append((name, value))
    return relayed


def _positive(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"ProxyConfig.{attribute.name} must be a finite number above 0, not {value!r}")


def _positive_int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_positive_int(value, f"ProxyConfig.{attribute.name}")


def _one_of(*choices: str) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in choices:
            raise ValueError(f"ProxyConfig.{attribute.name} must be one of {', '.join(map(repr, choices))}, not {value!r}")

    return validate


_USERINFO = re.compile(r"(?<=//)[^/?#]*@")


def _redact_url(url: str) -> str:
    """``url`` with any credentials in it (``https://user:key@host``) shown as
    ``***``: what the proxy prints or logs of its upstream."""
    return _USERINFO.sub("***@", url, count=1)


def _split_credentials(url: str) -> tuple[str, Union[httpx.BasicAuth, None]]:
    """``url`` without its userinfo, and that userinfo as basic auth: request
    URLs then hold no credentials (httpx logs each request's URL at INFO)."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    auth = httpx.BasicAuth(urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or ""))
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])), auth


def _redacted_repr(value: object) -> str:
    return repr(_redact_url(value)) if isinstance(value, str) else repr(value)


def _http_url(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    try:
        parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
        usable = (
            parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
            and parts.port != 0 and not parts.query and not parts.fragment
        )
    except ValueError:  # a port out of range, a malformed IPv6 host
        usable = False
    if not usable:
        raise ValueError(
            f"ProxyConfig.{attribute.name} must be an http(s) URL with a host (a path is kept; no query), not {_redacted_repr(value)}"
        )


def _model_name_or_none(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_default_model(value, f"ProxyConfig.{attribute.name}")


def _model_names(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_model_map(value, f"ProxyConfig.{attribute.name}")


def _query(scope: Scope) -> str:
    """The request's query string, passed on to the upstream as received."""
    query: bytes = scope.get("query_string", b"")
    return query.decode("latin-1")


@attrs.frozen(kw_only=True)
class ProxyConfig:
    """The proxy's configuration (immutable; one per process)."""

    #: Base URL of the one upstream, e.g. ``https://api.anthropic.com``.
    upstream: str = attrs.field(validator=_http_url, repr=_redacted_repr)
    #: Which API ``/v1/complete`` requests are sent to upstream.
    upstream_api: Literal["messages", "complete"] = attrs.field(default="messages", validator=_one_of("messages", "complete"))
    #: Model for legacy aliases (``claude-v1*``, ``claude-instant*``, ``claude-1*``, ``claude-2*``) (D15).
    default_model: Union[str, None] = attrs.field(default=None, validator=_model_name_or_none)
    #: Exact model renames (D15).
    model_map: Mapping[str, str] = attrs.field(factory=dict, validator=_model_names)
    #: Largest request body accepted, in bytes (413 above).
    max_body_size: int = attrs.field(default=10 * 1024 * 1024, validator=_positive_int)
    #: Seconds to connect to the upstream (504 when exceeded).
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    #: Seconds the upstream may stay silent, before and during a stream.
    idle_timeout: float = attrs.field(default=300.0, validator=_positive)
    #: Seconds a client may take to accept the next piece of an answer (its
    #: connection full: it stopped reading); past it the answer is abandoned
    #: and the upstream request cancelled.
    send_timeout: float = attrs.field(default=60.0, validator=_positive)
    #: Largest single SSE event accepted from the upstream.
    max_event_size: int = attrs.field(default=16 * 1024 * 1024, validator=_positive_int)
    #: Concurrent upstream requests (those beyond it wait up to
    #: ``connect_timeout``, then get 503).
    max_upstream_connections: int = attrs.field(default=1000, validator=_positive_int)
    #: Legacy output ping policy (D2): ``"drop"`` or ``"keep"``.
    legacy_ping: Literal["drop", "keep"] = attrs.field(default="drop", validator=_one_of("drop", "keep"))

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ProxyConfig:
        """The configuration :meth:`to_json` wrote (a JSON object of the fields).

        Raises:
            ValueError: ``text`` is not a JSON object, names a field this class
                does not have or lacks ``upstream``, or a value is invalid.
        """
        try:
            fields = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"ProxyConfig JSON is not valid JSON: {exc}") from None
        if not isinstance(fields, dict):
            raise ValueError(f"ProxyConfig JSON must be an object of its fields, not {type(fields).__name__}")
        unknown = sorted(set(fields) - {a.name for a in attrs.fields(cls)})
        if unknown:
            raise ValueError(f"ProxyConfig JSON has no such field: {', '.join(map(repr, unknown))}")
        if "upstream" not in fields:
            raise ValueError("ProxyConfig JSON lacks 'upstream'")
        return cls(**fields)


class ProxyApp:
    """The proxy as an ASGI application.

    Args:
        config: the proxy configuration.
        transport: an httpx async transport for the upstream client (default:
            a pooled ``httpx.AsyncHTTPTransport``).
    """

    def __init__(self, config: ProxyConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport
        self._base, self._auth = _split_credentials(config.upstream.rstrip("/"))
        # Upstream clients (one pool each) and the streams each carries now;
        # a given transport is one pool, as the caller made it.
        self._clients: list[httpx.AsyncClient] = []
        self._streams: list[int] = []
        per_pool = -(-config.max_upstream_connections // _STREAMS_PER_POOL)
        self._max_pools = 1 if transport is not None else max(1, min(_MAX_POOLS, per_pool))
        self._slots: anyio.Semaphore | None = None  # max_upstream_connections, made in the event loop
        self._ssl_context: Any = None  # one for every pool (loading the CA bundle takes ~20 ms)

    # -- lifecycle -------------------------------------------------------------

    def _upstream_client(self) -> httpx.AsyncClient:
        """A client to build requests with (any pool's builds the same)."""
        if not self._clients:
            self._add_pool()
        return self._clients[0]

    def _add_pool(self) -> None:
        cfg = self.config
        transport = self._transport
        if transport is None:
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()
            # The proxy's semaphore bounds the requests; a pool's own limit
            # only bounds the idle connections it keeps.
            keepalive = min(100, cfg.max_upstream_connections, _STREAMS_PER_POOL)
            limits = httpx.Limits(max_connections=cfg.max_upstream_connections, max_keepalive_connections=keepalive)
            transport = httpx.AsyncHTTPTransport(retries=0, verify=self._ssl_context, limits=limits)
        self._clients.append(
            httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(connect=cfg.connect_timeout, read=cfg.idle_timeout, write=cfg.idle_timeout, pool=cfg.connect_timeout),
                follow_redirects=False,
                trust_env=False,
                auth=self._auth,
            )
        )
        self._streams.append(0)

    def _take_pool(self) -> int:
        """The pool for a new upstream request: the least busy, or a new one
        when every pool carries ``_STREAMS_PER_POOL`` streams."""
        streams = self._streams
        index = streams.index(min(streams)) if streams else -1
        if index < 0 or (streams[index] >= _STREAMS_PER_POOL and len(streams) < self._max_pools):
            self._add_pool()
            index = len(streams) - 1
        streams[index] += 1
        return index

    async def aclose(self) -> None:
        """Close the upstream connection pools."""
        clients, self._clients, self._streams = self._clients, [], []
        for client in clients:
            await client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                logger.debug("proxy.startup upstream=%s upstream_api=%s", self._base, self.config.upstream_api)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                logger.debug("proxy.shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- one request -------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        stats: dict[str, Any] = {"status": 0, "events": 0, "upstream_s": None, "outcome": ""}
        # An absolute-form target ("POST http://other.host/v1/complete") arrives
        # as the path: keep only its path; the upstream is never the request's.
        path = scope["path"]
        if not path.startswith("/"):
            path = urllib.parse.urlsplit(path).path or "/"
            scope = dict(scope, path=path)
        # Served under a root_path (uvicorn --root-path, a Mount), routes and the
        # upstream's paths are what follows it.
        route = route_path(scope)
        if route != path:
            path = route
            scope = dict(scope, path=route, root_path="")
        method = scope["method"]

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats["status"] = message["status"]
            await send(message)

        try:
            if method == "POST" and path == "/v1/complete":
                await self._complete(scope, receive, tracked_send, stats)
            else:
                await self._passthrough(scope, receive, tracked_send, stats)
        finally:
            upstream_s = stats["upstream_s"]
            logger.info(
                "%s %s -> %s in %.3fs (upstream %s, %d events%s)",
                method,
                path,
                stats["status"] or "-",
                time.monotonic() - started,
                f"{upstream_s:.3f}s" if upstream_s is not None else "-",
                stats["events"],
                f", {stats['outcome']}" if stats["outcome"] else "",
            )

    def _upstream_url(self, path: str, query: str) -> httpx.URL:
        """The configured upstream with ``path``; never another host."""
        base = httpx.URL(self._base)
        url = httpx.URL(self._base + path + (f"?{query}" if query else ""))
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            raise AssertionError(f"refusing upstream URL for another origin: {url}")  # defence in depth (_base holds no credentials)
        return url

    async def _reply(self, send: Send, status: int, body: bytes, *, relayed: _Headers = (), content_type: bytes = b"application/json") -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *relayed]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _complete(self, scope: Scope, receive: Receive, send: Send, stats: dict[str, Any]) -> None:
        headers = header_map(scope)
        try:
            client_dialect = client_dialect_for_complete(headers.get("anthropic-version"))
        except RequestRejected as exc:
            await self._reply(send, exc.status, error_body(Dialect.COMPLETIONS, exc.error_type, exc.message))
            return
        try:
            raw = await read_body(scope, receive, self.config.max_body_size)
        except BodyTooLarge:
            await self._reply(send, 413, error_body(client_dialect, "request_too_large", f"request body exceeds {self.config.max_body_size} bytes"))
            return
        except ClientGone:
            stats["outcome"] = "client disconnected"
            return
        try:
            body = request_json_object(raw, headers.get("content-encoding"), self.config.max_body_size)
            streaming = stream_requested(body)
            if self.config.upstream_api == "messages":
                upstream_body: dict[str, Any] = legacy_to_messages_request(
                    body, default_model=self.config.default_model, model_map=self.config.model_map
                )
                upstream_path, source = "/v1/messages", Dialect.MESSAGES
            else:
                upstream_body, upstream_path, source = body, "/v1/complete", Dialect.COMPLETIONS
        except RequestRejected as exc:
            await self._reply(send, exc.status, error_body(client_dialect, exc.error_type, exc.message))
            return
        upstream_headers = {k: v for k, v in headers.items() if k in _FORWARDED}
        upstream_headers["anthropic-version"] = "2023-06-01"
        upstream_headers["content-type"] = "application/json"
        upstream_headers["accept"] = "text/event-stream" if streaming else "application/json"
        upstream_headers["accept-encoding"] = "identity"  # streams are relayed as they arrive
        request = self._upstream_client().build_request(
            "POST", self._upstream_url(upstream_path, _query(scope)), headers=upstream_headers, content=json.dumps(upstream_body).encode()
        )
        await self._exchange(request, receive, send, stats, client_dialect=client_dialect, source=source, streaming=streaming)

    async def _passthrough(self, scope: Scope, receive: Receive, send: Send, stats: dict[str, Any]) -> None:
        headers = header_map(scope)
        try:
            raw = await read_body(scope, receive, self.config.max_body_size)
        except BodyTooLarge:
            await self._reply(send, 413, error_body(Dialect.MESSAGES, "request_too_large", f"request body exceeds {self.config.max_body_size} bytes"))
            return
        except ClientGone:
            stats["outcome"] = "client disconnected"
            return
        upstream_headers = {k: v for k, v in headers.items() if k in _FORWARDED + _PASSTHROUGH_EXTRA}
        upstream_headers["accept-encoding"] = "identity"
        url = self._upstream_url(scope["path"], _query(scope))
        request = self._upstream_client().build_request(scope["method"], url, headers=upstream_headers, content=raw)
        validate = scope["path"] == "/v1/messages"
        await self._exchange(
            request, receive, send, stats, client_dialect=Dialect.MESSAGES, source=Dialect.MESSAGES if validate else None, streaming=True
        )

    async def _exchange(
        self,
        request: httpx.Request,
        receive: Receive,
        send: Send,
        stats: dict[str, Any],
        *,
        client_dialect: Dialect,
        source: Union[Dialect, None],
        streaming: bool,
    ) -> None:
        """Send ``request`` upstream and relay the answer, cancelling on client disconnect."""
        started = time.monotonic()
        result: dict[str, Any] = {}
        send_timeout = self.config.send_timeout
        # When the send in progress began (None: none is): a watchdog task
        # reads it, as a deadline per send (a cancel scope each) would cost
        # ~7 µs per event.
        sending: list[Union[float, None]] = [None]

        async def timed_send(message: Message) -> None:
            if "client_stalled" in result:
                return  # the client is not reading: nothing more is written to it
            sending[0] = time.monotonic()
            try:
                await send(message)
            finally:
                sending[0] = None
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                result["answered"] = True

        async with anyio.create_task_group() as tg:

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                # Once the answer is complete the server reports a disconnect
                # at once (uvicorn does): that is the normal end, left to relay.
                if "answered" not in result:
                    result["client_gone"] = True
                    tg.cancel_scope.cancel()

            async def watch_sends() -> None:
                # A send that cannot finish means the client's connection is
                # full: it stopped reading. Held open, it would keep an
                # upstream request and a connection slot for good.
                wait = send_timeout
                while True:
                    await anyio.sleep(wait)
                    since = sending[0]
                    if since is None:
                        wait = send_timeout
                    elif (wait := since + send_timeout - time.monotonic()) <= 0:
                        result["client_stalled"] = True
                        tg.cancel_scope.cancel()
                        return

            async def relay() -> None:
                try:
                    slots = await self._wait_for_slot(timed_send, stats, client_dialect, started)
                    if slots is not None:
                        pool, streams = self._take_pool(), self._streams  # (aclose() may replace the lists meanwhile)
                        try:
                            await self._relay(self._clients[pool], request, timed_send, stats, client_dialect, source, streaming, started)
                        finally:
                            streams[pool] -= 1
                            slots.release()
                finally:
                    tg.cancel_scope.cancel()

            tg.start_soon(watch_disconnect)
            tg.start_soon(watch_sends)
            tg.start_soon(relay)
        if result.get("client_gone"):
            stats["outcome"] = "client disconnected; upstream request cancelled"
            logger.debug("stream.closed reason=client-disconnected")
        elif result.get("client_stalled"):
            # The answer cannot be completed (the server's send waits for the
            # client); returning leaves the server to close the connection.
            stats["outcome"] = f"client stopped reading (a send waited {send_timeout:g}s); answer abandoned, upstream request cancelled"
            logger.debug("stream.closed reason=client-stalled")

    async def _wait_for_slot(self, send: Send, stats: dict[str, Any], client_dialect: Dialect, started: float) -> Union[anyio.Semaphore, None]:
        """Take one of the ``max_upstream_connections`` slots (the caller
        releases it), waiting up to ``connect_timeout``; else answer 503."""
        if self._slots is None:
            self._slots = anyio.Semaphore(self.config.max_upstream_connections)
        try:
            with anyio.fail_after(self.config.connect_timeout):
                await self._slots.acquire()
        except TimeoutError:
            stats["upstream_s"] = time.monotonic() - started
            await self._reply(send, 503, error_body(client_dialect, "overloaded_error", "the proxy has no free upstream connection"))
            return None
        return self._slots

    async def _relay(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        send: Send,
        stats: dict[str, Any],
        client_dialect: Dialect,
        source: Union[Dialect, None],
        streaming: bool,
        started: float,
    ) -> None:
        logger.debug("upstream.connect.started %s %s", request.method, request.url.path)
        try:
            response = await client.send(request, stream=True)
        except httpx.PoolTimeout:
            stats["upstream_s"] = time.monotonic() - started
            await self._reply(send, 503, error_body(client_dialect, "overloaded_error", "the proxy has no free upstream connection"))
            return
        except httpx.TimeoutException:
            stats["upstream_s"] = time.monotonic() - started
            await self._reply(send, 504, error_body(client_dialect, "timeout_error", "upstream timed out"))
            return
        except httpx.TransportError as exc:
            stats["upstream_s"] = time.monotonic() - started
            logger.debug("upstream.connect.failed %s", type(exc).__name__)
            await self._reply(send, 502, error_body(client_dialect, "api_error", f"upstream unreachable ({type(exc).__name__})"))
            return
        try:
            stats["upstream_s"] = time.monotonic() - started
            relayed = _relayed_headers(response)
            is_sse = "text/event-stream" in response.headers.get("content-type", "").lower()  # media types ignore case
            converted = request.url.path == "/v1/complete" or client_dialect is not Dialect.MESSAGES
            if response.status_code != 200:
                if converted or request.url.path == "/v1/messages":
                    body = await self._read_limited(response, _READ_ERROR_BODY)
                    translated = upstream_error_body(client_dialect, response.status_code, body)
                    await self._reply(send, response.status_code, translated, relayed=relayed)
                else:
                    await self._relay_raw(response, send, relayed)
            elif source is None or (not converted and not is_sse):
                await self._relay_raw(response, send, relayed)
            elif streaming != is_sse:
                ctype = response.headers.get("content-type") or "no content type"
                asked = "a stream request" if streaming else "a request without stream"
                await self._reply(send, 502, error_body(client_dialect, "api_error", f"upstream answered {asked} with {ctype}"), relayed=relayed)
            elif not streaming:
                await self._relay_json(response, send, client_dialect, source, relayed)
            else:
                await self._relay_stream(response, send, stats, client_dialect, source, relayed)
        finally:
            await response.aclose()

    async def _read_limited(self, response: httpx.Response, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= limit:
                    break
        except httpx.HTTPError:
            pass
        return b"".join(chunks)[:limit]

    async def _relay_raw(self, response: httpx.Response, send: Send, relayed: _Headers) -> None:
        # The upstream's bytes: httpx may have decoded the value as UTF-8, which latin-1 cannot always re-encode.
        content_type = next((v for k, v in response.headers.raw if k.lower() == b"content-type"), b"application/octet-stream")
        headers = [(b"content-type", content_type), *relayed]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        try:
            async for chunk in response.aiter_bytes():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.HTTPError:
            pass  # the body ends short; HTTP framing tells the client
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _relay_json(self, response: httpx.Response, send: Send, client_dialect: Dialect, source: Dialect, relayed: _Headers) -> None:
        raw = await self._read_limited(response, _MAX_JSON_RESPONSE + 1)
        if len(raw) > _MAX_JSON_RESPONSE:
            reason = f"upstream answer is larger than {_MAX_JSON_RESPONSE} bytes, the most sseadapt translates"
            await self._reply(send, 502, error_body(client_dialect, "api_error", reason), relayed=relayed)
            return
        try:
            answer = json_from_wire(raw)
        except ValueError:
            await self._reply(send, 502, error_body(client_dialect, "api_error", "upstream answered with invalid JSON"), relayed=relayed)
            return
        if not isinstance(answer, dict):
            await self._reply(send, 502, error_body(client_dialect, "api_error", "upstream answered with JSON that is not an object"), relayed=relayed)
            return
        try:
            translated = translate_answer(answer, source, client_dialect)
        except UntranslatableAnswer as exc:
            await self._reply(send, 502, error_body(client_dialect, "api_error", f"upstream answer cannot be translated: {exc}"), relayed=relayed)
            return
        await self._reply(send, 200, json_bytes(translated), relayed=relayed)

    async def _relay_stream(
        self,
        response: httpx.Response,
        send: Send,
        stats: dict[str, Any],
        client_dialect: Dialect,
        source: Dialect,
        relayed: _Headers,
    ) -> None:
        cfg = self.config
        pipeline = Pipeline(
            source,
            client_dialect,
            max_event_size=cfg.max_event_size,
            ping=cfg.legacy_ping if client_dialect is Dialect.LEGACY else "default",
        )
        headers = [*SSE_HEADERS, *relayed]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        logger.debug("stream.started source=%s client=%s", source.value, client_dialect.value)
        upstream_chunks = response.aiter_bytes()  # one iterator: the drain below continues it
        try:
            async for chunk in upstream_chunks:
                pipeline.receive_data(chunk)
                out = pipeline.data_to_send()
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
                if pipeline.ended:
                    break
            else:
                pipeline.receive_data(b"")
        except httpx.ReadTimeout:
            pipeline.abort(
                StreamInterrupted(f"upstream idle for {cfg.idle_timeout}s", error_type="timeout_error"),
                "timeout_error",
                f"upstream stream idle for more than {cfg.idle_timeout:g}s",
            )
        except httpx.DecodingError as exc:  # compressed although asked for identity, and not decodable
            _decoding_failed(pipeline, exc)
        except httpx.HTTPError as exc:
            # A dropped connection is a cut stream (D7).
            logger.debug("upstream.read.failed %s", type(exc).__name__)
            pipeline.receive_data(b"")
        except anyio.get_cancelled_exc_class():
            # Shutdown (or a client that left): end the stream with the error
            # shape, never a silent cut, if the client is still there to read it.
            stats["events"] = pipeline.reader.parser.events_dispatched
            pipeline.abort(StreamInterrupted("the proxy stopped the stream"), "api_error", "proxy shutting down; stream interrupted")
            with anyio.move_on_after(1, shield=True):
                await send({"type": "http.response.body", "body": pipeline.data_to_send(), "more_body": False})
            raise
        stats["events"] = pipeline.reader.parser.events_dispatched
        error: SSEAdaptError | None = pipeline.error
        stats["outcome"] = "complete" if pipeline.complete else f"ended with error shape ({type(error).__name__})"
        out = pipeline.data_to_send()
        if pipeline.complete:
            # Read what follows the terminal event (normally just the end of
            # the body; discarded, at most a second) so the upstream sees a
            # normal end and the pooled connection stays usable.
            if out:
                await send({"type": "http.response.body", "body": out, "more_body": True})
                out = b""
            with anyio.move_on_after(_DRAIN_SECONDS):
                try:
                    async for _ in upstream_chunks:
                        pass
                except httpx.HTTPError:
                    pass
        await send({"type": "http.response.body", "body": out, "more_body": False})
        logger.debug("stream.closed reason=%s", "complete" if pipeline.complete else type(error).__name__)


def create_app(config: ProxyConfig) -> ProxyApp:
    """Create the proxy ASGI app for ``config``."""
    return ProxyApp(config)


def configure_logging(level: str) -> None:
    """Log to stderr at ``level`` (``"debug"`` … ``"error"``), as ``sseadapt proxy`` does.

    httpx's own logger is kept at WARNING: it logs each upstream request at
    INFO, a second line per request beside the proxy's (with the upstream URL
    and the client's query string).
    """
    if not isinstance(level, str) or level.lower() not in _LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(_LOG_LEVELS)}, not {level!r}")
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)


_LOG_LEVELS: Final = ("debug", "info", "warning", "error")


def create_app_from_env() -> ProxyApp:
    """App factory for ``uvicorn --factory`` and multi-worker serving.

    Reads the configuration (JSON) from ``SSEADAPT_PROXY_CONFIG``. Worker
    processes start fresh, so ``SSEADAPT_PROXY_LOG_LEVEL``, when set,
    configures logging to stderr as ``sseadapt proxy`` does.

    Raises:
        ValueError: ``SSEADAPT_PROXY_CONFIG`` is not set or not a valid
            configuration, or ``SSEADAPT_PROXY_LOG_LEVEL`` is no log level
            (the message names the variable).
    """
    import os

    level = os.environ.get("SSEADAPT_PROXY_LOG_LEVEL")
    if level:
        try:
            configure_logging(level)
        except ValueError as exc:
            raise ValueError(f"SSEADAPT_PROXY_LOG_LEVEL: {exc}") from None
    text = os.environ.get("SSEADAPT_PROXY_CONFIG")
    if text is None:
        raise ValueError('SSEADAPT_PROXY_CONFIG is not set: it holds the configuration as JSON, e.g. {"upstream": "https://api.anthropic.com"}')
    try:
        return ProxyApp(ProxyConfig.from_json(text))
    except ValueError as exc:
        raise ValueError(f"SSEADAPT_PROXY_CONFIG: {exc}") from None
