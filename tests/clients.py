"""Real third-party clients for the tests: their own virtual environments, a loopback server.

Clients that cannot share the test environment (``anthropic==0.2.10`` beside
a current ``anthropic``) each get a virtual environment under
``.client-venvs/`` in the repository (made on first use, reused after), and
are driven as subprocesses with a bounded timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
import venv
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .helpers import ROOT

VENVS = ROOT / ".client-venvs"

#: name -> pip requirements
CLIENTS = {
    "anthropic-0.2.10": ["anthropic==0.2.10"],
    "anthropic-0.40.0": ["anthropic==0.40.0"],
}

_lock = threading.Lock()


def client_python(name: str) -> Path:
    """Path to the python of client venv ``name``, creating the venv if needed."""
    requirements = CLIENTS[name]
    home = VENVS / name
    python = home / "bin" / "python"
    stamp = home / "sseadapt-requirements.json"
    with _lock:
        if stamp.exists() and json.loads(stamp.read_text()) == requirements and python.exists():
            return python
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
            check=True,
            timeout=600,
        )
        stamp.write_text(json.dumps(requirements))
    return python


def run_client(name: str, script: str, url: str, timeout: float = 60) -> Any:
    """Run ``script`` in client venv ``name`` with SSEADAPT_URL set; return its JSON stdout."""
    python = client_python(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "OPENAI"))}
    env["SSEADAPT_URL"] = url
    env["NO_PROXY"] = "127.0.0.1,localhost"
    proc = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"client {name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Recorded:
    """What the loopback server saw."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []


@contextlib.contextmanager
def serve_sse(body: bytes | Callable[[], list[bytes]], *, chunk: int = 37, status: int = 200) -> Iterator[tuple[str, Recorded]]:
    """Serve ``body`` (in small flushed chunks) to every POST on 127.0.0.1, then close.

    Yields the base URL and a :class:`Recorded` of the requests.
    """
    recorded = Recorded()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection closes

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("content-length") or 0)
            recorded.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": json.loads(self.rfile.read(length) or b"null")}
            )
            data = body() if callable(body) else [body[i : i + chunk] for i in range(0, len(body), chunk)]
            self.send_response(status)
            self.send_header("content-type", "text/event-stream; charset=utf-8" if status == 200 else "application/json")
            self.send_header("cache-control", "no-cache")
            self.end_headers()
            for piece in data:
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(0.001)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorded
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
