"""Shared test helpers: chunkings and the fixtures from ../shared (tests/shared_path.py)."""

from __future__ import annotations

import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from sseadapt import STREAM_END, ServerSentEvent, SSEParser

from .shared_path import FIXTURES as FIXTURES
from .shared_path import ROOT as ROOT


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


# A Messages stream's opening events, for test upstreams.
MESSAGES_HEAD = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
    b'"content":[],"model":"m","stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
)


async def read_request_body(receive: Any) -> bytes:
    """For an ASGI test upstream: the whole request body."""
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


async def start_sse_response(receive: Any, send: Any) -> None:
    """For an ASGI test upstream: take the whole request, answer 200 ``text/event-stream``."""
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})


def run_sseadapt(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m sseadapt ARGS`` from the repository root (bounded), output as text."""
    return subprocess.run([sys.executable, "-m", "sseadapt", *args], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


def assert_usage_error(proc: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 2 with ``message`` on stderr, and no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


COMPLETIONS_FIXTURE = (FIXTURES / "v2023-06-01_text-completion_incremental_ping.sse").read_bytes()
MESSAGES_FIXTURE = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()


def answering_app(
    body: bytes, *, encoding: str = "identity", content_type: str = "text/event-stream", corrupt: bool = False, status: int = 200
) -> tuple[Callable[..., Any], list[bytes]]:
    """An app that answers every request with ``body`` (an event stream unless
    ``content_type`` says otherwise; status ``status``) in 50-byte pieces, compressed with
    ``encoding`` (gzip or deflate, flushed per piece as a streaming server would)
    whatever it is asked for, and the accept-encoding headers it was sent.
    ``corrupt``: pieces after the first 200 bytes are garbage."""
    asked: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        asked.append(dict(scope["headers"]).get(b"accept-encoding", b""))
        headers = [(b"content-type", content_type.encode())]
        compressor = None
        if encoding != "identity":
            headers.append((b"content-encoding", encoding.encode()))
            compressor = zlib.compressobj(wbits=31 if encoding == "gzip" else 15)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for i in range(0, len(body), 50):
            piece = body[i : i + 50]
            if compressor is not None:
                piece = compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)
            if corrupt and i >= 200:
                piece = b"\xff" * len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": compressor.flush() if compressor is not None else b""})

    return app, asked


# A non-streaming Messages answer (200) and an error body (529) whose JSON escapes half a
# surrogate pair, as JSON may: json.loads gives a str that str.encode() refuses.
_HALF_PAIR = '"half \\ud83d pair"'
HALF_PAIR_ANSWERS = {
    200: ('{"type": "message", "id": "m", "model": "m", "role": "assistant", "content": [{"type": "text", "text": %s}], "stop_reason": "end_turn"}' % _HALF_PAIR).encode(),
    529: ('{"type": "error", "error": {"type": "overloaded_error", "message": %s}}' % _HALF_PAIR).encode(),
}
