"""Deterministic benchmark workloads (seeded; about ``size`` bytes each).

* ``messages``: a realistic Messages stream, short ``text_delta`` events of 1-8
  words, pings, block starts and stops (~140 B/event).
* ``legacy``: 2023-01-01 cumulative completions of 2,000 tokens, repeated, so
  events grow to ~10 KB.
* ``large-line``: one 64 KiB data line per event.
* ``large-multi``: 100 data lines per event.
* ``crlf``: ``messages`` with CRLF line endings.
* ``completions``: a 2023-06-01 incremental completions stream (converter input).

``chunked(data, chunking)`` delivers a workload ``whole``, ``net`` (4096-byte
chunks, like a socket read), ``tiny`` (7-byte chunks) or ``event`` (one chunk
per event, as a streaming server's writes usually arrive when the client keeps
up).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from functools import lru_cache

WORKLOADS = ("messages", "legacy", "large-line", "large-multi", "crlf")
#: Chunk size per chunking; 0: the whole stream, -1: one chunk per event.
CHUNKINGS = {"whole": 0, "net": 4096, "tiny": 7, "event": -1}
DEFAULT_SIZE = 10_000_000

_WORDS = (
    "the quick brown fox jumps over a lazy dog while Claude explains streaming "
    "events, tokens, JSON, café, naïve, 東京, emoji 👋, quotes \" and back\\slashes"
).split()


def _compact(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _event(name: str | None, data: str, eol: str = "\n") -> str:
    head = f"event: {name}{eol}" if name else ""
    return f"{head}data: {data}{eol}{eol}"


def tokens(rng: random.Random, count: int) -> list[str]:
    return [" " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 8))) for _ in range(count)]


def messages_stream(rng: random.Random, n_deltas: int, eol: str = "\n") -> str:
    """One complete Messages stream with ``n_deltas`` text deltas."""
    parts = [
        _event("message_start", _compact({"type": "message_start", "message": {"id": f"msg_{rng.getrandbits(64):016x}", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 472, "output_tokens": 2}}}), eol),
        _event("content_block_start", _compact({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}), eol),
    ]
    for token in tokens(rng, n_deltas):
        if rng.random() < 0.03:
            parts.append(_event("ping", '{"type": "ping"}', eol))
        parts.append(_event("content_block_delta", _compact({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": token}}), eol))
    parts += [
        _event("content_block_stop", _compact({"type": "content_block_stop", "index": 0}), eol),
        _event("message_delta", _compact({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": n_deltas}}), eol),
        _event("message_stop", _compact({"type": "message_stop"}), eol),
    ]
    return "".join(parts)


def completions_stream(rng: random.Random, n_tokens: int) -> str:
    """One complete 2023-06-01 completions stream."""
    parts = []
    for token in tokens(rng, n_tokens):
        parts.append(_event("completion", json.dumps({"type": "completion", "completion": token, "stop_reason": None, "model": "claude-2.0"}, ensure_ascii=False)))
    parts.append(_event("completion", json.dumps({"type": "completion", "completion": "", "stop_reason": "stop_sequence", "model": "claude-2.0"})))
    return "".join(parts)


def legacy_stream(rng: random.Random, n_tokens: int) -> str:
    """One complete 2023-01-01 cumulative stream."""
    parts, text = [], ""
    base = {"stop_reason": None, "model": "claude-2.0", "truncated": False, "stop": None, "log_id": "0" * 64, "exception": None}
    for _ in range(n_tokens):
        text += " " + rng.choice(_WORDS)  # one word per token, like real tokens
        parts.append(_event(None, json.dumps({"completion": text, **base}, ensure_ascii=False)))
    parts.append(_event(None, json.dumps({"completion": text, **base, "stop_reason": "stop_sequence", "stop": "\n\nHuman:"}, ensure_ascii=False)))
    parts.append(_event(None, "[DONE]"))
    return "".join(parts)


def _repeat(make: Callable[[random.Random], str], size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out: list[bytes] = []
    total = 0
    while total < size:
        piece = make(rng).encode()
        out.append(piece)
        total += len(piece)
    return b"".join(out)


@lru_cache(maxsize=16)
def workload(name: str, size: int = DEFAULT_SIZE) -> bytes:
    """The bytes of workload ``name`` (cached)."""
    if name == "messages":
        return _repeat(lambda r: messages_stream(r, 400), size, 1)
    if name == "crlf":
        return _repeat(lambda r: messages_stream(r, 400, "\r\n"), size, 1)
    if name == "legacy":
        # One 2,000-token completion (~12 MB): events grow to ~12 KB.
        return _repeat(lambda r: legacy_stream(r, 2000), size, 2)
    if name == "large-line":
        return _repeat(lambda r: _event("message", "x" * 65536 + r.choice(_WORDS)), size, 3)
    if name == "large-multi":
        return _repeat(lambda r: "".join(f"data: {' '.join(r.choice(_WORDS) for _ in range(6))}\n" for _ in range(100)) + "\n", size, 4)
    if name == "completions":
        return _repeat(lambda r: completions_stream(r, 400), size, 5)
    raise ValueError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}, completions")


@lru_cache(maxsize=8)
def single_stream(dialect: str, n_tokens: int) -> bytes:
    """One complete stream of ``dialect`` with ``n_tokens`` text pieces (converter input)."""
    rng = random.Random(7)
    if dialect == "messages":
        return messages_stream(rng, n_tokens).encode()
    if dialect == "completions":
        return completions_stream(rng, n_tokens).encode()
    if dialect == "legacy":
        return legacy_stream(rng, n_tokens).encode()
    raise ValueError(f"no single-stream workload for {dialect!r}")


def chunked(data: bytes, chunking: str) -> list[bytes]:
    """Split ``data`` per ``chunking`` (``whole``, ``net``, ``tiny``, ``event``)."""
    size = CHUNKINGS[chunking]
    if not size:
        return [data]
    if size < 0:
        # After every blank line (CRLF for the crlf workload): joined, the chunks are ``data``.
        blank = b"\r\n\r\n" if b"\r\n" in data[:4096] else b"\n\n"
        pieces = data.split(blank)
        return [piece + blank for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    return [data[i : i + size] for i in range(0, len(data), size)]
