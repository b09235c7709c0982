"""Shared test helpers: chunkings and the path to ../shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sseadapt import STREAM_END, ServerSentEvent, SSEParser

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"


def chunkings(wire: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """Whole, one byte at a time, and split in two at every position."""
    yield "whole", [wire]
    yield "bytes", [wire[i : i + 1] for i in range(len(wire))]
    for k in range(1, len(wire)):
        yield f"split@{k}", [wire[:k], wire[k:]]


def parse_all(chunks: list[bytes], **kwargs: int) -> list[ServerSentEvent]:
    """Feed chunks to a fresh parser through next_event(), then end the stream."""
    parser = SSEParser(**kwargs)
    out: list[ServerSentEvent] = []
    for chunk in chunks:
        if chunk:
            parser.receive_data(chunk)
            out.extend(parser.events())
    parser.receive_data(b"")
    while (event := parser.next_event()) is not STREAM_END:
        assert isinstance(event, ServerSentEvent)
        out.append(event)
    return out
