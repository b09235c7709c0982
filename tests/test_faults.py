"""The proxy's fault matrix, over real sockets on 127.0.0.1.

One upstream serves the Messages fixture and misbehaves as the request's
``metadata.user_id`` says (the proxy passes ``metadata`` through, D10), so one
proxy covers every scenario. The table in the README ("Failure behaviour")
lists what these tests observe.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from sseadapt import iter_events
from sseadapt.proxy import ProxyApp, ProxyConfig
from sseadapt.serve import ServerThread

from .helpers import FIXTURES, read_request_body

FIXTURE = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
BOUNDARIES = [i + 2 for i in range(len(FIXTURE)) if FIXTURE[i : i + 2] == b"\n\n"]
TOKENS = [" Hello", "!", " My", " name", " is", " Claude", "."]
TRUNCATED = "api_error: upstream stream ended early (no terminal event)"
# JSON nested far past MAX_JSON_DEPTH (and json.loads' recursion limit).
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_ERROR = b'{"type":"error","error":{"type":"overloaded_error","message":"m","x":' + DEEP + b"}}"
# Non-streaming Messages answers that are JSON objects but cannot be translated.
BAD_ANSWERS = [
    ({"type": "message", "content": 5}, "content is a number, not an array"),
    ({"type": "message", "content": {"type": "text", "text": "hi"}}, "content is an object, not an array"),
    ({"type": "message", "content": [{"type": "text", "text": None}]}, "a text block's text is null, not a string"),
    ({"type": "message", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": ["b"]}]}, "a text block's text is an array, not a string"),
    # No message at all: these became an empty completion with stop_reason "stop_sequence".
    ({"data": [{"id": "claude"}]}, "no content: not a Messages answer"),
    ({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, "type is 'error', not 'message'"),
    ({"type": None, "content": []}, "type is null, not 'message'"),
]


class FaultyUpstream:
    """Serves FIXTURE, misbehaving per ``metadata.user_id``; records outcomes."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_request_body(receive)
        scenario = (json.loads(body).get("metadata") or {}).get("user_id", "ok")
        kind, _, arg = scenario.partition(":")
        if kind == "bad-answer":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": json.dumps(BAD_ANSWERS[int(arg)][0]).encode()})
            return
        if kind in ("status", "text-status", "deep-status", "deep-answer"):
            payload = {
                "text-status": b"not json at all",
                "deep-status": DEEP_ERROR,
                "deep-answer": b'{"type":"completion","completion":"hi","x":' + DEEP + b"}",
            }.get(kind) or json.dumps({"type": "error", "error": {"type": "whatever_error", "message": f"status {arg}"}}).encode()
            status = int(arg or 200)
            await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"request-id", b"req_fault")]})
            await send({"type": "http.response.body", "body": payload})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        data = {
            "ok": FIXTURE,
            "cut": FIXTURE[: int(arg or 0)],
            "drop": FIXTURE[: int(arg or 0)],
            "stall": FIXTURE[: int(arg or 0)],
            "slow": FIXTURE,
            "badjson": FIXTURE[: BOUNDARIES[3]] + b"event: content_block_delta\ndata: {nope\n\n" + FIXTURE[BOUNDARIES[3] :],
            "badsse": FIXTURE[: BOUNDARIES[3]] + b"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":5}\n\n",
            "deepjson": FIXTURE[: BOUNDARIES[3]] + b'event: content_block_delta\ndata: {"x":' + DEEP + b"}\n\n" + FIXTURE[BOUNDARIES[3] :],
        }[kind]
        ended = False

        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                # The proxy closing its upstream connection reaches us as
                # http.disconnect (after the body ends uvicorn reports it too).
                while (await receive())["type"] != "http.disconnect":
                    pass
                if not ended:
                    self.outcomes.append("cancelled")
                    tg.cancel_scope.cancel()

            tg.start_soon(watch)
            for i in range(0, len(data), 40):
                await send({"type": "http.response.body", "body": data[i : i + 40], "more_body": True})
                if kind == "slow":
                    await anyio.sleep(0.05)
            if kind == "drop":
                raise ConnectionError("fault: drop")
            if kind == "stall":
                await anyio.sleep(30)
            ended = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            self.outcomes.append("complete")
            tg.cancel_scope.cancel()


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[ServerThread, ServerThread, FaultyUpstream]]:
    app = FaultyUpstream()
    with ServerThread(app, lifespan="off") as upstream:
        with ServerThread(ProxyApp(ProxyConfig(upstream=upstream.url, idle_timeout=0.5))) as proxy:
            yield upstream, proxy, app


def ask(proxy: ServerThread, scenario: str, *, stream: bool = True) -> httpx.Response:
    body = {"prompt": "\n\nHuman: Hi\n\nAssistant:", "model": "m", "max_tokens_to_sample": 20, "stream": stream, "metadata": {"user_id": scenario}}
    return httpx.post(proxy.url + "/v1/complete", json=body, headers={"anthropic-version": "2023-01-01"}, timeout=30)


def legacy_events(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in iter_events([raw]) if e.data != "[DONE]"]


def text_before(cut: int) -> str:
    """The text a cut at byte ``cut`` lets through (complete delta events only)."""
    complete = FIXTURE[:cut]
    complete = complete[: complete.rfind(b"\n\n") + 2] if b"\n\n" in complete else b""
    return "".join(json.loads(e.data)["delta"]["text"] for e in iter_events([complete]) if e.event == "content_block_delta")


@pytest.mark.parametrize("how", ["cut", "drop"])
def test_cut_at_every_event_boundary_and_inside_events(stack: Any, how: str) -> None:
    _, proxy, _ = stack
    points = BOUNDARIES[:-1] + [b - 7 for b in BOUNDARIES] + [0]
    for cut in sorted(set(points)):
        response = ask(proxy, f"{how}:{cut}")
        assert response.status_code == 200
        assert b"[DONE]" not in response.content, cut
        events = legacy_events(response.content)
        assert events, cut
        last = events[-1]
        assert last["exception"] == TRUNCATED, (cut, last)
        assert last["completion"] == text_before(cut), cut


def test_clean_stream_for_comparison(stack: Any) -> None:
    _, proxy, _ = stack
    response = ask(proxy, "ok")
    assert response.content.endswith(b"data: [DONE]\n\n")
    assert legacy_events(response.content)[-1]["completion"] == "".join(TOKENS)


def test_stall_ends_with_timeout_error_shape(stack: Any) -> None:
    _, proxy, _ = stack
    started = time.monotonic()
    response = ask(proxy, f"stall:{BOUNDARIES[5]}")
    assert time.monotonic() - started < 10
    last = legacy_events(response.content)[-1]
    assert last["error"]["type"] == "timeout_error"
    assert last["completion"] == text_before(BOUNDARIES[5])


@pytest.mark.parametrize("status", [400, 401, 429, 500, 529])
@pytest.mark.parametrize("kind", ["status", "text-status"])
def test_upstream_http_errors(stack: Any, status: int, kind: str) -> None:
    _, proxy, _ = stack
    for stream in (True, False):
        response = ask(proxy, f"{kind}:{status}", stream=stream)
        assert response.status_code == status
        assert response.headers["request-id"] == "req_fault"
        body = response.json()
        assert list(body) == ["error"]  # the legacy shape
        if kind == "status":
            assert body["error"] == {"type": "whatever_error", "message": f"status {status}"}
        else:
            assert body["error"] == {"type": "api_error", "message": "not json at all"}


@pytest.mark.parametrize(
    ("scenario", "fragment"),
    [("badjson", "not JSON"), ("badsse", "content_block_stop for block 5"), ("deepjson", "nested deeper than 256 levels")],
)
def test_invalid_upstream_data(stack: Any, scenario: str, fragment: str) -> None:
    _, proxy, _ = stack
    response = ask(proxy, scenario)
    assert b"[DONE]" not in response.content
    last = legacy_events(response.content)[-1]
    assert last["error"]["type"] == "api_error"
    assert fragment in last["error"]["message"]
    assert last["completion"] == text_before(BOUNDARIES[3])


def test_deep_json_answers_and_error_bodies_are_refused_like_invalid_json(stack: Any) -> None:
    _, proxy, _ = stack
    for stream in (True, False):
        # An error body that is not JSON sseadapt accepts: api_error with its first KiB.
        response = ask(proxy, "deep-status:500", stream=stream)
        assert response.status_code == 500
        assert response.json() == {"error": {"type": "api_error", "message": DEEP_ERROR[:1024].decode()}}
    response = ask(proxy, "deep-answer", stream=False)
    assert response.status_code == 502
    assert response.json() == {"error": {"type": "api_error", "message": "upstream answered with invalid JSON"}}


@pytest.mark.parametrize("index", range(len(BAD_ANSWERS)))
def test_untranslatable_answers_are_502_naming_the_fault(stack: Any, index: int) -> None:
    _, proxy, _ = stack
    response = ask(proxy, f"bad-answer:{index}", stream=False)
    assert response.status_code == 502
    reason = BAD_ANSWERS[index][1]
    assert response.json() == {"error": {"type": "api_error", "message": f"upstream answer cannot be translated: {reason}"}}


def test_upstream_closes_before_headers() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def close_everything() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=close_everything, daemon=True)
    thread.start()
    try:
        with ServerThread(ProxyApp(ProxyConfig(upstream=f"http://127.0.0.1:{listener.getsockname()[1]}"))) as proxy:
            response = ask(proxy, "ok")
            assert response.status_code == 502
            assert response.json()["error"]["type"] == "api_error"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_client_disconnect_before_during_and_after(stack: Any) -> None:
    _, proxy, app = stack
    body = json.dumps({"prompt": "\n\nHuman: Hi\n\nAssistant:", "model": "m", "max_tokens_to_sample": 20, "stream": True, "metadata": {"user_id": "slow"}}).encode()
    # Before: the client leaves in the middle of sending its body; nothing goes upstream.
    before = len(app.outcomes)
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/complete HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body[:10])
    time.sleep(0.5)
    assert len(app.outcomes) == before
    # During: the upstream request is cancelled.
    with httpx.Client(timeout=30) as client:
        with client.stream("POST", proxy.url + "/v1/complete", content=body, headers={"content-type": "application/json"}) as response:
            next(response.iter_lines())
    assert _wait_for(lambda: app.outcomes[-1:] == ["cancelled"])
    # After: a complete stream, then the client leaves; the upstream finished normally.
    count = len(app.outcomes)
    response = ask(proxy, "ok")
    assert response.content.endswith(b"[DONE]\n\n")
    assert _wait_for(lambda: len(app.outcomes) > count) and app.outcomes[-1] == "complete"


def test_graceful_shutdown_ends_streams_with_error_shape() -> None:
    app = FaultyUpstream()
    with ServerThread(app, lifespan="off") as upstream:
        proxy = ServerThread(ProxyApp(ProxyConfig(upstream=upstream.url)), graceful_timeout=1).start()
        body = {"prompt": "\n\nHuman: Hi\n\nAssistant:", "model": "m", "max_tokens_to_sample": 20, "stream": True, "metadata": {"user_id": "slow"}}
        received = b""
        with httpx.Client(timeout=30) as client:
            with client.stream("POST", proxy.url + "/v1/complete", json=body) as response:
                chunks = response.iter_bytes()
                received += next(chunks)
                stopper = threading.Thread(target=proxy.stop)
                stopper.start()
                try:
                    for chunk in chunks:
                        received += chunk
                except httpx.HTTPError:
                    pass
                stopper.join(20)
    assert b"[DONE]" not in received
    last = legacy_events(received)[-1]
    assert last["exception"] == "api_error: proxy shutting down; stream interrupted"
