"""Proxy load benchmark: N concurrent streaming clients, through the proxy vs direct.

    python -m benchmarks.proxy_load                 # 50 and 200 clients
    python -m benchmarks.proxy_load --clients 200 --events 40 --interval 0.05
    python -m benchmarks.proxy_load --ramp 2        # clients start over 2 s, not at once
    python -m benchmarks.proxy_load --client httpx  # httpx clients (0.3-0.46 ms of client CPU per event)
    python -m benchmarks.proxy_load --workers 2     # the proxy with two worker processes

Three processes on 127.0.0.1: an upstream that streams Messages events whose
text is the send time (``time.time_ns()``), ``sseadapt proxy`` in front of
it, and the clients (asyncio protocols reading the chunked body themselves,
or httpx with ``--client httpx``). For each event a client records
``arrival - send``. The same clients run twice, straight to the upstream
(``/v1/messages``) and through the proxy (``/v1/complete`` as a 2023-01-01
client, so every event is converted to cumulative legacy JSON); the proxy's
added latency is the difference of the two distributions' percentiles.

Memory per idle stream: M streams are opened through the proxy to an upstream
that sends one event and then stays silent; the proxy's RSS growth divided by
M is reported (with ``--workers 1`` only). The CPU seconds each process spent
in each run are printed last (the clients are this process; the proxy's
figure sums its worker processes). "Proxy sleeps per event" counts the times
the proxy's threads blocked and were woken (``voluntary_ctxt_switches`` in
``/proc``): well under 1, the proxy finds many events ready each time it
wakes (it is busy, or they arrive together); 1 or more, it waits for each
event. Everything is bounded in count and time, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from sseadapt import ServerSentEvent, SSEParser


def _compact(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _event(name: str, data: bytes) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


class TimestampUpstream:
    """Messages streams whose deltas carry their send time; or one event then silence."""

    def __init__(self, events: int, interval: float) -> None:
        self.events = events
        self.interval = interval

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        idle = json.loads(body or b"{}").get("metadata", {}).get("user_id") == "idle"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        head = [
            _event("message_start", _compact({"type": "message_start", "message": {"id": "msg_load", "type": "message", "role": "assistant", "content": [], "model": "m", "usage": {"input_tokens": 1, "output_tokens": 1}}})),
            _event("content_block_start", _compact({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
        ]
        await send({"type": "http.response.body", "body": b"".join(head), "more_body": True})
        count = 1 if idle else self.events
        for _ in range(count):
            delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f" {time.time_ns()}"}}
            await send({"type": "http.response.body", "body": _event("content_block_delta", _compact(delta)), "more_body": True})
            await asyncio.sleep(self.interval)
        if idle:
            while (await receive())["type"] != "http.disconnect":
                pass
            return
        tail = [
            _event("content_block_stop", b'{"type":"content_block_stop","index":0}'),
            _event("message_delta", b'{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1}}'),
            _event("message_stop", b'{"type":"message_stop"}'),
        ]
        await send({"type": "http.response.body", "body": b"".join(tail), "more_body": False})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state is [0], ppid [1])."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _family(pid: int) -> list[int]:
    """``pid`` and its live descendants (a proxy's ``--workers`` processes)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
            except (OSError, IndexError):
                continue  # (gone meanwhile)
    family, todo = [], [pid]
    while todo:
        family.append(todo.pop())
        todo.extend(parents.get(family[-1], []))
    return family


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (``/proc/<pid>/stat``)."""
    total = 0
    for member in _family(pid):
        try:
            fields = _stat(member)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _status_field(path: str, field: str) -> int:
    """An integer field of a ``/proc/.../status`` file (0 if the process is gone)."""
    try:
        with open(path) as f:
            return next((int(line.split()[1]) for line in f if line.startswith(field + ":")), 0)
    except OSError:
        return 0


def _sleeps(pid: int) -> int:
    """Times the threads of a process and its live descendants blocked and
    were woken (``voluntary_ctxt_switches``: an event loop's waits that found
    nothing ready)."""
    total = 0
    for member in _family(pid):
        try:
            tasks = os.listdir(f"/proc/{member}/task")
        except OSError:
            continue
        total += sum(_status_field(f"/proc/{member}/task/{task}/status", "voluntary_ctxt_switches") for task in tasks)
    return total


def _own_cpu_seconds() -> float:
    """User + system CPU time of this process (the clients)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and its live descendants."""
    return sum(_status_field(f"/proc/{member}/status", "VmRSS") for member in _family(pid))


async def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def _request(legacy: bool) -> tuple[dict[str, Any], dict[str, str]]:
    if legacy:
        request = {"prompt": "\n\nHuman: go\n\nAssistant:", "model": "claude-v1", "max_tokens_to_sample": 9, "stream": True}
        return request, {"anthropic-version": "2023-01-01"}
    request = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "go"}], "stream": True}
    return request, {"anthropic-version": "2023-06-01"}


def _latency_ms(event: ServerSentEvent, legacy: bool, now: int) -> float | None:
    """``now`` less the send time the upstream wrote into a text event; None for other events."""
    if legacy:
        if event.data == "[DONE]":
            return None
        payload = json.loads(event.data)
        if payload["stop_reason"] is not None:
            return None
        text = payload["completion"]  # cumulative: the newest send time is last
    elif event.event == "content_block_delta":
        text = json.loads(event.data)["delta"]["text"]
    else:
        return None
    return (now - int(text.rsplit(" ", 1)[-1])) / 1e6


def _record(parser: SSEParser, legacy: bool, now: int, latencies: list[float]) -> int:
    """Take the parser's events, append the latency of each timed one; how many."""
    count = 0
    for event in parser.events():
        latency = _latency_ms(event, legacy, now)
        if latency is not None:
            latencies.append(latency)
            count += 1
    return count


async def _httpx_client(client: httpx.AsyncClient, url: str, legacy: bool, latencies: list[float], delay: float = 0.0) -> int:
    await asyncio.sleep(delay)
    parser = SSEParser()
    count = 0
    request, headers = _request(legacy)
    async with client.stream("POST", url, json=request, headers=headers) as response:
        async for chunk in response.aiter_bytes():
            now = time.time_ns()
            parser.receive_data(chunk)
            count += _record(parser, legacy, now, latencies)
    return count


class _ChunkedStream(asyncio.Protocol):
    """One streaming POST on a connection of its own, read in asyncio's
    protocol callbacks: the response head, then the chunked body (RFC 9112
    7.1), whose data goes to an :class:`SSEParser` as it arrives.

    The default client: through httpx the clients spend 0.3-0.46 ms of CPU
    per event, up to most of a core at 200 streams on a 2-core machine, taken
    from the upstream and the proxy they measure. This one does only what the
    measurement needs (no redirects, pools, retries, content decoding); the
    head must say ``200`` and ``chunked``, as uvicorn's streaming responses do.
    """

    def __init__(self, request: bytes, legacy: bool, latencies: list[float]) -> None:
        self._request = request
        self._legacy = legacy
        self._latencies = latencies
        self._parser = SSEParser()
        self._buffer = b""
        self._head_done = False
        self._left = -1  # > 0: data bytes of this chunk to come; -1: a size line next; -2: the chunk's CRLF next
        self._transport: asyncio.BaseTransport | None = None
        self.count = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        if self.done.done():
            return
        try:
            body, ended = self._decode(self._buffer + data)
            if body:
                self._parser.receive_data(b"".join(body))
            if ended:
                self._parser.receive_data(b"")
            self.count += _record(self._parser, self._legacy, now, self._latencies)
        except Exception as exc:  # (the run fails with it)
            self._end(exc)
            return
        if ended:
            self._end(None)

    def _decode(self, data: bytes) -> tuple[list[bytes], bool]:
        """The body data in ``data`` and whether the body ended; what is not
        yet complete (a head, a size line, a chunk's CRLF) is kept."""
        pos = 0
        if not self._head_done:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._buffer = data
                return [], False
            head = data[:end].decode("latin-1").lower()
            if not head.startswith("http/1.1 200 ") or "\r\ntransfer-encoding: chunked" not in head:
                raise RuntimeError(f"expected a chunked 200 response, got {head!r}")
            self._head_done = True
            pos = end + 4
        body: list[bytes] = []
        size = len(data)
        while pos < size:
            if self._left > 0:
                take = min(self._left, size - pos)
                body.append(data[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._left = -2
            elif self._left == -2:
                if size - pos < 2:
                    break
                if data[pos : pos + 2] != b"\r\n":
                    raise RuntimeError("a body chunk does not end with CRLF")
                pos += 2
                self._left = -1
            else:
                line_end = data.find(b"\r\n", pos)
                if line_end < 0:
                    break
                self._left = int(data[pos:line_end].split(b";", 1)[0], 16)
                pos = line_end + 2
                if not self._left:  # the last chunk (trailers, if any, are not read)
                    self._buffer = b""
                    return body, True
        self._buffer = data[pos:]
        return body, False

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(exc or RuntimeError("the connection closed before the end of the body"))

    def _end(self, exc: BaseException | None) -> None:
        if not self.done.done():
            if exc is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(exc)
        if self._transport is not None:
            self._transport.close()


async def _light_client(port: int, path: str, legacy: bool, latencies: list[float], delay: float = 0.0) -> int:
    await asyncio.sleep(delay)
    request, headers = _request(legacy)
    body = json.dumps(request).encode()
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    raw = (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{head}connection: close\r\n\r\n"
    ).encode() + body
    stream = _ChunkedStream(raw, legacy, latencies)
    transport, _ = await asyncio.get_running_loop().create_connection(lambda: stream, "127.0.0.1", port)
    try:
        await asyncio.wait_for(stream.done, 60)  # (asyncio.timeout is 3.11+)
    finally:
        transport.close()
    return stream.count


async def _run_clients(port: int, path: str, n: int, legacy: bool, ramp: float = 0.0, kind: str = "light") -> dict[str, float]:
    latencies: list[float] = []
    started = time.monotonic()
    if kind == "light":
        counts = await asyncio.gather(*(_light_client(port, path, legacy, latencies, ramp * i / n) for i in range(n)))
    else:
        limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
        async with httpx.AsyncClient(limits=limits, timeout=60, trust_env=False) as client:
            url = f"http://127.0.0.1:{port}{path}"
            counts = await asyncio.gather(*(_httpx_client(client, url, legacy, latencies, ramp * i / n) for i in range(n)))
    wall = time.monotonic() - started
    latencies.sort()
    return {
        "events": sum(counts),
        "events_per_s": sum(counts) / wall,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
    }


async def _idle_memory(proxy_port: int, proxy_pid: int, streams: int) -> float:
    url = f"http://127.0.0.1:{proxy_port}/v1/complete"
    before = _rss_kib(proxy_pid)
    limits = httpx.Limits(max_connections=streams + 10)
    async with httpx.AsyncClient(limits=limits, timeout=60, trust_env=False) as client:
        opened: list[Any] = []
        request = {"prompt": "\n\nHuman: go\n\nAssistant:", "model": "claude-v1", "max_tokens_to_sample": 9, "stream": True, "metadata": {"user_id": "idle"}}

        async def open_all_then_close() -> int:
            for _ in range(streams):
                cm = client.stream("POST", url, json=request, headers={"anthropic-version": "2023-01-01"})
                response = await cm.__aenter__()
                await response.aiter_bytes().__anext__()  # the first event arrived: the stream is open
                opened.append(cm)
            await asyncio.sleep(0.5)
            during = _rss_kib(proxy_pid)
            for cm in opened:
                await cm.__aexit__(None, None, None)
            return during

        during = await asyncio.wait_for(open_all_then_close(), 60)  # (asyncio.timeout is 3.11+)
    return (during - before) / streams


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, action="append", help="concurrent clients (repeatable; default 50 and 200)")
    ap.add_argument("--events", type=int, default=40, help="events per stream (default 40)")
    ap.add_argument("--interval", type=float, default=0.05, help="seconds between upstream events (default 0.05)")
    ap.add_argument("--ramp", type=float, default=0.0, help="spread the clients' starts over this many seconds (default 0: all at once)")
    ap.add_argument("--client", choices=("light", "httpx"), default="light",
                    help="the measuring clients: asyncio protocols reading the chunked body themselves (default), or httpx")
    ap.add_argument("--workers", type=int, default=1, help="the proxy's worker processes (default 1; CPU and memory are summed over them)")
    ap.add_argument("--idle-streams", type=int, default=200, help="idle streams for the memory figure (default 200)")
    ap.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.workers < 1:
        ap.error("--workers must be at least 1")

    if args.serve_upstream:
        import uvicorn

        uvicorn.run(TimestampUpstream(args.events, args.interval), host="127.0.0.1", port=args.serve_upstream,
                    log_level="error", lifespan="off", backlog=4096)
        return 0

    up_port, proxy_port = _free_port(), _free_port()
    upstream = subprocess.Popen([sys.executable, "-m", "benchmarks.proxy_load", "--serve-upstream", str(up_port),
                                 "--events", str(args.events), "--interval", str(args.interval)])
    proxy = subprocess.Popen([sys.executable, "-m", "sseadapt", "proxy", "--upstream", f"http://127.0.0.1:{up_port}",
                              "--listen", f"127.0.0.1:{proxy_port}", "--log-level", "warning",
                              "--workers", str(args.workers)])
    try:
        asyncio.run(_wait_port(up_port))
        asyncio.run(_wait_port(proxy_port))
        if args.workers > 1:
            time.sleep(3)  # the port answers once the first worker listens; let the others start too
        # Idle memory first, on a fresh proxy: after the load the allocator
        # keeps freed memory and RSS no longer shows new streams.
        # (With --workers, the workers may still be starting when the port
        # answers, and their growth would count as the streams': not measured.)
        per_stream = asyncio.run(_idle_memory(proxy_port, proxy.pid, args.idle_streams)) if args.workers == 1 else None
        print(f"# {args.events} events per stream, {args.interval * 1000:.0f} ms apart, starts spread over {args.ramp:g} s; {args.client} clients; {args.workers} proxy worker(s); CPython {sys.version.split()[0]}, {os.cpu_count()} cores")
        print("| clients | path | events | events/s | p50 latency (ms) | p99 latency (ms) |")
        print("|---:|---|---:|---:|---:|---:|")
        cpu_lines = []
        for n in args.clients or [50, 200]:
            runs = {}
            for label, port, path, legacy in (("direct", up_port, "/v1/messages", False),
                                              ("via proxy", proxy_port, "/v1/complete", True)):
                before = (_own_cpu_seconds(), _cpu_seconds(upstream.pid), _cpu_seconds(proxy.pid), time.monotonic(), _sleeps(proxy.pid))
                runs[label] = asyncio.run(_run_clients(port, path, n, legacy=legacy, ramp=args.ramp, kind=args.client))
                after = (_own_cpu_seconds(), _cpu_seconds(upstream.pid), _cpu_seconds(proxy.pid), time.monotonic(), _sleeps(proxy.pid))
                clients, up, prox, wall, sleeps = (b - a for a, b in zip(before, after))
                runs[label]["cpu_us_per_event"] = prox / runs[label]["events"] * 1e6
                runs[label]["sleeps_per_event"] = sleeps / runs[label]["events"]
                cpu_lines.append(f"{n} clients, {label}: {wall:.2f} s; CPU seconds: clients {clients:.2f}, upstream {up:.2f}, proxy {prox:.2f}")
            direct, proxied = runs["direct"], runs["via proxy"]
            for label, r in (("direct (messages)", direct), ("via proxy (legacy)", proxied)):
                print(f"| {n} | {label} | {r['events']:.0f} | {r['events_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
            print(f"| {n} | **added by the proxy** | | | {proxied['p50_ms'] - direct['p50_ms']:.2f} | {proxied['p99_ms'] - direct['p99_ms']:.2f} |")
            print(f"| {n} | proxy CPU per event | | {proxied['cpu_us_per_event']:.0f} µs | | |")
            print(f"| {n} | proxy sleeps per event | | {proxied['sleeps_per_event']:.2f} | | |")
        print()
        print("\n".join(cpu_lines))
        if per_stream is not None:
            print(f"\nproxy memory per idle stream ({args.idle_streams} streams open, fresh proxy): {per_stream:.1f} KiB")
        else:
            print("\nproxy memory per idle stream: measured with --workers 1 only")
    finally:
        for proc in (proxy, upstream):
            proc.send_signal(signal.SIGINT)
        for proc in (proxy, upstream):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
