"""An independent reading of the WHATWG event-stream algorithm, for tests.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation,
written the plainest way (split the whole stream into lines, then one
field at a time), with nothing shared with ``sseadapt._sse``: the parser's
fast paths are checked against it, not against themselves. Decoding is per
field value, which the spec's stream decoding equals because line breaks and
field names are ASCII. The retry value is reported on the event whose block
gave it (sseadapt's and httpx-sse's convention; the spec only keeps it); one
longer than ``int()`` converts is ignored (sseadapt's decision).
"""

from __future__ import annotations

import sys

from sseadapt import ServerSentEvent

__all__ = ["reference_events"]


def _int_max_digits() -> int:
    """Python's limit on int() of a digit string (0: none; absent before 3.10.7)."""
    limit: int = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    return limit


def _lines(wire: bytes) -> list[bytes]:
    """The complete lines (CRLF, LF or CR ends one); an unterminated last one is dropped."""
    lines, start, i = [], 0, 0
    while i < len(wire):
        if wire[i] in b"\r\n":
            lines.append(wire[start:i])
            if wire[i] == 13 and wire[i + 1 : i + 2] == b"\n":
                i += 1
            start = i + 1
        i += 1
    return lines


def reference_events(wire: bytes) -> list[ServerSentEvent]:
    """The events a conforming reader dispatches for the whole stream ``wire``."""
    if wire.startswith(b"\xef\xbb\xbf"):
        wire = wire[3:]  # one BOM, at the start only
    events = []
    data: list[bytes] | None = None
    event_type, last_id, retry = b"", "", None
    for line in _lines(wire):
        if not line:  # dispatch
            if data is not None:
                name = event_type.decode("utf-8", "replace") or "message"
                events.append(ServerSentEvent(name, b"\n".join(data).decode("utf-8", "replace"), last_id, retry))
            data, event_type, retry = None, b"", None
            continue
        if line.startswith(b":"):
            continue  # a comment
        field, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            data = (data or []) + [value]
        elif field == b"event":
            event_type = value
        elif field == b"id":
            if b"\0" not in value:
                last_id = value.decode("utf-8", "replace")
        elif field == b"retry":
            if value and all(48 <= byte <= 57 for byte in value) and not 0 < _int_max_digits() < len(value):
                retry = int(value)
    return events
