"""Smoke runs of the benchmark scripts behind the README's figures, kept small.

They check that each script runs and reports what it says (counts, the lines
of its table), never a time. The memory check is a bound on bytes, which do
not depend on the machine's load.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.proxy_load import _ChunkedStream

ROOT = Path(__file__).resolve().parent.parent


def run_script(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_memory_stays_within_twice_the_largest_event_plus_a_constant() -> None:
    out = run_script("benchmarks.memory", "400000")
    assert "1000 events, largest event 400,018 B" in out
    peak = re.search(r"peak traced memory ([\d,]+) B", out)
    assert peak is not None, out
    # The target: under 2x the largest event plus a constant (64 KiB here).
    assert int(peak[1].replace(",", "")) < 2 * 400_018 + 64 * 1024


def test_linear_cold_reports_both_cases() -> None:
    out = run_script("benchmarks.linear_cold")
    assert re.fullmatch(
        r"8 MiB event, 7 cold runs each: 1 KiB chunks [\d.]+ ms, whole [\d.]+ ms \(medians\), ratio [\d.]+x\n", out
    ), out


def test_convert_ratios_reports_every_conversion_with_a_floor() -> None:
    from sseadapt import SUPPORTED_CONVERSIONS, Dialect

    out = run_script("benchmarks.convert_ratios", "--rounds", "1")
    rows = re.findall(r"^\| (\S+) → (\S+) \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+x \|$", out, re.M)
    expected = {(s.value, t.value) for s, t in SUPPORTED_CONVERSIONS if t is not Dialect.LEGACY or s is Dialect.LEGACY}
    assert len(rows) == len(expected) and set(rows) == expected, out


@pytest.mark.parametrize(("client", "workers"), [("light", 1), ("httpx", 1), ("light", 2)])
def test_proxy_load_relays_every_event_and_reports_each_row(client: str, workers: int) -> None:
    out = run_script("benchmarks.proxy_load", "--clients", "3", "--events", "3", "--interval", "0.01", "--idle-streams", "5",
                     "--client", client, "--workers", str(workers))
    assert f"; {client} clients; {workers} proxy worker(s); " in out, out
    for path in ("direct (messages)", "via proxy (legacy)"):
        row = re.search(rf"^\| 3 \| {re.escape(path)} \| (\d+) \|", out, re.M)
        assert row is not None and int(row[1]) == 9, out  # 3 clients x 3 events, each one timed
    assert re.search(r"^\| 3 \| \*\*added by the proxy\*\* \| \| \| -?[\d.]+ \| -?[\d.]+ \|$", out, re.M), out
    assert re.search(r"^3 clients, via proxy: [\d.]+ s; CPU seconds: clients [\d.]+, upstream [\d.]+, proxy [\d.]+$", out, re.M)
    assert re.search(r"^\| 3 \| proxy CPU per event \| \| \d+ µs \| \| \|$", out, re.M), out
    # Events 10 ms apart leave the proxy idle between them: it blocks (a
    # voluntary context switch, read from /proc) at least once per stream.
    sleeps = re.search(r"^\| 3 \| proxy sleeps per event \| \| ([\d.]+) \| \| \|$", out, re.M)
    assert sleeps is not None and float(sleeps[1]) > 0, out
    if workers == 1:
        assert re.search(r"proxy memory per idle stream \(5 streams open, fresh proxy\): -?[\d.]+ KiB", out), out
    else:
        assert "proxy memory per idle stream: measured with --workers 1 only" in out, out


def _chunked_response(events: list[bytes]) -> bytes:
    """A chunked 200 response with one event per chunk, one with an extension, and a trailer."""
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(e), b";ext=1" if i == 1 else b"", e) for i, e in enumerate(events))
    return head + body + b"0\r\nx-trailer: 1\r\n\r\n"


def _feed_light_client(pieces: list[bytes]) -> tuple[int, list[float], BaseException | None]:
    """Feed a response to the light client's protocol piece by piece, as reads would arrive."""

    async def run() -> tuple[int, list[float], BaseException | None]:
        latencies: list[float] = []
        stream = _ChunkedStream(b"", legacy=False, latencies=latencies)
        for piece in pieces:
            stream.data_received(piece)
        stream.connection_lost(None)
        return stream.count, latencies, stream.done.exception()

    return asyncio.run(run())


def _delta(sent_ns: int) -> bytes:
    data = json.dumps({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f" {sent_ns}"}})
    return b"event: content_block_delta\ndata: " + data.encode() + b"\n\n"


def test_light_client_reads_a_chunked_body_however_it_is_split() -> None:
    # The benchmark's default client decodes HTTP/1.1 chunked bodies itself:
    # every event must be timed whether the reads split a size line, a chunk
    # or its CRLF. Send times of 0 make each latency the arrival time itself.
    events = [b"event: ping\ndata: {}\n\n", _delta(0), _delta(0), _delta(0)]
    wire = _chunked_response(events)
    splits = [[wire], [wire[i : i + 1] for i in range(len(wire))]] + [[wire[:i], wire[i:]] for i in range(1, len(wire))]
    for pieces in splits:
        count, latencies, error = _feed_light_client(pieces)
        assert (count, error) == (3, None), pieces
        assert len(latencies) == 3 and all(latency > 1e9 for latency in latencies)  # ms since the epoch


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabXY",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab",  # closed mid-chunk
    ],
)
def test_light_client_fails_a_run_on_a_response_it_cannot_read(response: bytes) -> None:
    count, _, error = _feed_light_client([response])
    assert count == 0 and isinstance(error, (RuntimeError, ValueError)), error
