"""Shared ASGI plumbing for the adapters (types, headers, bounded body reads)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["Scope", "Message", "Receive", "Send", "ASGIApp", "SSE_HEADERS", "BodyTooLarge", "ClientGone", "read_body", "header_map", "route_path"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Response headers of every converted stream (no ``Connection``: illegal on HTTP/2).
SSE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class BodyTooLarge(Exception):
    """The request body is over the limit (answer 413)."""


class ClientGone(Exception):
    """The client disconnected while its body was being read."""


def route_path(scope: Scope) -> str:
    """The request's path within the app: ``path`` without the ``root_path``
    the app is mounted at (uvicorn's ``--root-path``, a Starlette ``Mount``),
    which the ASGI spec has ``path`` include."""
    path: str = scope["path"]
    root: str = scope.get("root_path") or ""
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


def header_map(scope: Scope) -> dict[str, str]:
    """Request headers, names lower-cased (a repeated header keeps its last value)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """Read the whole request body, refusing more than ``limit`` bytes.

    Raises:
        BodyTooLarge: the declared or received size is over ``limit``.
        ClientGone: the client disconnected first.
    """
    declared = header_map(scope).get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:  # (str.isdigit takes "²")
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
