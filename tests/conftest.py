"""Shared fixtures: loopback servers started and stopped by the tests themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .shared_path import FIXTURES, SHARED


def pytest_configure(config: pytest.Config) -> None:
    # Every test module reads the fixtures at import: without them each would
    # error with its own FileNotFoundError, so say once what is missing.
    if not FIXTURES.is_dir():
        pytest.exit(
            f"the tests need the project's shared reference material: {FIXTURES} is not a "
            f"directory. Put the shared/ folder beside the checkout ({SHARED}) or set "
            "SSEADAPT_SHARED to its path.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


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
