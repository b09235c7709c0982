"""Run an ASGI app under uvicorn in a background thread (extra ``proxy``).

:class:`ServerThread` binds its socket before starting, so its URL is known
at once (``port=0`` picks a free port), and stops within a bounded time.
The proxy's built-in upstream, ``sseadapt demo`` and the tests use it.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

try:
    import uvicorn
except ImportError as exc:  # (tests/test_exports.py blocks the import to check the message)
    raise ImportError("sseadapt.serve needs uvicorn: pip install 'sseadapt[proxy]'") from exc

__all__ = ["ServerThread"]


def _bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` as uvicorn binds one (IPv6 when the
    host has a colon, ``SO_REUSEADDR``); closed again if the bind fails.

    Raises:
        OSError: the address cannot be bound (in use, not here, not allowed).
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class ServerThread:
    """An ASGI app served by uvicorn on ``host:port`` in a daemon thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.

    Args:
        app: the ASGI application.
        host: address to bind (default ``127.0.0.1``).
        port: port to bind; 0 picks a free one.
        graceful_timeout: seconds in-flight requests get at :meth:`stop`.
        **config: more ``uvicorn.Config`` options.
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, graceful_timeout: int = 5, **config: Any) -> None:
        self.app = app
        self._sock = _bind_socket(host, port)
        self.host, self.port = host, self._sock.getsockname()[1]
        config.setdefault("log_level", "warning")
        config.setdefault("lifespan", "on")
        try:
            self.server = uvicorn.Server(uvicorn.Config(app, timeout_graceful_shutdown=graceful_timeout, **config))
        except BaseException:
            self._sock.close()  # an option uvicorn refuses
            raise
        self._exit_code: object = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self._sock])
        except SystemExit as exc:  # uvicorn exits 3 when the app's startup fails
            self._exit_code = exc.code

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 15.0) -> ServerThread:
        """Start serving; returns once the server accepts connections.

        Raises:
            RuntimeError: the server exited (uvicorn's code 3: its app's startup
                failed; uvicorn logs why) or did not start within ``timeout``; it
                is stopped and its socket closed.
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                if self._thread.is_alive():
                    why = f"did not start within {timeout:g}s"
                else:
                    why = "exited" if self._exit_code is None else f"exited with code {self._exit_code}"
                self.stop()
                raise RuntimeError(f"server on {self.url} {why}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the server to exit and wait (bounded) for it; then close the
        socket. Safe to call more than once, or before :meth:`start`."""
        self.server.should_exit = True
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)
            if self._thread.is_alive():
                self.server.force_exit = True
                self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
