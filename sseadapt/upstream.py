"""A built-in, offline demo upstream: a small deterministic ASGI app.

It speaks enough of the Anthropic API for sseadapt's proxy, demo and tests:

* ``POST /v1/messages`` — a Messages response, streaming or not;
* ``POST /v1/complete`` — a Text Completions ``2023-06-01`` response,
  streaming or not.

The reply text is fixed by configuration and split into word tokens; the
pacing between events is configurable; and faults can be injected:

* ``"error"`` — an ``error`` event (``overloaded_error``) after ``fault_after`` tokens;
* ``"cut"`` — the response ends cleanly in the middle of an event after ``fault_after`` tokens;
* ``"drop"`` — the connection is dropped (no end of the chunked body) mid-event;
* ``"stall"`` — the stream stops sending (but stays open) after ``fault_after`` tokens;
* ``"status-529"`` — HTTP 529 with an ``overloaded_error`` body, before any stream;
* ``"status-500-text"`` — HTTP 500 with a plain-text body;
* ``"invalid-json"`` — an event whose data is not JSON after ``fault_after`` tokens.

It records the requests it saw and how each stream ended
(:attr:`DemoUpstream.log`), so tests can check what the proxy forwarded and
that a client's disconnect cancelled the upstream request.

Pure ASGI (no framework); serve it with uvicorn, e.g. ``sseadapt proxy
--upstream builtin`` runs it on a loopback port beside the proxy.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, Final, Literal, Union, get_args

import anyio
import attrs

from ._asgi import Receive, Scope, Send, header_map, route_path
from ._events import json_from_wire

__all__ = ["DemoUpstream", "DEFAULT_TEXT", "Fault", "RequestRecord"]

DEFAULT_TEXT: Final = (
    "Hello! I am the sseadapt demo upstream. This reply streams one word per event, "
    "and sseadapt turns it into whatever your client speaks."
)

Fault = Literal["error", "cut", "drop", "stall", "status-529", "status-500-text", "invalid-json"]


@attrs.define
class RequestRecord:
    """What the demo upstream saw of one request, and how its response ended."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    #: ``"complete"``, ``"fault"``, ``"client-disconnected"`` or ``"cancelled"``.
    outcome: str = "pending"
    finished_at: Union[float, None] = None


class ConnectionDropped(Exception):
    """Raised inside the app to make the server drop the connection (fault ``"drop"``)."""


# A request's model may carry a lone surrogate (a "\udXXX" escape): written back as one.
def _compact(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")


def _spaced(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _event(name: str, data: bytes) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


def _check_arguments(text: object, delay: object, fault: object, fault_after: object, model: object) -> None:
    """Refuse at construction what would otherwise fail (or be ignored) per request."""
    for name, value in (("text", text), ("model", model)):
        if not isinstance(value, str):
            raise TypeError(f"DemoUpstream {name} must be a str, not {type(value).__name__}")
    if not model:
        raise ValueError("DemoUpstream model must not be empty")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise TypeError(f"DemoUpstream delay must be a number of seconds, not {type(delay).__name__}")
    if not 0 <= delay < math.inf:
        raise ValueError(f"DemoUpstream delay must be a finite number of seconds, 0 or more, not {delay!r}")
    if isinstance(fault_after, bool) or not isinstance(fault_after, int):
        raise TypeError(f"DemoUpstream fault_after must be an int, not {type(fault_after).__name__}")
    if fault_after < 0:
        raise ValueError(f"DemoUpstream fault_after must be 0 or more, not {fault_after!r}")
    if fault is not None and fault not in get_args(Fault):
        raise ValueError(f"DemoUpstream fault must be None or one of {', '.join(get_args(Fault))}, not {fault!r}")


class DemoUpstream:
    """The ASGI app. All arguments are keyword-only.

    Args:
        text: the reply text (split into word tokens, each with its leading space).
        delay: seconds between events.
        fault: a fault to inject (see the module docstring), or ``None``.
        fault_after: tokens sent before the fault.
        model: the model reported when the request names none.

    Raises:
        TypeError, ValueError: an argument of the wrong type, an unknown
            fault, a negative or non-finite ``delay``, a negative ``fault_after``,
            an empty ``model``.
    """

    def __init__(
        self,
        *,
        text: str = DEFAULT_TEXT,
        delay: float = 0.0,
        fault: Union[Fault, None] = None,
        fault_after: int = 3,
        model: str = "claude-sonnet-4-5-20250929",
    ) -> None:
        _check_arguments(text, delay, fault, fault_after, model)
        self.tokens = [" " + word for word in text.split()] if text.strip() else [""]
        self.tokens[0] = self.tokens[0].lstrip(" ") if not text.startswith(" ") else self.tokens[0]
        self.text = "".join(self.tokens)
        self.delay = delay
        self.fault = fault
        self.fault_after = fault_after
        self.model = model
        #: Every request seen, in order.
        self.log: list[RequestRecord] = []
        self._counter = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = header_map(scope)
        try:
            parsed = json_from_wire(body) if body else None
        except ValueError:
            parsed = None
        path = route_path(scope)
        record = RequestRecord(method=scope["method"], path=path, headers=headers, body=parsed)
        self.log.append(record)
        if scope["method"] != "POST" or path not in ("/v1/messages", "/v1/complete"):
            await self._json(send, 404, {"type": "error", "error": {"type": "not_found_error", "message": f"Not found: {path}"}})
            record.outcome = "complete"
            return
        if not isinstance(parsed, dict):
            await self._json(send, 400, {"type": "error", "error": {"type": "invalid_request_error", "message": "body must be a JSON object"}})
            record.outcome = "complete"
            return
        if self.fault == "status-529":
            await self._json(send, 529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
            record.outcome = "fault"
            return
        if self.fault == "status-500-text":
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"upstream exploded"})
            record.outcome = "fault"
            return
        self._counter += 1
        requested = parsed.get("model")
        model = requested if isinstance(requested, str) else self.model
        if not parsed.get("stream"):
            await self._json(send, 200, self._whole(path, model))
            record.outcome = "complete"
            return
        events = self._messages_events(model) if path == "/v1/messages" else self._completion_events(model)
        await self._stream(events, receive, send, record)

    async def _json(self, send: Send, status: int, obj: object) -> None:
        data = json.dumps(obj).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"request-id", f"req_demo_{self._counter}".encode())],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def _id(self, prefix: str) -> str:
        return f"{prefix}_demo{self._counter:08d}"

    def _whole(self, path: str, model: str) -> dict[str, Any]:
        if path == "/v1/messages":
            return {
                "id": self._id("msg"), "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": self.text}], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 12, "output_tokens": len(self.tokens)},
            }
        return {"type": "completion", "id": self._id("compl"), "completion": self.text, "stop_reason": "stop_sequence", "model": model, "stop": None, "log_id": self._id("compl")}

    def _messages_events(self, model: str) -> list[tuple[str, bytes]]:
        """(kind, bytes) pairs; kind 'token' marks the events faults count."""
        msg_id = self._id("msg")
        out = [
            ("meta", _event("message_start", _compact({"type": "message_start", "message": {"id": msg_id, "type": "message", "role": "assistant", "content": [], "model": model, "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 1}}}))),
            ("meta", _event("content_block_start", _compact({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))),
            ("meta", _event("ping", b'{"type": "ping"}')),
        ]
        for token in self.tokens:
            out.append(("token", _event("content_block_delta", _compact({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": token}}))))
        out += [
            ("meta", _event("content_block_stop", _compact({"type": "content_block_stop", "index": 0}))),
            ("meta", _event("message_delta", _compact({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": len(self.tokens)}}))),
            ("meta", _event("message_stop", _compact({"type": "message_stop"}))),
        ]
        return out

    def _completion_events(self, model: str) -> list[tuple[str, bytes]]:
        ident = self._id("compl")
        out = [("token", _event("completion", _spaced({"type": "completion", "id": ident, "completion": token, "stop_reason": None, "model": model, "stop": None, "log_id": ident}))) for token in self.tokens]
        out.insert(min(2, len(out)), ("meta", _event("ping", b'{"type": "ping"}')))
        out.append(("meta", _event("completion", _spaced({"type": "completion", "id": ident, "completion": "", "stop_reason": "stop_sequence", "model": model, "stop": None, "log_id": ident}))))
        return out

    async def _stream(self, events: list[tuple[str, bytes]], receive: Receive, send: Send, record: RequestRecord) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                    (b"request-id", f"req_demo_{self._counter}".encode()),
                ],
            }
        )
        error_event = (
            _event("error", _compact({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
            if record.path == "/v1/messages"
            else _event("error", _spaced({"error": {"type": "overloaded_error", "message": "Overloaded"}}))
        )
        async with anyio.create_task_group() as tg:

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                if record.outcome == "pending":
                    record.outcome = "client-disconnected"
                tg.cancel_scope.cancel()

            tg.start_soon(watch_disconnect)
            try:
                sent_tokens = 0
                for kind, data in events:
                    if kind == "token" and sent_tokens == self.fault_after and self.fault in ("error", "cut", "drop", "stall", "invalid-json"):
                        await self._fault(send, data, error_event)
                        record.outcome = "fault"
                        if self.fault == "stall":
                            await anyio.sleep_forever()
                        break
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                    sent_tokens += kind == "token"
                    if self.delay:
                        await anyio.sleep(self.delay)
                else:
                    record.outcome = "complete"
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except ConnectionDropped:
                record.outcome = "fault"
                raise
            except anyio.get_cancelled_exc_class():
                if record.outcome == "pending":
                    record.outcome = "cancelled"
                raise
            finally:
                record.finished_at = time.monotonic()
                tg.cancel_scope.cancel()

    async def _fault(self, send: Send, next_event: bytes, error_event: bytes) -> None:
        name = next_event.split(b"\n", 1)[0]
        if self.fault == "error":
            await send({"type": "http.response.body", "body": error_event, "more_body": True})
        elif self.fault in ("cut", "drop"):
            await send({"type": "http.response.body", "body": next_event[: len(next_event) // 2], "more_body": True})
            if self.fault == "drop":
                # The server then closes the connection without ending the body.
                raise ConnectionDropped("demo upstream fault: connection dropped mid-event")
        elif self.fault == "invalid-json":
            await send({"type": "http.response.body", "body": name + b"\ndata: {not json\n\n", "more_body": True})
