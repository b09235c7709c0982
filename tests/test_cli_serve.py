"""`sseadapt demo` (the README's main job) and `sseadapt proxy` as real processes."""

from __future__ import annotations

import base64
import gc
import json
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sseadapt import iter_events
from sseadapt.upstream import DEFAULT_TEXT

from .helpers import MESSAGES_FIXTURE, ROOT, assert_usage_error, run_sseadapt, start_sse_response

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


@pytest.mark.parametrize("upstream_api", ["messages", "complete"])
def test_demo_for_a_2023_06_01_client_checks_that_dialects_end(upstream_api: str) -> None:
    # It looked for data: [DONE] whatever the version: a complete 2023-06-01
    # stream was reported as "no terminal (unexpected)" and exit 1.
    args = [sys.executable, "-m", "sseadapt", "demo", "--delay", "0", "--version", "2023-06-01", "--upstream-api", upstream_api]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    events = list(iter_events([proc.stdout.encode()]))
    assert {e.event for e in events} <= {"completion", "ping"}  # named 2023-06-01 events, no [DONE]
    assert "".join(json.loads(e.data)["completion"] for e in events if e.event == "completion") == DEFAULT_TEXT
    assert proc.stdout.rstrip().endswith("the stream ended with its final completion event")
    faulty = subprocess.run([*args, "--fault", "error"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert faulty.returncode == 0, faulty.stdout + faulty.stderr
    assert faulty.stdout.rstrip().endswith("the stream ended with the error shape")


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


def _stop(proc: subprocess.Popen[bytes]) -> str:
    """Stop a served proxy as Ctrl-C does (bounded) and return its stderr."""
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
    return stderr.decode()


@pytest.mark.parametrize("workers", [1, 2])
def test_proxy_command_with_builtin_upstream(workers: int) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sseadapt", "proxy", "--upstream", "builtin", "--listen", f"127.0.0.1:{port}", "--workers", str(workers),
         "--model-map", "claude-v1=claude-mapped", "--model-map", "claude-x=claude-y=z", "--send-timeout", "30"],
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
            assert json.loads(datas[-2])["model"] == "claude-mapped"  # --model-map (the demo upstream echoes the model)
        raw = httpx.post(url + "/v1/complete", json={**BODY, "model": "claude-x"}, headers={"anthropic-version": "2023-01-01"}, timeout=30).content
        assert json.loads([e.data for e in iter_events([raw])][-2])["model"] == "claude-y=z"  # split at the first "="
    finally:
        log = _stop(proc)
    assert "POST /v1/complete -> 200" in log
    assert "NEVER-LOGGED" not in log
    # One INFO line per request, the proxy's (httpx's own request line is not shown).
    assert "INFO httpx" not in log
    assert log.count("INFO sseadapt.proxy: POST /v1/complete") == 5
    assert log.count(" events, complete)\n") == 5, log  # (each said "client disconnected; upstream request cancelled")
    # Each serving process froze its startup heap (one line per process).
    frozen = re.findall(r"sseadapt.proxy: (\d+) objects alive at startup kept out of garbage collection", log)
    assert len(frozen) == workers and all(int(n) > 1000 for n in frozen), log


def test_proxy_command_shows_no_credentials_of_its_upstream_url(serve: Callable[..., Any]) -> None:
    # The "proxy on … -> URL" line and the startup log printed https://user:key@host as given.
    authorizations: list[bytes] = []

    async def upstream_app(scope: Any, receive: Any, send: Any) -> None:
        authorizations.append(dict(scope["headers"]).get(b"authorization", b""))
        await start_sse_response(receive, send)
        await send({"type": "http.response.body", "body": MESSAGES_FIXTURE})

    upstream = serve(upstream_app, lifespan="off")
    port = _free_port()
    with_credentials = upstream.url.replace("http://", "http://gateway-user:KEY-IN-URL@")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sseadapt", "proxy", "--upstream", with_credentials, "--listen", f"127.0.0.1:{port}", "--log-level", "debug"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        raw = httpx.post(url + "/v1/complete", json=BODY, headers={"anthropic-version": "2023-01-01"}, timeout=30).content
        assert [e.data for e in iter_events([raw])][-1] == "[DONE]"
    finally:
        log = _stop(proc)
    assert f"-> {upstream.url.replace('http://', 'http://***@')} (messages)" in log
    assert f"proxy.startup upstream={upstream.url} " in log  # the URL requests go to holds none
    assert "KEY-IN-URL" not in log and "gateway-user" not in log
    # The credentials still do their job: httpx sends them as basic auth.
    assert authorizations and set(authorizations) == {b"Basic " + base64.b64encode(b"gateway-user:KEY-IN-URL")}
    refused = run_sseadapt("proxy", "--upstream", "http://gateway-user:KEY-IN-URL@127.0.0.1/?beta=true")
    assert_usage_error(refused, "not 'http://***@127.0.0.1/?beta=true'")
    assert "KEY-IN-URL" not in refused.stderr


def test_freezing_the_startup_heap_moves_the_live_objects_out_of_collection() -> None:
    from sseadapt._cli_serve import _freeze_startup_heap

    before = gc.get_freeze_count()  # 0, or a few hundred objects CPython 3.12 freezes itself
    try:
        alive = [[object()], {"a": [1]}]
        assert all(gc.is_tracked(x) for x in alive)
        count = _freeze_startup_heap()
        assert count == gc.get_freeze_count() > before + 1000
        in_generations = {id(x) for x in gc.get_objects()}  # (the frozen are in none)
        assert not any(id(x) in in_generations for x in alive)
        after = [object()]
        assert id(after) in {id(x) for x in gc.get_objects()}
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("upstream", ["ftp://x", "http://", "http://127.0.0.1:99999", "http://127.0.0.1/?beta=true"])
def test_proxy_command_refuses_a_bad_upstream(upstream: str) -> None:
    # (The last three pass the scheme check and are refused by ProxyConfig: exit 2, no traceback.)
    assert_usage_error(run_sseadapt("proxy", "--upstream", upstream), "http(s) URL")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "argument --workers: must be more than 0"),
        (["--max-upstream-connections", "0"], "argument --max-upstream-connections: must be more than 0"),
        (["--max-body-size", "-1"], "argument --max-body-size: must be more than 0"),
        (["--connect-timeout", "0"], "argument --connect-timeout: must be more than 0"),
        (["--idle-timeout", "-1"], "argument --idle-timeout: must be more than 0"),
        (["--idle-timeout", "inf"], "argument --idle-timeout: must be a finite number"),
        (["--idle-timeout", "soon"], "argument --idle-timeout: not a number"),
        (["--send-timeout", "0"], "argument --send-timeout: must be more than 0"),
        (["--send-timeout", "nan"], "argument --send-timeout: must be a finite number"),
        (["--workers", "2.5"], "argument --workers: not an integer"),
        (["--demo-delay", "-0.1"], "argument --demo-delay: must be 0 or more"),
        (["--demo-fault", "gremlins"], "argument --demo-fault: invalid choice"),
        (["--listen", "127.0.0.1:99999"], "port from 1 to 65535"),
        (["--listen", "127.0.0.1:0"], "port from 1 to 65535"),
        (["--listen", "127.0.0.1:\u00b2"], "port from 1 to 65535"),  # was "invalid _listen value"
        (["--model-map", "claude-2"], "argument --model-map: takes OLD=NEW, not 'claude-2'"),  # exited 1, not 2
        (["--model-map", "=m"], "argument --model-map: takes OLD=NEW"),
        (["--default-model", ""], "argument --default-model: takes a model name, not ''"),  # fell back to the default
    ],
)
def test_proxy_command_refuses_bad_settings_before_serving(args: list[str], message: str) -> None:
    # Each used to be accepted, and the proxy started with it.
    proc = run_sseadapt("proxy", "--upstream", "builtin", *args)
    assert_usage_error(proc, message)
    assert "sseadapt proxy on" not in proc.stderr


def test_proxy_command_refuses_an_address_it_cannot_listen_on() -> None:
    # uvicorn logged the bind error and exited 3 (the CLI's "error event" code)
    # after "sseadapt proxy on ..." had been printed.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_sseadapt("proxy", "--upstream", "builtin", "--listen", f"127.0.0.1:{port}")
    assert_usage_error(proc, f"sseadapt proxy: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert "sseadapt proxy on" not in proc.stderr and "demo upstream on" not in proc.stderr
    # An address this machine does not have (TEST-NET-1, RFC 5737).
    assert_usage_error(run_sseadapt("proxy", "--upstream", "http://127.0.0.1:9", "--listen", "192.0.2.1:8080"),
                       "cannot listen on 192.0.2.1:8080: Cannot assign requested address")


_PROBE_PASSES = """
import socket, sys
import sseadapt.serve
from sseadapt.__main__ import main
# The listen check passes, as when the address is taken between it and uvicorn's bind.
sseadapt.serve._bind_socket = lambda host, port: socket.socket()
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_proxy_command_whose_server_cannot_start_is_a_usage_error(workers: str) -> None:
    # Exited 3, this CLI's "error event" code (uvicorn's startup failure).
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE_PASSES, "proxy", "--upstream", "http://127.0.0.1:9", "--listen", f"127.0.0.1:{port}", "--workers", workers],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )
    assert proc.returncode == 2, proc.stderr
    assert f"sseadapt proxy: the server could not start on 127.0.0.1:{port} (uvicorn's message above)" in proc.stderr
    assert "address already in use" in proc.stderr.lower() and "Traceback" not in proc.stderr


def test_server_thread_on_a_taken_port_raises_and_closes_its_socket() -> None:
    from sseadapt.serve import ServerThread
    from sseadapt.upstream import DemoUpstream

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            with pytest.raises(OSError, match="Address already in use"):
                ServerThread(DemoUpstream(), port=port)
            gc.collect()  # an unclosed socket warns when it is collected
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]


def test_server_thread_closes_its_socket_whatever_goes_wrong() -> None:
    # Stopping a server never started raised "cannot join thread before it is started";
    # an option uvicorn refuses, or an app whose startup fails, left the socket open.
    from sseadapt.serve import ServerThread
    from sseadapt.upstream import DemoUpstream

    async def failing_startup(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        never_started = ServerThread(DemoUpstream())
        never_started.stop()
        never_started.stop()
        with pytest.raises(TypeError, match="nosuchoption"):
            ServerThread(DemoUpstream(), nosuchoption=1)
        failed = ServerThread(failing_startup, log_level="critical")
        with pytest.raises(RuntimeError, match=r"^server on http://127\.0\.0\.1:\d+ exited with code 3$"):
            failed.start()
        with pytest.raises(RuntimeError, match="exited"):
            with ServerThread(failing_startup, log_level="critical"):
                pass
        gc.collect()  # an unclosed socket warns when it is collected
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
    assert never_started._sock.fileno() == failed._sock.fileno() == -1


@pytest.mark.parametrize(("args", "message"), [(["--delay", "-1"], "must be 0 or more"), (["--fault", "gremlins"], "invalid choice")])
def test_demo_command_refuses_bad_settings(args: list[str], message: str) -> None:
    assert_usage_error(run_sseadapt("demo", *args), message)


def test_the_fault_choices_are_the_upstreams_faults() -> None:
    from typing import get_args

    from sseadapt._cli_serve import _FAULTS
    from sseadapt.upstream import Fault

    assert _FAULTS == list(get_args(Fault))
