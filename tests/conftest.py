"""Shared fixtures: loopback servers started and stopped by the tests themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def serve() -> Iterator[Callable[..., Any]]:
    """Start ASGI apps on 127.0.0.1 (free ports); all are stopped after the test."""
    from sseadapt.serve import ServerThread

    started: list[ServerThread] = []

    def start(app: Any, **kwargs: Any) -> ServerThread:
        server = ServerThread(app, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop(timeout=10)
