"""Real clients read sseadapt's output over HTTP from a loopback server.

* ``anthropic==0.2.10`` (the legacy 2023-01-01 consumer), sync and async, in
  its own virtual environment;
* ``anthropic==0.40.0`` (``completions.create(stream=True)``, 2023-06-01), in
  its own virtual environment;
* the current ``openai`` SDK (``chat.completions.create(stream=True)``), in
  the test environment.
"""

from __future__ import annotations

import pytest

from sseadapt import convert_bytes

from .clients import run_client, serve_sse
from .helpers import FIXTURES

pytestmark = pytest.mark.clients

MESSAGES_TEXT = (FIXTURES / "v2023-06-01_messages_text-only.sse").read_bytes()
MESSAGES_TOOL = (FIXTURES / "v2023-06-01_messages_text-tool-use_usage.sse").read_bytes()
MESSAGES_ERROR = (FIXTURES / "v2023-06-01_messages_error-midstream.sse").read_bytes()
COMPLETIONS_DOC = (FIXTURES / "v2023-06-01_text-completion_incremental_ping.sse").read_bytes()
TEXT = " Hello! My name is Claude."

LEGACY_SCRIPT = r"""
import asyncio, json, os, anthropic
client = anthropic.Client(api_key="sk-test", api_url=os.environ["SSEADAPT_URL"])
params = dict(prompt=f"{anthropic.HUMAN_PROMPT} Hello{anthropic.AI_PROMPT}", model="claude-v1",
              max_tokens_to_sample=50, stop_sequences=[anthropic.HUMAN_PROMPT])
sync_items = list(client.completion_stream(**params))
async def collect():
    return [item async for item in await client.acompletion_stream(**params)]
async_items = asyncio.run(collect())
print(json.dumps({"sync": sync_items, "async": async_items, "version": anthropic.__version__ if hasattr(anthropic, "__version__") else None}))
"""


@pytest.mark.parametrize("source,raw", [("messages", MESSAGES_TEXT), ("completions", COMPLETIONS_DOC), ("messages", MESSAGES_TOOL)])
@pytest.mark.parametrize("options", [{}, {"line_ending": "\r\n"}, {"ping": "keep"}])
def test_anthropic_0_2_10_reads_legacy_output(source: str, raw: bytes, options: dict[str, str]) -> None:
    legacy = convert_bytes(raw, source, "legacy", **options)  # type: ignore[arg-type, unused-ignore]
    # Each input carries one ping: kept only on request (D2), so the client must skip it.
    assert legacy.count(b'event: ping\ndata: {"type": "ping"}') == (1 if options.get("ping") == "keep" else 0)
    with serve_sse(legacy) as (url, recorded):
        result = run_client("anthropic-0.2.10", LEGACY_SCRIPT, url)
    for items in (result["sync"], result["async"]):
        assert items, "the legacy client yielded nothing"
        completions = [item["completion"] for item in items]
        # Cumulative: every item extends the one before; the last is the whole text.
        assert all(b.startswith(a) for a, b in zip(completions, completions[1:]))
        assert completions[-1] == TEXT
        assert items[-1]["stop_reason"] == "stop_sequence"
        assert all(item["stop_reason"] is None for item in items[:-1])
        assert len(items) == 8
    assert recorded.requests[0]["path"] == "/v1/complete"
    assert recorded.requests[0]["headers"]["Anthropic-Version"] == "2023-01-01"


def test_anthropic_0_2_10_sees_error_shape_and_finishes() -> None:
    legacy = convert_bytes(MESSAGES_ERROR, "messages", "legacy")
    with serve_sse(legacy) as (url, _):
        result = run_client("anthropic-0.2.10", LEGACY_SCRIPT, url)
    for items in (result["sync"], result["async"]):
        assert [i["completion"] for i in items] == [" Hello", " Hello!", " Hello!"]
        assert items[-1]["exception"] == "overloaded_error: Overloaded"
        assert items[-1]["error"] == {"type": "overloaded_error", "message": "Overloaded"}


def test_anthropic_0_2_10_sees_truncation_shape() -> None:
    cut = MESSAGES_TEXT[: MESSAGES_TEXT.index(b"event: content_block_stop")]
    legacy = convert_bytes(cut, "messages", "legacy")
    with serve_sse(legacy) as (url, _):
        result = run_client("anthropic-0.2.10", LEGACY_SCRIPT, url)
    last = result["sync"][-1]
    assert last["completion"] == TEXT and last["stop_reason"] is None
    assert last["exception"] == "api_error: upstream stream ended early (no terminal event)"


COMPLETIONS_SCRIPT = r"""
import json, os, anthropic
client = anthropic.Anthropic(api_key="sk-test", base_url=os.environ["SSEADAPT_URL"], max_retries=0)
out = {"items": [], "error": None}
try:
    for item in client.completions.create(model="claude-2.1", prompt="\n\nHuman: Hello\n\nAssistant:",
                                          max_tokens_to_sample=50, stream=True):
        out["items"].append({"completion": item.completion, "stop_reason": item.stop_reason,
                             "model": item.model, "id": getattr(item, "id", None)})
except anthropic.APIStatusError as exc:
    out["error"] = {"class": type(exc).__name__, "status": exc.status_code, "body": exc.body}
out["version"] = anthropic.__version__
print(json.dumps(out))
"""


@pytest.mark.parametrize(
    "source,raw", [("messages", MESSAGES_TEXT), ("completions", COMPLETIONS_DOC), ("legacy", (FIXTURES / "legacy-2023-01-01_text-completion_cumulative_done.sse").read_bytes())]
)
@pytest.mark.parametrize("line_ending", ["\n", "\r\n"])
def test_anthropic_0_40_reads_2023_06_01_output(source: str, raw: bytes, line_ending: str) -> None:
    body = convert_bytes(raw, source, "completions", line_ending=line_ending)  # type: ignore[arg-type, unused-ignore]
    with serve_sse(body, chunk=7) as (url, recorded):
        result = run_client("anthropic-0.40.0", COMPLETIONS_SCRIPT, url)
    assert result["version"] == "0.40.0"
    assert result["error"] is None
    items = result["items"]
    assert "".join(i["completion"] for i in items) == TEXT
    assert items[-1]["stop_reason"] == "stop_sequence"
    assert all(i["stop_reason"] is None for i in items[:-1])
    assert recorded.requests[0]["headers"]["anthropic-version"] == "2023-06-01"
    if source == "messages":
        assert {i["id"] for i in items} == {"msg_01Hq5sWzTbP3kVnY8fRcJd2M"}
        assert {i["model"] for i in items} == {"claude-sonnet-4-5-20250929"}


def test_anthropic_0_40_raises_on_error_shape() -> None:
    body = convert_bytes(MESSAGES_ERROR, "messages", "completions")
    with serve_sse(body) as (url, _):
        result = run_client("anthropic-0.40.0", COMPLETIONS_SCRIPT, url)
    assert "".join(i["completion"] for i in result["items"]) == " Hello!"
    assert result["error"]["status"] == 200
    assert result["error"]["body"] == {"error": {"type": "overloaded_error", "message": "Overloaded"}}


# -- openai, in the test environment ---------------------------------------------


def _openai_stream(url: str) -> tuple[str, dict[int, dict[str, str]], list[str | None], object]:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(api_key="sk-test", base_url=url + "/v1", max_retries=0)
    text = ""
    calls: dict[int, dict[str, str]] = {}
    finishes: list[str | None] = []
    usage = None
    stream = client.chat.completions.create(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finishes.append(choice.finish_reason)
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = call.id or entry["id"]
                if call.function is not None:
                    entry["name"] = call.function.name or entry["name"]
                    entry["arguments"] += call.function.arguments or ""
    return text, calls, finishes, usage


def test_openai_sdk_reassembles_text_tool_call_and_usage() -> None:
    import json

    body = convert_bytes(MESSAGES_TOOL, "messages", "openai", include_usage=True)
    with serve_sse(body, chunk=11) as (url, recorded):
        text, calls, finishes, usage = _openai_stream(url)
    assert recorded.requests[0]["path"] == "/v1/chat/completions"
    assert text == TEXT
    assert calls[0]["id"] == "toolu_01T1x1fJ34qAmk2tNTrN7Up6" and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"location": "San Francisco, CA"}
    assert finishes[-1] == "tool_calls"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (472, 54, 526)  # type: ignore[attr-defined]


def test_openai_sdk_raises_api_error_on_error_shape() -> None:
    openai = pytest.importorskip("openai")
    body = convert_bytes(MESSAGES_ERROR, "messages", "openai")
    with serve_sse(body) as (url, _):
        with pytest.raises(openai.APIError) as info:
            _openai_stream(url)
    assert "Overloaded" in str(info.value)
    assert info.value.body["type"] == "overloaded_error"  # type: ignore[index, unused-ignore]
