"""Test helpers: write Anthropic streams, generate valid ones, fold them simply."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Text with the characters converters must get right.
TRICKY_TEXT = st.lists(
    st.sampled_from(list("ab ") + ["é", "👋", '"', "\\", "\n", "\r", "\t", "[DONE]", "\u2028", "data: ", "\x00"]),
    max_size=8,
).map("".join)
TEXT = TRICKY_TEXT | st.text(st.characters(exclude_categories=["Cs"]), max_size=10)


def sse(name: str | None, payload: Any, *, compact: bool = True) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(
        payload, ensure_ascii=False, separators=(",", ":") if compact else (", ", ": ")
    )
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {data}\n\n".encode()


PING = sse("ping", '{"type": "ping"}')
UNKNOWN = sse("future_event", {"type": "future_event", "x": [1, 2]})


@st.composite
def messages_stream(draw: st.DrawFn) -> tuple[list[bytes], dict[str, Any]]:
    """A valid Messages stream (events as bytes) and the final message a simple fold expects."""
    fillers = st.lists(st.sampled_from([PING, UNKNOWN]), max_size=2)
    msg_id = "msg_" + draw(st.text("abcXYZ0189", min_size=1, max_size=8))
    model = draw(st.sampled_from(["claude-sonnet-4-5-20250929", "claude-3-haiku", "modèle-ü"]))
    usage = {"input_tokens": draw(st.integers(0, 5000)), "output_tokens": draw(st.integers(0, 5))}
    events = [
        sse("message_start", {"type": "message_start", "message": {"id": msg_id, "type": "message", "role": "assistant", "content": [], "model": model, "stop_reason": None, "stop_sequence": None, "usage": usage}})
    ]
    events += draw(fillers)
    content: list[dict[str, Any]] = []
    for index in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["text", "tool_use", "thinking"]))
        if kind == "text":
            events.append(sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
            pieces = draw(st.lists(TEXT, max_size=5))
            for piece in pieces:
                events.append(sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}))
                events += draw(fillers)
            content.append({"type": "text", "text": "".join(pieces)})
        elif kind == "tool_use":
            tool_input = draw(st.dictionaries(st.text("abc", min_size=1, max_size=3), TEXT | st.integers(), max_size=3))
            raw = json.dumps(tool_input, ensure_ascii=False)
            cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=4)))
            fragments = [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]
            events.append(sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": f"toolu_{index}", "name": "get_weather", "input": {}}}))
            for fragment in [""] + fragments:
                events.append(sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": fragment}}))
            content.append({"type": "tool_use", "id": f"toolu_{index}", "name": "get_weather", "input": tool_input})
        else:
            pieces = draw(st.lists(TEXT, max_size=3))
            events.append(sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "thinking", "thinking": ""}}))
            for piece in pieces:
                events.append(sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": piece}}))
            events.append(sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": "sig"}}))
            content.append({"type": "thinking", "thinking": "".join(pieces), "signature": "sig"})
        events.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        events += draw(fillers)
    stop_reason = draw(st.sampled_from(["end_turn", "stop_sequence", "max_tokens", "tool_use", "refusal", "pause_turn", "model_context_window_exceeded", "brand_new_reason"]))
    stop_sequence = "\n\nHuman:" if stop_reason == "stop_sequence" else None
    out_tokens = draw(st.integers(0, 9999))
    events.append(sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence}, "usage": {"output_tokens": out_tokens}}))
    events += draw(fillers)
    events.append(sse("message_stop", {"type": "message_stop"}))
    final = {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": model,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": {**usage, "output_tokens": out_tokens},
    }
    return events, final


@st.composite
def completions_stream(draw: st.DrawFn, legacy: bool = False) -> tuple[list[bytes], tuple[str, str, str]]:
    """A valid completions stream and its (text, stop_reason, model)."""
    model = draw(st.sampled_from(["claude-2.0", "claude-instant-1.2"]))
    pieces = draw(st.lists(TEXT, max_size=8))
    stop_reason = draw(st.sampled_from(["stop_sequence", "max_tokens"]))
    events: list[bytes] = []
    so_far = ""
    for piece in pieces:
        if draw(st.booleans()):
            events.append(PING)
        if legacy:
            so_far += piece
            events.append(sse(None, {"completion": so_far, "stop_reason": None, "model": model, "truncated": False, "stop": None, "log_id": "abc", "exception": None}, compact=False))
        else:
            events.append(sse("completion", {"type": "completion", "completion": piece, "stop_reason": None, "model": model}, compact=False))
            if draw(st.booleans()):
                events.append(UNKNOWN)
    text = "".join(pieces)
    if legacy:
        events.append(sse(None, {"completion": text, "stop_reason": stop_reason, "model": model, "truncated": False, "stop": None, "log_id": "abc", "exception": None}, compact=False))
        events.append(b"data: [DONE]\n\n")
    else:
        events.append(sse("completion", {"type": "completion", "completion": "", "stop_reason": stop_reason, "model": model}, compact=False))
    return events, (text, stop_reason, model)


def reference_fold_messages(events: list[bytes]) -> dict[str, Any]:
    """A straightforward fold, independent of sseadapt: LF-only, one data line per event."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for raw in events:
        lines = raw.decode().split("\n")
        data = next(line[6:] for line in lines if line.startswith("data: "))
        obj = json.loads(data)
        kind = obj.get("type")
        if kind == "message_start":
            message = obj["message"]
        elif kind == "content_block_start":
            message["content"].append(dict(obj["content_block"]))
            partial[obj["index"]] = ""
        elif kind == "content_block_delta":
            block, delta = message["content"][obj["index"]], obj["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial[obj["index"]] += delta["partial_json"]
        elif kind == "content_block_stop":
            block = message["content"][obj["index"]]
            if block["type"] == "tool_use" and partial[obj["index"]]:
                block["input"] = json.loads(partial[obj["index"]])
        elif kind == "message_delta":
            message.update(obj["delta"])
            message["usage"].update(obj["usage"])
    return message
