"""The httpx transport and helpers, and the ASGI middleware, over real loopback sockets."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sseadapt import Dialect, accumulate, iter_events
from sseadapt._requests import legacy_to_messages_request
from sseadapt.asgi import SSEAdaptMiddleware
from sseadapt.httpx import AsyncConvertingTransport, Conversion, ConvertingTransport, SSEError, aconnect_sse, connect_sse
from sseadapt.proxy import ProxyApp, ProxyConfig
from sseadapt.upstream import DEFAULT_TEXT, DemoUpstream

from .clients import run_client
from .helpers import COMPLETIONS_FIXTURE, FIXTURES, HALF_PAIR_ANSWERS, MESSAGES_FIXTURE, answering_app, read_request_body

BODY = {"prompt": "\n\nHuman: Hello!\n\nAssistant:", "model": "claude-v1", "max_tokens_to_sample": 100, "stream": True}


def legacy_completions(raw: bytes) -> list[str]:
    out = []
    for event in iter_events([raw]):
        assert event.event == "message", event  # data-only legacy events
        if event.data != "[DONE]":
            out.append(json.loads(event.data)["completion"])
    return out


# -- httpx transport ---------------------------------------------------------------


def test_sync_transport_reads_legacy_events_from_a_2023_06_01_server(serve: Callable[..., Any]) -> None:
    app = DemoUpstream()
    server = serve(app)
    with httpx.Client(transport=ConvertingTransport(httpx.HTTPTransport()), timeout=30) as client:
        with client.stream("POST", server.url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-01-01"}) as response:
            assert "content-length" not in response.headers
            raw = response.read()
    completions = legacy_completions(raw)
    assert completions[-1] == DEFAULT_TEXT
    assert raw.endswith(b"data: [DONE]\n\n")
    # The server was asked for the version it speaks.
    assert app.log[0].headers["anthropic-version"] == "2023-06-01"


LEGACY_EXPECTED = (FIXTURES / "expected" / "v2023-06-01-completion.to-legacy.sse").read_bytes()
EXPECTED_LOG_ID = "0d4d4fb341ff83236333ad511ec59b4b822c2487ab425cf05e0b5f12a59f756a"  # the expected file's


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_transport_asks_for_identity_and_decodes_a_compressed_stream(serve: Callable[..., Any], encoding: str) -> None:
    app, asked = answering_app(COMPLETIONS_FIXTURE, encoding=encoding)
    server = serve(app, lifespan="off")
    with httpx.Client(transport=ConvertingTransport(log_id_factory=lambda: EXPECTED_LOG_ID), timeout=30) as client:
        raw = client.post(server.url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-01-01", "accept-encoding": "gzip"}).content
    assert asked == [b"identity"]
    assert raw == LEGACY_EXPECTED


@pytest.mark.anyio
async def test_async_transport_decodes_a_compressed_stream(serve: Callable[..., Any]) -> None:
    server = serve(answering_app(COMPLETIONS_FIXTURE, encoding="gzip")[0], lifespan="off")
    async with httpx.AsyncClient(transport=AsyncConvertingTransport(log_id_factory=lambda: EXPECTED_LOG_ID), timeout=30) as client:
        raw = (await client.post(server.url + "/v1/complete", json=BODY)).content
    assert raw == LEGACY_EXPECTED


def test_transport_ends_an_undecodable_stream_with_the_error_shape(serve: Callable[..., Any]) -> None:
    server = serve(answering_app(COMPLETIONS_FIXTURE, encoding="gzip", corrupt=True)[0], lifespan="off")
    with httpx.Client(transport=ConvertingTransport(), timeout=30) as client:
        raw = client.post(server.url + "/v1/complete", json=BODY).content
    last = json.loads(list(iter_events([raw]))[-1].data)
    assert last["exception"].startswith("api_error: upstream stream could not be decoded: ")
    assert b"[DONE]" not in raw


def test_transport_passes_other_requests_untouched(serve: Callable[..., Any]) -> None:
    server = serve(DemoUpstream())
    with httpx.Client(transport=ConvertingTransport(), timeout=30) as client:
        raw = client.post(server.url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-06-01"}).content
        messages = client.post(server.url + "/v1/messages", json={**BODY, "max_tokens": 5}).content
    assert list(iter_events([raw]))[0].event == "completion"
    assert list(iter_events([messages]))[0].event == "message_start"


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_async_transport_streams_incrementally(serve: Callable[..., Any], anyio_backend: str) -> None:
    server = serve(DemoUpstream(delay=0.05, fault="cut", fault_after=6))
    arrivals: list[float] = []
    async with httpx.AsyncClient(transport=AsyncConvertingTransport(), timeout=30) as client:
        async with client.stream("POST", server.url + "/v1/complete", json=BODY) as response:
            chunks = []
            async for chunk in response.aiter_bytes():
                arrivals.append(time.monotonic())
                chunks.append(chunk)
    raw = b"".join(chunks)
    # Incremental: chunks arrived spread over the stream's ~0.3 s, not all at once.
    assert len(arrivals) >= 4 and arrivals[-1] - arrivals[0] > 0.15
    # A cut upstream ends in the legacy error shape, with the text so far (D7).
    last = json.loads(list(iter_events([raw]))[-1].data)
    assert last["exception"] == "api_error: upstream stream ended early (no terminal event)"
    assert last["completion"] == "".join(DemoUpstream().tokens[:6])


def test_sync_transport_gives_whole_answers_and_errors_in_the_legacy_shape(serve: Callable[..., Any]) -> None:
    # They kept the 2023-06-01 shape: no exception/truncated fields, a 2023-06-01 error body,
    # and a text/plain error body that legacy code could not read as JSON.
    fine, overloaded, exploded = (serve(DemoUpstream(fault=fault)) for fault in (None, "status-529", "status-500-text"))
    with httpx.Client(transport=ConvertingTransport(), timeout=30) as client:
        answer = client.post(fine.url + "/v1/complete", json={**BODY, "stream": False})
        error = client.post(overloaded.url + "/v1/complete", json={**BODY, "stream": False})
        text_error = client.post(exploded.url + "/v1/complete", json=BODY)
        untouched = client.post(fine.url + "/v1/complete", json={**BODY, "stream": False}, headers={"anthropic-version": "2023-06-01"})
    assert answer.status_code == 200
    assert answer.json() == {
        "completion": DEFAULT_TEXT, "stop_reason": "stop_sequence", "model": "claude-v1",
        "truncated": False, "stop": None, "log_id": "compl_demo00000001", "exception": None,
    }
    assert answer.headers["content-length"] == str(len(answer.content))
    assert (error.status_code, error.json()) == (529, {"error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert error.headers["request-id"] == "req_demo_0"
    assert (text_error.status_code, text_error.json()) == (500, {"error": {"type": "api_error", "message": "upstream exploded"}})
    assert text_error.headers.get_list("content-type") == ["application/json"]
    assert untouched.json()["type"] == "completion"  # a 2023-06-01 client: nothing converted


@pytest.mark.anyio
async def test_async_transport_gives_a_compressed_whole_answer_in_the_legacy_shape(serve: Callable[..., Any]) -> None:
    answer = json.dumps({"type": "completion", "id": "c1", "completion": "Hi", "stop_reason": "max_tokens", "model": "m", "stop": None, "log_id": "c1"})
    server = serve(answering_app(answer.encode(), encoding="gzip", content_type="application/json")[0], lifespan="off")
    async with httpx.AsyncClient(transport=AsyncConvertingTransport(), timeout=30) as client:
        response = await client.post(server.url + "/v1/complete", json={**BODY, "stream": False})
    assert response.json() == {"completion": "Hi", "stop_reason": "max_tokens", "model": "m", "truncated": False, "stop": None, "log_id": "c1", "exception": None}
    assert "content-encoding" not in response.headers


def test_transport_passes_whole_answers_it_has_no_shape_for(serve: Callable[..., Any]) -> None:
    # Messages -> OpenAI: no chat.completion object is built, and a completion shape would be wrong.
    def to_openai(request: httpx.Request) -> Conversion:
        return Dialect.MESSAGES, Dialect.OPENAI, {}

    server = serve(DemoUpstream())
    with httpx.Client(transport=ConvertingTransport(selector=to_openai), timeout=30) as client:
        answer = client.post(server.url + "/v1/messages", json={**BODY, "max_tokens": 5, "stream": False})
    assert answer.json()["type"] == "message"
    assert answer.headers["content-type"] == "application/json"


STALL_TIMEOUT = httpx.Timeout(30, read=0.5)


def assert_timed_out_legacy_stream(raw: bytes) -> None:
    # The client's read timeout ends the stream with the legacy error shape and
    # timeout_error (as the proxy's idle timeout does), with the text so far.
    last = json.loads(list(iter_events([raw]))[-1].data)
    assert last["exception"] == "timeout_error: upstream stream timed out"
    assert last["completion"] == "".join(DemoUpstream().tokens[:2])
    assert b"[DONE]" not in raw


def test_sync_transport_ends_a_stalled_stream_with_a_timeout_error(serve: Callable[..., Any]) -> None:
    server = serve(DemoUpstream(fault="stall", fault_after=2))
    started = time.monotonic()
    with httpx.Client(transport=ConvertingTransport(), timeout=STALL_TIMEOUT) as client:
        raw = client.post(server.url + "/v1/complete", json=BODY).content
    assert time.monotonic() - started < 10
    assert_timed_out_legacy_stream(raw)


@pytest.mark.anyio
async def test_async_transport_ends_a_stalled_stream_with_a_timeout_error(serve: Callable[..., Any]) -> None:
    server = serve(DemoUpstream(fault="stall", fault_after=2))
    async with httpx.AsyncClient(transport=AsyncConvertingTransport(), timeout=STALL_TIMEOUT) as client:
        raw = (await client.post(server.url + "/v1/complete", json=BODY)).content
    assert_timed_out_legacy_stream(raw)


def test_connect_sse_helpers(serve: Callable[..., Any]) -> None:
    server = serve(DemoUpstream())
    with httpx.Client(timeout=30) as client:
        with connect_sse(client, "POST", server.url + "/v1/messages", json={**BODY, "max_tokens": 5}) as source:
            events = list(source.iter_sse())
        assert events[0].event == "message_start"
        assert events[0].json()["type"] == "message_start"
        with connect_sse(client, "POST", server.url + "/v1/messages", json={"stream": False, "model": "m"}) as source:
            with pytest.raises(SSEError):
                list(source.iter_sse())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (None, [("accept", "text/event-stream"), ("cache-control", "no-store")]),
        # A caller's own choice wins, whatever the case of its name (it was sent twice).
        ({"accept": "application/json"}, [("accept", "application/json"), ("cache-control", "no-store")]),
        (httpx.Headers({"Cache-Control": "max-age=0"}), [("cache-control", "max-age=0"), ("accept", "text/event-stream")]),
        # Repeated names survive (a dict kept only the last).
        ([("x-a", "1"), ("x-a", "2")], [("x-a", "1"), ("x-a", "2"), ("accept", "text/event-stream"), ("cache-control", "no-store")]),
    ],
)
def test_connect_sse_request_headers(headers: Any, expected: list[tuple[str, str]]) -> None:
    sent: list[list[tuple[str, str]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append([(k, v) for k, v in request.headers.multi_items() if k in ("accept", "cache-control", "x-a")])
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=b"data: x\n\n")

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        with connect_sse(client, "GET", "http://127.0.0.1/", headers=headers) as source:
            assert [e.data for e in source.iter_sse()] == ["x"]
    assert sent == [expected]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_aconnect_sse(serve: Callable[..., Any], anyio_backend: str) -> None:
    server = serve(DemoUpstream())
    async with httpx.AsyncClient(timeout=30) as client:
        async with aconnect_sse(client, "POST", server.url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-06-01"}) as source:
            events = [event async for event in source.aiter_sse()]
    assert "".join(json.loads(e.data)["completion"] for e in events if e.event == "completion") == DEFAULT_TEXT


# -- ASGI middleware -----------------------------------------------------------------

LEGACY_CLIENT = r"""
import json, os, anthropic
client = anthropic.Client(api_key="sk-test", api_url=os.environ["SSEADAPT_URL"])
params = dict(prompt=f"{anthropic.HUMAN_PROMPT} Hello{anthropic.AI_PROMPT}", model="claude-v1", max_tokens_to_sample=100)
print(json.dumps({"stream": [i["completion"] for i in client.completion_stream(**params)], "whole": client.completion(**params)}))
"""


@pytest.mark.clients
@pytest.mark.parametrize("app_api", ["complete", "messages"])
def test_middleware_serves_the_real_legacy_client(serve: Callable[..., Any], app_api: str) -> None:
    app = DemoUpstream()
    server = serve(SSEAdaptMiddleware(app, app_api=app_api))  # type: ignore[arg-type]
    result = run_client("anthropic-0.2.10", LEGACY_CLIENT, server.url)
    assert result["stream"][-1] == DEFAULT_TEXT
    assert all(b.startswith(a) for a, b in zip(result["stream"], result["stream"][1:]))
    assert result["whole"]["completion"] == DEFAULT_TEXT
    assert result["whole"]["truncated"] is False
    assert {r.path for r in app.log} == {f"/v1/{app_api}"}


def test_transports_refuse_an_inner_transport_or_selector_they_cannot_use() -> None:
    # Each was accepted and failed on every request (AttributeError: no handle_async_request).
    with pytest.raises(TypeError, match=r"^AsyncConvertingTransport needs an inner transport with handle_async_request\(\), not HTTPTransport$"):
        AsyncConvertingTransport(httpx.HTTPTransport())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^ConvertingTransport needs an inner transport with handle_request\(\), not AsyncHTTPTransport$"):
        ConvertingTransport(httpx.AsyncHTTPTransport())  # type: ignore[arg-type]
    for make in (ConvertingTransport, AsyncConvertingTransport):
        with pytest.raises(TypeError, match=r"ConvertingTransport selector must be callable, not str$"):
            make(selector="legacy")  # type: ignore[arg-type]
    assert isinstance(ConvertingTransport(httpx.MockTransport(lambda request: httpx.Response(204))).inner, httpx.MockTransport)


@pytest.mark.parametrize(
    ("argument", "error", "message"),
    [
        ({"app": 5}, TypeError, "wraps an ASGI app (a callable), not int"),
        ({"app_api": "chat"}, ValueError, "app_api must be 'complete' or 'messages', not 'chat'"),
        # Each of these was accepted, then a 500 or a request with a model that is no name, per request.
        ({"default_model": 5}, ValueError, "default_model must be a model name or None, not 5"),
        ({"default_model": ""}, ValueError, "default_model must be a model name or None"),
        ({"model_map": {"claude-2": None}}, ValueError, "model_map must map model names to model names"),
        ({"model_map": "claude-2=m"}, ValueError, "model_map must map model names"),
        ({"max_body_size": "10"}, ValueError, "max_body_size must be an integer above 0, not '10'"),
        ({"max_body_size": 0}, ValueError, "max_body_size must be an integer above 0"),
        ({"max_body_size": True}, ValueError, "max_body_size must be an integer above 0"),
    ],
)
def test_middleware_refuses_arguments_it_cannot_work_with(argument: dict[str, Any], error: type[Exception], message: str) -> None:
    arguments: dict[str, Any] = {"app": DemoUpstream(), "app_api": "messages", **argument}
    with pytest.raises(error, match=f"^SSEAdaptMiddleware {re.escape(message)}"):
        SSEAdaptMiddleware(**arguments)


def test_middleware_maps_models_it_was_given(serve: Callable[..., Any]) -> None:
    app = DemoUpstream()
    server = serve(SSEAdaptMiddleware(app, app_api="messages", default_model="claude-new", model_map={"claude-x": "claude-y"}))
    for asked in ("claude-2", "claude-x", "other"):
        httpx.post(server.url + "/v1/complete", json={**BODY, "model": asked}, headers={"anthropic-version": "2023-01-01"}, timeout=30)
    assert [r.body["model"] for r in app.log] == ["claude-new", "claude-y", "other"]


def starlette_app() -> Any:
    """A Starlette app serving /v1/messages (the text-only fixture, streamed in
    pieces, or as one message), with GZipMiddleware inside SSEAdaptMiddleware, as
    a user would stack them."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    async def messages(request: Request) -> Response:
        if (await request.json()).get("stream"):

            async def pieces() -> Any:
                for i in range(0, len(MESSAGES_FIXTURE), 64):
                    yield MESSAGES_FIXTURE[i : i + 64]

            return StreamingResponse(pieces(), media_type="text/event-stream")
        return JSONResponse(accumulate("messages", [MESSAGES_FIXTURE]))

    return Starlette(
        routes=[Route("/v1/messages", messages, methods=["POST"])],
        middleware=[Middleware(SSEAdaptMiddleware, app_api="messages"), Middleware(GZipMiddleware, minimum_size=1)],
    )


@pytest.mark.clients
@pytest.mark.parametrize(
    ("options", "error"),
    [({"pingg": "drop"}, "unknown pipeline option 'pingg'"), ({"ping": "sometimes"}, "ping must be"), ({"unknown": "pass"}, "data-only")],
)
def test_adapters_refuse_bad_pipeline_options_when_made(options: dict[str, Any], error: str) -> None:
    # Before, each of these was a TypeError or ValueError on every converted request
    # (a 500 from the middleware); unknown="pass" cannot work for legacy output.
    for make in (
        lambda: SSEAdaptMiddleware(DemoUpstream(), **options),
        lambda: SSEAdaptMiddleware(DemoUpstream(), app_api="messages", **options),
        lambda: ConvertingTransport(**options),
        lambda: AsyncConvertingTransport(**options),
    ):
        with pytest.raises((TypeError, ValueError), match=error):
            make()
    # Another selector's conversions are known only per request: names are still checked.
    def messages_only(request: httpx.Request) -> Conversion:
        return Dialect.MESSAGES, Dialect.MESSAGES, {}

    if "pingg" in options:
        with pytest.raises(TypeError, match=error):
            ConvertingTransport(selector=messages_only, **options)
    else:
        ConvertingTransport(selector=messages_only, **options)


def test_middleware_in_a_starlette_stack_serves_the_real_legacy_client(serve: Callable[..., Any]) -> None:
    # The legacy client asks for gzip; GZipMiddleware would compress the JSON answer
    # the middleware must translate, so the middleware asks the app for identity.
    server = serve(starlette_app())
    result = run_client("anthropic-0.2.10", LEGACY_CLIENT, server.url)
    assert result["stream"][-1] == " Hello! My name is Claude."
    assert all(b.startswith(a) for a, b in zip(result["stream"], result["stream"][1:]))
    assert result["whole"]["completion"] == " Hello! My name is Claude."
    assert result["whole"]["truncated"] is False and result["whole"]["log_id"] == "msg_01Hq5sWzTbP3kVnY8fRcJd2M"


def test_middleware_serves_2023_06_01_clients_and_rejects_unknown_versions(serve: Callable[..., Any]) -> None:
    app = DemoUpstream()
    server = serve(SSEAdaptMiddleware(app, app_api="messages"))
    raw = httpx.post(server.url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-06-01"}).content
    events = list(iter_events([raw]))
    assert "".join(json.loads(e.data)["completion"] for e in events if e.event == "completion") == DEFAULT_TEXT
    # The app got the request as D10 translates it (tests/test_requests.py).
    assert [(r.path, r.body) for r in app.log] == [("/v1/messages", legacy_to_messages_request(BODY))]
    bad = httpx.post(server.url + "/v1/complete", json=BODY, headers={"anthropic-version": "1999-01-01"})
    assert bad.status_code == 400 and "supported versions" in bad.json()["error"]["message"]


def test_middleware_refuses_deep_json_request_bodies(serve: Callable[..., Any]) -> None:
    # (With app_api="messages" the middleware parses the body to translate it.)
    app = DemoUpstream()
    server = serve(SSEAdaptMiddleware(app, app_api="messages"))
    for body in (b'{"prompt": ' + b"[" * 256 + b"]" * 256 + b"}", b"[" * 100_000 + b"]" * 100_000):
        response = httpx.post(server.url + "/v1/complete", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert "nested deeper than 256 levels" in response.json()["error"]["message"]
    assert app.log == []


def test_middleware_passes_deep_json_answers_through(serve: Callable[..., Any]) -> None:
    deep = b'{"type":"message","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    server = serve(SSEAdaptMiddleware(answering_app(deep, content_type="application/json")[0], app_api="messages"), lifespan="off")
    response = httpx.post(server.url + "/v1/complete", json={**BODY, "stream": False})
    # Not a message sseadapt can translate: the answer as it came (as for any non-object JSON).
    assert response.status_code == 200 and response.content == deep


@pytest.mark.parametrize(
    "answer",
    [
        {"type": "message", "content": 5},
        {"type": "message", "content": [{"type": "text", "text": None}]},
        {"type": "message", "content": []},  # translates: no text blocks
        {"data": [{"id": "claude"}]},  # no message
        {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
    ],
    ids=["content-number", "text-null", "no-blocks", "no-message", "type-error"],
)
@pytest.mark.parametrize("version", ["2023-01-01", "2023-06-01"])
def test_middleware_passes_untranslatable_answers_through(serve: Callable[..., Any], answer: dict[str, Any], version: str) -> None:
    raw = json.dumps(answer).encode()

    server = serve(SSEAdaptMiddleware(answering_app(raw, content_type="application/json")[0], app_api="messages"), lifespan="off")
    response = httpx.post(server.url + "/v1/complete", json={**BODY, "stream": False}, headers={"anthropic-version": version})
    assert response.status_code == 200
    if answer.get("content") == []:
        assert response.json()["completion"] == ""
    else:
        assert response.content == raw


@pytest.mark.parametrize("how", ["raises", "returns"])
def test_a_stream_the_app_leaves_open_ends_with_the_error_shape(serve: Callable[..., Any], how: str) -> None:
    # The app sends the first 300 bytes of a 2023-06-01 stream, then raises or
    # returns without its last body message: before, the client's connection was
    # cut mid-body (httpx: "incomplete chunked read").
    head = COMPLETIONS_FIXTURE[: COMPLETIONS_FIXTURE.index(b"\n\n", 300) + 2]
    raised: list[BaseException] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": head, "more_body": True})
        if how == "raises":
            raise RuntimeError("app crashed")

    middleware = SSEAdaptMiddleware(app)

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        try:
            await middleware(scope, receive, send)
        except RuntimeError as exc:
            raised.append(exc)

    server = serve(recording, lifespan="off")
    raw = httpx.post(server.url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-01-01"}, timeout=30).content
    payloads = [json.loads(e.data) for e in iter_events([raw])]
    texts = [json.loads(e.data)["completion"] for e in iter_events([head]) if e.event == "completion"]
    assert [p["completion"] for p in payloads[:-1]] == ["".join(texts[: i + 1]) for i in range(len(texts))]
    assert payloads[-1]["completion"] == "".join(texts)
    assert payloads[-1]["exception"] == "api_error: upstream stream ended early (no terminal event)"
    assert b"[DONE]" not in raw
    assert [str(exc) for exc in raised] == (["app crashed"] if how == "raises" else [])  # the error still goes on


def test_media_types_are_matched_ignoring_case(serve: Callable[..., Any]) -> None:
    # RFC 9110: type and subtype are case-insensitive, so is the charset parameter.
    odd = "Text/Event-Stream; Charset=UTF-8"
    upstream = serve(answering_app(COMPLETIONS_FIXTURE, content_type=odd)[0], lifespan="off")
    with httpx.Client(transport=ConvertingTransport(log_id_factory=lambda: EXPECTED_LOG_ID), timeout=30) as client:
        assert client.post(upstream.url + "/v1/complete", json=BODY).content == LEGACY_EXPECTED
    with httpx.Client(timeout=30) as client:
        with connect_sse(client, "POST", upstream.url + "/v1/complete", json=BODY) as source:
            assert [e.event for e in source.iter_sse()].count("completion") == COMPLETIONS_FIXTURE.count(b"event: completion\n")
    middleware = serve(SSEAdaptMiddleware(answering_app(COMPLETIONS_FIXTURE, content_type=odd)[0]), lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=upstream.url, upstream_api="complete")))
    for server in (middleware, proxy):
        raw = httpx.post(server.url + "/v1/complete", json=BODY, timeout=30).content
        assert legacy_completions(raw)[-1] == " Hello! My name is Claude." and raw.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("status", [200, 529])
def test_middleware_answers_502_to_an_answer_too_large_to_translate(serve: Callable[..., Any], status: int) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
        for _ in range(17):
            await send({"type": "http.response.body", "body": b" " * (1024 * 1024), "more_body": True})
        await send({"type": "http.response.body", "body": b"{}"})

    server = serve(SSEAdaptMiddleware(app), lifespan="off")
    response = httpx.post(server.url + "/v1/complete", json={**BODY, "stream": False}, timeout=30)
    assert response.status_code == 502
    assert response.json() == {"error": {"type": "api_error", "message": "the app's answer is larger than 16777216 bytes, the most sseadapt translates"}}


def test_middleware_asks_for_identity_and_refuses_a_compressed_answer(serve: Callable[..., Any]) -> None:
    app, asked = answering_app(COMPLETIONS_FIXTURE, encoding="gzip")
    server = serve(SSEAdaptMiddleware(app), lifespan="off")
    response = httpx.post(server.url + "/v1/complete", json=BODY, headers={"accept-encoding": "gzip, br"})
    assert asked == [b"identity"]
    assert response.status_code == 502
    assert response.json() == {"error": {"type": "api_error", "message": "the app answered with content-encoding 'gzip', which sseadapt does not decode"}}


def test_demo_upstream_refuses_deep_json_request_bodies(serve: Callable[..., Any]) -> None:
    server = serve(DemoUpstream())
    response = httpx.post(server.url + "/v1/messages", content=b"[" * 100_000 + b"]" * 100_000, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_middleware_translates_http_errors(serve: Callable[..., Any]) -> None:
    server = serve(SSEAdaptMiddleware(DemoUpstream(fault="status-529")))
    response = httpx.post(server.url + "/v1/complete", json=BODY)
    assert response.status_code == 529
    assert response.json() == {"error": {"type": "overloaded_error", "message": "Overloaded"}}


def test_middleware_translates_non_json_error_bodies(serve: Callable[..., Any]) -> None:
    server = serve(SSEAdaptMiddleware(DemoUpstream(fault="status-500-text")))
    response = httpx.post(server.url + "/v1/complete", json=BODY)
    assert response.status_code == 500
    assert response.json() == {"error": {"type": "api_error", "message": "upstream exploded"}}
    # The body became JSON: so does its content type (it kept the app's text/plain).
    assert response.headers.get_list("content-type") == ["application/json"]


def test_middleware_gives_a_redirect_as_sent(serve: Callable[..., Any]) -> None:
    # Only errors (400 and above) get the client's error shape; a 3xx got one too.
    body = b'{"moved": "elsewhere"}'
    server = serve(SSEAdaptMiddleware(answering_app(body, content_type="application/json", status=307)[0]), lifespan="off")
    response = httpx.post(server.url + "/v1/complete", json=BODY, timeout=30)
    assert (response.status_code, response.content) == (307, body)


def test_middleware_propagates_client_disconnect(serve: Callable[..., Any]) -> None:
    app = DemoUpstream(delay=0.1)
    server = serve(SSEAdaptMiddleware(app))
    with httpx.Client(timeout=30) as client:
        with client.stream("POST", server.url + "/v1/complete", json=BODY) as response:
            first = next(response.iter_lines())
    assert first.startswith("data: ")
    deadline = time.monotonic() + 5
    while app.log[0].outcome == "pending" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.log[0].outcome == "client-disconnected"


def test_middleware_leaves_other_routes_alone(serve: Callable[..., Any]) -> None:
    server = serve(SSEAdaptMiddleware(DemoUpstream()))
    response = httpx.post(server.url + "/v1/messages", json={**BODY, "max_tokens": 5})
    assert list(iter_events([response.content]))[-1].event == "message_stop"
    assert httpx.get(server.url + "/nope").status_code == 404


def test_a_converted_stream_keeps_the_apps_own_headers(serve: Callable[..., Any]) -> None:
    # Only request-id was kept: rate limits, CORS and cookies set by the app (or a
    # middleware inside this one) vanished from converted streams but not from JSON answers.
    own = [
        (b"request-id", b"req_app_1"),
        (b"anthropic-ratelimit-requests-remaining", b"9"),
        (b"access-control-allow-origin", b"https://example.test"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        body_headers = [(b"content-type", b"Text/Event-Stream"), (b"cache-control", b"private"), (b"content-length", str(len(COMPLETIONS_FIXTURE)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": [*body_headers, *own]})
        await send({"type": "http.response.body", "body": COMPLETIONS_FIXTURE})

    server = serve(SSEAdaptMiddleware(app), lifespan="off")
    response = httpx.post(server.url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-01-01"}, timeout=30)
    assert legacy_completions(response.content)[-1] == " Hello! My name is Claude."
    got = [(k.lower(), v) for k, v in response.headers.raw if k.lower() not in (b"date", b"server", b"transfer-encoding")]
    assert got == [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
        *own,
    ]


@pytest.mark.parametrize("app_api", ["complete", "messages"])
@pytest.mark.parametrize("chunked", [False, True])
def test_the_app_gets_framing_headers_that_fit_the_body_it_reads(serve: Callable[..., Any], app_api: str, chunked: bool) -> None:
    # The client's content-length was dropped even when the body went on unchanged, and a
    # rewritten (Messages) body kept the client's transfer-encoding and content-type.
    seen: list[tuple[list[tuple[bytes, bytes]], bytes]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = await read_request_body(receive)
        seen.append(([(k.lower(), v) for k, v in scope["headers"]], body))
        answer = MESSAGES_FIXTURE if app_api == "messages" else COMPLETIONS_FIXTURE
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": answer})

    server = serve(SSEAdaptMiddleware(app, app_api=app_api), lifespan="off")  # type: ignore[arg-type]
    sent = json.dumps(BODY).encode()
    content: Any = iter([sent[:10], sent[10:]]) if chunked else sent
    response = httpx.post(server.url + "/v1/complete", content=content, headers={"content-type": "text/plain"}, timeout=30)
    assert legacy_completions(response.content)[-1]
    [(headers, body)] = seen
    framing = [(k, v) for k, v in headers if k in (b"content-length", b"transfer-encoding", b"content-type")]
    if app_api == "messages":
        assert json.loads(body)["messages"] == [{"role": "user", "content": "Hello!"}]
        assert sorted(framing) == [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    else:
        assert body == sent
        client_framing = (b"transfer-encoding", b"chunked") if chunked else (b"content-length", str(len(sent)).encode())
        assert sorted(framing) == sorted([(b"content-type", b"text/plain"), client_framing])
    assert dict(headers)[b"anthropic-version"] == b"2023-06-01"


def test_middleware_reads_a_compressed_request_body_and_gives_the_app_plain_json(serve: Callable[..., Any]) -> None:
    # A gzip body was read as JSON as it came (400 "not valid JSON"), and the app got
    # the client's content-encoding beside the new, plain body.
    app = DemoUpstream()
    server = serve(SSEAdaptMiddleware(app, app_api="messages", max_body_size=10_000))
    compressed = {"content-encoding": "gzip", "content-type": "application/json", "anthropic-version": "2023-01-01"}
    response = httpx.post(server.url + "/v1/complete", content=gzip.compress(json.dumps(BODY).encode()), headers=compressed, timeout=30)
    assert legacy_completions(response.content)[-1] == DEFAULT_TEXT
    [record] = app.log
    assert record.body["messages"] == [{"role": "user", "content": "Hello!"}]
    assert "content-encoding" not in record.headers
    refused = httpx.post(server.url + "/v1/complete", content=b"x", headers={**compressed, "content-encoding": "br"}, timeout=30)
    assert refused.status_code == 415
    assert refused.json()["error"] == {"type": "invalid_request_error", "message": "unsupported request content-encoding: br (sseadapt decodes gzip and deflate)"}
    bomb = httpx.post(server.url + "/v1/complete", content=gzip.compress(b" " * 1_000_000), headers=compressed, timeout=30)
    assert bomb.status_code == 413
    assert bomb.json()["error"]["message"] == "decoded request body exceeds 10000 bytes"
    assert len(app.log) == 1


def test_middleware_translates_answers_and_errors_with_a_lone_surrogate(serve: Callable[..., Any]) -> None:
    # The translated answer's str.encode() raised UnicodeEncodeError: a 500.
    for status, answer in HALF_PAIR_ANSWERS.items():
        app = answering_app(answer, content_type="application/json", status=status)[0]
        server = serve(SSEAdaptMiddleware(app, app_api="messages"), lifespan="off")
        response = httpx.post(server.url + "/v1/complete", json={**BODY, "stream": False}, headers={"anthropic-version": "2023-01-01"}, timeout=30)
        assert response.status_code == status
        body = json.loads(response.content.decode("utf-8"))
        assert (body["completion"] if status == 200 else body["error"]["message"]) == "half \ud83d pair"


def test_middleware_mounted_under_a_prefix_still_converts(serve: Callable[..., Any]) -> None:
    # Under a Starlette Mount (or uvicorn --root-path) the ASGI path includes the root_path:
    # "/anthropic/v1/complete" was not recognised, and the legacy client got the app's 404.
    from starlette.applications import Starlette
    from starlette.routing import Mount

    app = DemoUpstream()
    server = serve(Starlette(routes=[Mount("/anthropic", app=SSEAdaptMiddleware(app, app_api="messages"))]), lifespan="off")
    raw = httpx.post(server.url + "/anthropic/v1/complete", json=BODY, headers={"anthropic-version": "2023-01-01"}, timeout=30).content
    assert legacy_completions(raw)[-1] == DEFAULT_TEXT
    assert [r.path for r in app.log] == ["/v1/messages"]


def test_route_path_drops_the_root_path_at_a_segment_boundary() -> None:
    from sseadapt._asgi import route_path

    cases = [
        ({"path": "/v1/complete"}, "/v1/complete"),
        ({"path": "/api/v1/complete", "root_path": "/api"}, "/v1/complete"),
        ({"path": "/api", "root_path": "/api"}, "/"),
        ({"path": "/apix/v1/complete", "root_path": "/api"}, "/apix/v1/complete"),  # not under /api
        ({"path": "/v1/complete", "root_path": "/api"}, "/v1/complete"),  # a server that did not prepend it
        ({"path": "/v1/complete", "root_path": ""}, "/v1/complete"),
    ]
    assert [route_path(scope) for scope, _ in cases] == [expected for _, expected in cases]

