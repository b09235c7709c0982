"""Adapter for the shared SSE conformance corpus (``../shared/conformance``).

``parse(chunks)`` feeds each chunk to a fresh :class:`sseadapt.SSEParser`, treats
the end of the list as end of stream, and returns the events as dicts with the
keys the corpus runner compares. The project's own tests use it too.
"""

from __future__ import annotations

from typing import Any

from sseadapt import SSEParser


def parse(chunks: list[bytes]) -> list[dict[str, Any]]:
    parser = SSEParser()
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        if chunk:
            parser.receive_data(chunk)
            out.extend(_as_dict(e) for e in parser.events())
    parser.receive_data(b"")
    out.extend(_as_dict(e) for e in parser.events())
    return out


def _as_dict(event: Any) -> dict[str, Any]:
    return {"event": event.event, "data": event.data, "id": event.id, "retry": event.retry}
