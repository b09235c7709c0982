"""`sseadapt demo` (the README's main job) and `sseadapt proxy` as real processes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from sseadapt import iter_events
from sseadapt.upstream import DEFAULT_TEXT

from .helpers import ROOT

BODY = {"prompt": "\n\nHuman: Hi\n\nAssistant:", "model": "claude-v1", "max_tokens_to_sample": 50, "stream": True}


def test_demo_prints_the_legacy_stream_and_exits_0() -> None:
    proc = subprocess.run([sys.executable, "-m", "sseadapt", "demo", "--delay", "0.01"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    final = json.loads(lines[-2][6:])
    assert final["completion"] == DEFAULT_TEXT and final["stop_reason"] == "stop_sequence"
    assert proc.stdout.rstrip().endswith("the stream ended with data: [DONE]")


@pytest.mark.parametrize("fault", ["error", "cut", "status-529"])
def test_demo_with_faults(fault: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "sseadapt", "demo", "--delay", "0", "--fault", fault], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "data: [DONE]" not in proc.stdout
    assert "error" in proc.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            httpx.get(url + "/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("proxy did not start")


@pytest.mark.parametrize("workers", [1, 2])
def test_proxy_command_with_builtin_upstream(workers: int) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sseadapt", "proxy", "--upstream", "builtin", "--listen", f"127.0.0.1:{port}", "--workers", str(workers)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        for _ in range(4):  # several requests: any worker answers the same (no state between requests)
            raw = httpx.post(url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-01-01", "x-api-key": "sk-ant-NEVER-LOGGED"}, timeout=30).content
            datas = [e.data for e in iter_events([raw])]
            assert datas[-1] == "[DONE]"
            assert json.loads(datas[-2])["completion"] == DEFAULT_TEXT
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
    log = stderr.decode()
    assert "POST /v1/complete -> 200" in log
    assert "NEVER-LOGGED" not in log


def test_proxy_command_refuses_a_bad_upstream() -> None:
    proc = subprocess.run([sys.executable, "-m", "sseadapt", "proxy", "--upstream", "ftp://x"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and "http(s) URL" in proc.stderr
