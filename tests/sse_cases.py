"""The one table of (wire bytes, events) cases for the SSE parser and serializer.

Each case names the bytes on the wire and the events a WHATWG reader dispatches
from them. ``canonical`` cases are exactly what :class:`sseadapt.SSESerializer`
writes for those events (LF line endings), so the serializer test compares
bytes; for every case the serializer's output must parse back to the events.
"""

from __future__ import annotations

from typing import NamedTuple

from sseadapt import ServerSentEvent


class Case(NamedTuple):
    name: str
    wire: bytes
    events: list[ServerSentEvent]
    canonical: bool = False


def ev(data: str, event: str = "message", id: str = "", retry: int | None = None) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


CASES: list[Case] = [
    Case("one data line", b"data: hello\n\n", [ev("hello")], canonical=True),
    Case("named event", b"event: ping\ndata: {}\n\n", [ev("{}", "ping")], canonical=True),
    Case("multi-line data joined with LF", b"data: a\ndata: b\ndata: c\n\n", [ev("a\nb\nc")], canonical=True),
    Case("empty data line dispatches empty string", b"data: \n\n", [ev("")], canonical=True),
    Case("data without colon is an empty data line", b"data\n\n", [ev("")]),
    Case("two empty data lines give one LF", b"data\ndata\n\n", [ev("\n")]),
    Case("only one leading space is stripped", b"data:  two\n\n", [ev(" two")], canonical=True),
    Case("no space after colon", b"data:x\n\n", [ev("x")]),
    Case("value keeps trailing spaces", b"data: x  \n\n", [ev("x  ")], canonical=True),
    Case("value may contain colons", b"data: a: b:c\n\n", [ev("a: b:c")], canonical=True),
    Case("comment ignored", b": keep-alive\ndata: x\n\n", [ev("x")]),
    Case("comment-only block dispatches nothing", b": hi\n\n", []),
    Case("event without data dispatches nothing", b"event: ping\n\n", []),
    Case("event type resets after dispatch", b"event: a\ndata: 1\n\ndata: 2\n\n", [ev("1", "a"), ev("2")], canonical=True),
    Case("empty event type means message", b"event:\ndata: x\n\n", [ev("x")]),
    Case("last event field wins", b"event: a\nevent: b\ndata: x\n\n", [ev("x", "b")]),
    Case("CRLF line endings", b"event: a\r\ndata: x\r\n\r\n", [ev("x", "a")]),
    Case("CR line endings", b"data: x\rdata: y\r\r", [ev("x\ny")]),
    Case("mixed line endings", b"data: a\r\ndata: b\rdata: c\n\r\n", [ev("a\nb\nc")]),
    Case("leading BOM stripped once", b"\xef\xbb\xbfdata: x\n\n", [ev("x")]),
    Case("second BOM is data", b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n", []),
    Case("BOM inside data kept", b"data: \xef\xbb\xbfx\n\n", [ev("\ufeffx")], canonical=True),
    Case("id persists across events", b"id: 7\ndata: a\n\ndata: b\n\n", [ev("a", id="7"), ev("b", id="7")], canonical=True),
    Case("empty id resets", b"id: 7\ndata: a\n\nid\ndata: b\n\n", [ev("a", id="7"), ev("b")], canonical=True),
    Case("id with NUL ignored", b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", [ev("a", id="1"), ev("b", id="1")]),
    Case("id-only block sets id, dispatches nothing", b"id: 9\n\ndata: a\n\n", [ev("a", id="9")]),
    Case("retry digits", b"retry: 3000\ndata: a\n\n", [ev("a", retry=3000)], canonical=True),
    Case("retry not all digits ignored", b"retry: 30x\ndata: a\n\nretry: +5\ndata: b\n\nretry:  5\ndata: c\n\n", [ev("a"), ev("b"), ev("c")]),
    Case("retry belongs to its block", b"retry: 5\ndata: a\n\ndata: b\n\n", [ev("a", retry=5), ev("b")], canonical=True),
    # More digits than int() converts (4300 by default) raised ValueError: ignored, as browsers
    # ignore a value that overflows (4300 digits are taken: tests/test_sse_parser.py).
    Case("retry of 4301 digits ignored", b"retry: " + b"7" * 4301 + b"\ndata: a\n\n", [ev("a")]),
    Case("unknown fields ignored", b"foo: bar\ndata: a\nDATA: b\n\n", [ev("a")]),
    Case("field names are case sensitive", b"Data: x\n\n", []),
    Case("unterminated last block discarded", b"data: a\n\ndata: b\n", [ev("a")]),
    Case("unterminated last line discarded", b"data: a\n\ndata: b", [ev("a")]),
    Case("CR at very end ends the line", b"data: a\r\r", [ev("a")]),
    Case("U+2028, U+2029 and NEL are data", "data: a\u2028b\u2029c\x85d\n\n".encode(), [ev("a\u2028b\u2029c\x85d")], canonical=True),
    Case("invalid UTF-8 replaced", b"data: a\xffb\xc3\n\n", [ev("a\ufffdb\ufffd")]),
    Case(
        "invalid UTF-8 in a run of named events replaced",
        b"event: x\ndata: a\xff\n\nevent: x\ndata: \xc3\n\nevent: x\ndata: b\n\n",
        [ev("a\ufffd", "x"), ev("\ufffd", "x"), ev("b", "x")],
    ),
    Case("multi-byte characters", "event: é\ndata: 👋 héllo\n\n".encode(), [ev("👋 héllo", "é")], canonical=True),
    Case("NUL in data kept", b"data: a\x00b\n\n", [ev("a\x00b")], canonical=True),
    Case("blank lines between events dispatch nothing", b"\n\n\ndata: a\n\n\n\n", [ev("a")]),
    Case(
        "anthropic messages event",
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" Hello"}}\n\n',
        [ev('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" Hello"}}', "content_block_delta")],
        canonical=True,
    ),
    Case("legacy done", b"data: [DONE]\n\n", [ev("[DONE]")], canonical=True),
]
