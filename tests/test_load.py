"""Load and backpressure through the proxy, on 127.0.0.1, bounded in count and time."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx

from sseadapt import iter_events
from sseadapt.proxy import ProxyApp, ProxyConfig
from sseadapt.upstream import DEFAULT_TEXT

from .helpers import MESSAGES_HEAD, ROOT, start_sse_response

CLIENTS = 500
BODY = {"prompt": "\n\nHuman: Hi\n\nAssistant:", "model": "claude-v1", "max_tokens_to_sample": 50, "stream": True}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on {port}")


def test_500_concurrent_streams_all_complete_and_correct() -> None:
    """Upstream and proxy in their own processes (as deployed); 500 clients here."""
    up_port, proxy_port = _free_port(), _free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-c", "import uvicorn; from sseadapt.upstream import DemoUpstream; "
         f"uvicorn.run(DemoUpstream(delay=0.005), host='127.0.0.1', port={up_port}, log_level='warning', backlog=2048)"],
        cwd=ROOT,
    )
    proxy = subprocess.Popen(
        [sys.executable, "-m", "sseadapt", "proxy", "--upstream", f"http://127.0.0.1:{up_port}", "--listen", f"127.0.0.1:{proxy_port}", "--log-level", "warning"],
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{proxy_port}"

    async def one(client: httpx.AsyncClient) -> str:
        async with client.stream("POST", url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-01-01"}) as response:
            raw = await response.aread()
        datas = [e.data for e in iter_events([raw])]
        if response.status_code != 200 or datas[-1] != "[DONE]":
            return f"HTTP {response.status_code}, last {datas[-1:]}"
        if json.loads(datas[-2])["completion"] != DEFAULT_TEXT:
            return "wrong text"
        return "ok"

    async def run() -> list[str]:
        limits = httpx.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=CLIENTS + 10)
        async with httpx.AsyncClient(limits=limits, timeout=120, trust_env=False) as client:
            with anyio.fail_after(240):
                return list(await asyncio.gather(*(one(client) for _ in range(CLIENTS))))

    try:
        _wait_listening(up_port, upstream)
        _wait_listening(proxy_port, proxy)
        started = time.monotonic()
        results = asyncio.run(run())
        elapsed = time.monotonic() - started
        peak_kib = _peak_rss_kib(proxy.pid)
    finally:
        for proc in (proxy, upstream):
            proc.send_signal(signal.SIGINT)
        for proc in (proxy, upstream):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    errors = [r for r in results if r != "ok"]
    assert errors == [], errors[:5]
    assert len(results) == CLIENTS
    print(f"{CLIENTS} streams complete and correct in {elapsed:.1f}s; proxy peak RSS {peak_kib / 1024:.0f} MiB")


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class FirehoseUpstream:
    """Streams ~64 MB of Messages deltas as fast as it is allowed to; counts what it sent."""

    def __init__(self) -> None:
        self.sent = 0
        self.total = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await start_sse_response(receive, send)
        start = MESSAGES_HEAD
        delta = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"' + b"z" * 16000 + b'"}}\n\n'
        self.total = len(start) + 4000 * len(delta)
        await send({"type": "http.response.body", "body": start, "more_body": True})
        self.sent += len(start)
        for _ in range(4000):
            await send({"type": "http.response.body", "body": delta, "more_body": True})
            self.sent += len(delta)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def test_slow_reader_backpressure_reaches_the_upstream(serve: Callable[..., Any]) -> None:
    app = FirehoseUpstream()
    upstream = serve(app, lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=upstream.url)))
    body = json.dumps(BODY).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((proxy.host, proxy.port))
    try:
        sock.sendall(
            b"POST /v1/complete HTTP/1.1\r\nhost: x\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n" % len(body) + body
        )
        sock.recv(1024)  # the stream started
        # The client now reads nothing: the proxy must stop reading upstream.
        previous, stalled = -1, 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and stalled < 3:
            time.sleep(0.5)
            stalled = stalled + 1 if app.sent == previous else 0
            previous = app.sent
        assert stalled >= 3, f"the upstream kept sending ({app.sent} bytes)"
        # Bounded by socket and server buffers, far below the whole stream.
        assert app.sent < app.total / 2, (app.sent, app.total)
        print(f"upstream stalled after {app.sent / 1e6:.1f} MB of {app.total / 1e6:.0f} MB while the client read nothing")
    finally:
        sock.close()
