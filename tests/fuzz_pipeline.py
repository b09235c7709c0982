"""Coverage-guided fuzzing of parser -> state machine -> converter -> serializer (atheris).

Bounded run of a million inputs (a few minutes on one core)::

    python tests/fuzz_pipeline.py -runs=1000000 -max_len=1024

A short run is part of the test suite (tests/test_fuzz.py). Each input picks a
dialect pair, options and a chunking, then feeds arbitrary bytes. Invariants:

* only sseadapt's declared exceptions escape (anything else is a crash);
* the output is valid UTF-8, parses back as SSE without error, and never
  contains a line that is not ``event:`` / ``data:`` / blank;
* the output ends with the target's terminal marker exactly when the input
  completed, and with the target's error shape otherwise;
* the parser never holds more than ``max_event_size`` bytes;
* the plain parser gives the same events whole and chunked.
"""

from __future__ import annotations

import sys

import sseadapt
from sseadapt import SUPPORTED_CONVERSIONS, Dialect, Pipeline, SSEAdaptError, SSEParser

PAIRS = list(SUPPORTED_CONVERSIONS)
TERMINAL = {
    Dialect.LEGACY: b"data: [DONE]\n\n",
    Dialect.OPENAI: b"data: [DONE]\n\n",
    Dialect.MESSAGES: b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    Dialect.COMPLETIONS: b"",  # checked through the final event's stop_reason
}
# Fragments that make valid-looking streams likely, so the fuzzer reaches deep states.
DICTIONARY = [
    b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"content\":[],\"model\":\"x\",\"usage\":{}}}\n\n",
    b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n",
    b"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n",
    b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    b"event: completion\ndata: {\"type\": \"completion\", \"completion\": \" a\", \"stop_reason\": null, \"model\": \"m\"}\n\n",
    b"event: completion\ndata: {\"type\": \"completion\", \"completion\": \"\", \"stop_reason\": \"stop_sequence\", \"model\": \"m\"}\n\n",
    b"data: {\"completion\": \" a\", \"stop_reason\": null, \"model\": \"m\"}\n\n",
    b"data: {\"completion\": \" a\", \"stop_reason\": \"stop_sequence\", \"model\": \"m\"}\n\n",
    b"data: [DONE]\n\n",
    b"event: ping\ndata: {\"type\": \"ping\"}\n\n",
    b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n",
    b"\r\n", b"\r", b"\n", b": c\n", b"id: 1\n", b"retry: 5\n", b"\xef\xbb\xbf", b"\xff",
]


def build_input(data: bytes) -> tuple[Dialect, Dialect, int, str, list[bytes]]:
    """Derive (source, target, max_event_size, line ending, chunks) from raw fuzz bytes."""
    if len(data) < 4:
        data = data + b"\0" * (4 - len(data))
    source, target = PAIRS[data[0] % len(PAIRS)]
    limit = (64, 256, 4096, 1 << 20)[data[1] % 4]
    eol = "\r\n" if data[1] & 4 else "\n"
    body = bytearray()
    # Bytes with the high bit set pick dictionary fragments; others are literal.
    for byte in data[4:]:
        if byte >= 0xE0:
            body += DICTIONARY[byte % len(DICTIONARY)]
        else:
            body.append(byte)
    raw = bytes(body)
    size = (1, 2, 3, 7, 64, 4096, len(raw) or 1)[data[2] % 7]
    if len(raw) > 256:
        size = max(size, 64)  # feeding long inputs in tiny pieces only slows the search
    chunks = [raw[i : i + size] for i in range(0, len(raw), size)]
    return source, target, limit, eol, chunks


def check_one(data: bytes) -> None:
    """Run one input through the pipeline and assert the invariants."""
    source, target, limit, eol, chunks = build_input(data)
    pipeline = Pipeline(source, target, max_event_size=limit, line_ending=eol, clock=lambda: 0, log_id_factory=lambda: "0" * 64)  # type: ignore[arg-type]
    out = bytearray()
    for chunk in chunks:
        pipeline.receive_data(chunk)
        out += pipeline.data_to_send()
        assert pipeline.reader.parser._pending_size <= limit + 1
    pipeline.receive_data(b"")
    out += pipeline.data_to_send()
    output = bytes(out).replace(b"\r\n", b"\n")
    output.decode("utf-8")
    events = list(sseadapt.iter_events([output]))
    for line in output.split(b"\n"):
        assert line == b"" or line.startswith((b"event: ", b"data: ")), line
    if output:
        assert output.endswith(b"\n\n")
    # The output ends with exactly one of: the target's terminal marker, or its
    # error shape. (Input that breaks the protocol *after* its terminal leaves
    # the complete output alone: pipeline.error is set, nothing is appended.)
    if not events:
        assert not pipeline.ended, "an ended stream always writes something"
        return
    last = events[-1].data
    ends_with_error = last != "[DONE]" and '"error"' in last and _is_error(last)
    terminal = TERMINAL[target]
    if target is Dialect.COMPLETIONS:
        ends_with_terminal = not ends_with_error and _stop_reason(last) is not None
    else:
        ends_with_terminal = output.endswith(terminal)
        assert output.count(terminal) <= 1
    assert ends_with_terminal != ends_with_error, output[-300:]
    if pipeline.complete:
        assert ends_with_terminal
    else:
        assert pipeline.error is not None
    # The plain parser: whole and chunked agree (or fail alike). Short inputs
    # only: Hypothesis checks the property at length (test_sse_parser.py).
    if sum(map(len, chunks)) <= 256:
        assert _parse(chunks, limit) == _parse([b"".join(chunks)], limit)


def _is_error(data: str) -> bool:
    import json

    try:
        payload = json.loads(data)
    except ValueError:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("error"), dict)


def _stop_reason(data: str) -> object:
    import json

    try:
        payload = json.loads(data)
    except ValueError:
        return None
    return payload.get("stop_reason") if isinstance(payload, dict) else None


def _parse(chunks: list[bytes], limit: int) -> object:
    parser = SSEParser(max_event_size=limit)
    got: list[object] = []
    try:
        for chunk in chunks:
            if chunk:
                parser.receive_data(chunk)
                got.extend(parser.events())
        parser.receive_data(b"")
        got.extend(parser.events())
    except SSEAdaptError as exc:
        got.append(("error", type(exc).__name__, getattr(exc, "event_index", None)))
    return got


def main() -> None:
    import atheris

    def test_one_input(data: bytes) -> None:
        try:
            check_one(data)
        except SSEAdaptError:
            pass  # declared exceptions may escape by design; everything else is a finding

    atheris.instrument_all()  # sseadapt is already imported: instrument it in place
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
