"""The proxy end to end over real sockets: real clients, faults, security, headers.

Every server is uvicorn on 127.0.0.1 with a free port, started and stopped by
the test; every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, get_args

import anyio
import httpx
import pytest

import sseadapt.proxy
from sseadapt import Dialect, iter_events
from sseadapt._requests import UntranslatableAnswer, translate_answer
from sseadapt.proxy import DEFAULT_MODEL, ProxyApp, ProxyConfig
from sseadapt.upstream import DEFAULT_TEXT, DemoUpstream, Fault

from .clients import run_client
from .helpers import COMPLETIONS_FIXTURE, HALF_PAIR_ANSWERS, MESSAGES_FIXTURE, MESSAGES_HEAD, answering_app, read_request_body, start_sse_response

LEGACY_HEADERS = {"anthropic-version": "2023-01-01", "x-api-key": "sk-ant-SECRET-KEY-123", "accept": "application/json"}
LEGACY_BODY = {"prompt": "\n\nHuman: Hello!\n\nAssistant:", "model": "claude-v1", "max_tokens_to_sample": 100, "stream": True}


def start_pair(serve: Callable[..., Any], upstream: Any | None = None, **config: Any) -> tuple[Any, Any, DemoUpstream]:
    app = upstream or DemoUpstream()
    up = serve(app)
    config.setdefault("default_model", DEFAULT_MODEL)
    proxy = serve(ProxyApp(ProxyConfig(upstream=up.url, **config)))
    return up, proxy, app


def legacy_stream(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[httpx.Response, bytes]:
    with httpx.Client(timeout=30, trust_env=False) as client:
        with client.stream("POST", url + "/v1/complete", json=body or LEGACY_BODY, headers=headers or LEGACY_HEADERS) as response:
            return response, response.read()


def datas(raw: bytes) -> list[str]:
    return [e.data for e in iter_events([raw])]


# -- real clients ---------------------------------------------------------------

LEGACY_CLIENT = r"""
import json, os, anthropic
client = anthropic.Client(api_key="sk-ant-SECRET-KEY-123", api_url=os.environ["SSEADAPT_URL"])
params = dict(prompt=f"{anthropic.HUMAN_PROMPT} Hello{anthropic.AI_PROMPT}", model="claude-v1", max_tokens_to_sample=100,
              stop_sequences=[anthropic.HUMAN_PROMPT])
stream = [item["completion"] for item in client.completion_stream(**params)]
whole = client.completion(**params)
print(json.dumps({"stream": stream, "whole": whole}))
"""


@pytest.mark.clients
@pytest.mark.parametrize("upstream_api", ["messages", "complete"])
def test_anthropic_0_2_10_through_proxy(serve: Callable[..., Any], upstream_api: str) -> None:
    _, proxy, app = start_pair(serve, upstream_api=upstream_api)
    result = run_client("anthropic-0.2.10", LEGACY_CLIENT, proxy.url)
    stream = result["stream"]
    assert stream[-1] == DEFAULT_TEXT
    assert all(b.startswith(a) for a, b in zip(stream, stream[1:]))
    assert len(stream) == len(DEFAULT_TEXT.split()) + 1  # one per token + the stop event
    whole = result["whole"]
    assert whole["completion"] == DEFAULT_TEXT and whole["stop_reason"] == "stop_sequence"
    assert whole["model"] == (DEFAULT_MODEL if upstream_api == "messages" else "claude-v1")
    if upstream_api == "messages":
        # D10: translated; the "\n\nHuman:" stop sequence is implied by Messages and dropped.
        assert [sorted(r.body) for r in app.log] == [["max_tokens", "messages", "model", "stream"], ["max_tokens", "messages", "model"]]
    else:
        assert [r.body["prompt"] for r in app.log] == ["\n\nHuman: Hello\n\nAssistant:"] * 2
    expected_path = "/v1/messages" if upstream_api == "messages" else "/v1/complete"
    assert [r.path for r in app.log] == [expected_path, expected_path]
    assert all(r.headers["anthropic-version"] == "2023-06-01" for r in app.log)
    assert all(r.headers["x-api-key"] == "sk-ant-SECRET-KEY-123" for r in app.log)
    if upstream_api == "messages":
        assert app.log[0].body["messages"] == [{"role": "user", "content": "Hello"}]


@pytest.mark.clients
def test_current_anthropic_sdk_messages_stream_through_proxy(serve: Callable[..., Any]) -> None:
    anthropic = pytest.importorskip("anthropic")
    _, proxy, app = start_pair(serve)
    client = anthropic.Anthropic(api_key="sk-test", base_url=proxy.url, max_retries=0)
    with client.messages.stream(model=DEFAULT_MODEL, max_tokens=50, messages=[{"role": "user", "content": "Hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == DEFAULT_TEXT
    assert final.content[0].text == DEFAULT_TEXT and final.stop_reason == "end_turn"
    assert app.log[0].path == "/v1/messages"


@pytest.mark.clients
def test_anthropic_0_40_completions_through_proxy(serve: Callable[..., Any]) -> None:
    _, proxy, _ = start_pair(serve)
    script = r"""
import json, os, anthropic
client = anthropic.Anthropic(api_key="sk-test", base_url=os.environ["SSEADAPT_URL"], max_retries=0)
items = [c.completion for c in client.completions.create(model="claude-2.1", prompt="\n\nHuman: Hi\n\nAssistant:", max_tokens_to_sample=50, stream=True)]
print(json.dumps(items))
"""
    items = run_client("anthropic-0.40.0", script, proxy.url)
    assert "".join(items) == DEFAULT_TEXT


# -- headers ------------------------------------------------------------------------


def test_proxy_served_under_a_root_path(serve: Callable[..., Any]) -> None:
    # uvicorn --root-path /api makes the ASGI path "/api/v1/complete": it was passed through
    # to the upstream as that path (a 404) instead of being converted.
    up = serve(DemoUpstream())
    app = up.app
    proxy = serve(ProxyApp(ProxyConfig(upstream=up.url, default_model=DEFAULT_MODEL)), root_path="/api")
    _, raw = legacy_stream(proxy.url)
    assert datas(raw)[-1] == "[DONE]"
    response = httpx.post(proxy.url + "/v1/messages", json={"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]})
    assert response.status_code == 200
    assert [r.path for r in app.log] == ["/v1/messages", "/v1/messages"]


def test_stream_headers_and_request_id(serve: Callable[..., Any]) -> None:
    _, proxy, app = start_pair(serve)
    headers = {**LEGACY_HEADERS, "anthropic-beta": "tools-2024-04-04", "cookie": "session=1", "x-custom": "no"}
    response, raw = legacy_stream(proxy.url, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["request-id"] == "req_demo_1"
    assert "connection" not in response.headers
    seen = app.log[0].headers
    assert seen["anthropic-beta"] == "tools-2024-04-04"
    assert "cookie" not in seen and "x-custom" not in seen
    assert datas(raw)[-1] == "[DONE]"


def test_2023_06_01_client_gets_named_incremental_events(serve: Callable[..., Any]) -> None:
    _, proxy, _ = start_pair(serve)
    response, raw = legacy_stream(proxy.url, headers={**LEGACY_HEADERS, "anthropic-version": "2023-06-01"})
    events = list(iter_events([raw]))
    completions = [json.loads(e.data) for e in events if e.event == "completion"]
    assert "".join(c["completion"] for c in completions) == DEFAULT_TEXT
    assert completions[-1]["stop_reason"] == "stop_sequence"
    assert b"[DONE]" not in raw


def test_unsupported_version_is_400_naming_versions(serve: Callable[..., Any]) -> None:
    _, proxy, app = start_pair(serve)
    response = httpx.post(proxy.url + "/v1/complete", json=LEGACY_BODY, headers={"anthropic-version": "2099-01-01"})
    assert response.status_code == 400
    assert "2023-01-01, 2023-06-01" in response.json()["error"]["message"]
    assert app.log == []


def test_non_streaming_2023_06_01_shape(serve: Callable[..., Any]) -> None:
    _, proxy, _ = start_pair(serve)
    response = httpx.post(proxy.url + "/v1/complete", json={**LEGACY_BODY, "stream": False}, headers={"anthropic-version": "2023-06-01"})
    body = response.json()
    assert list(body) == ["type", "id", "completion", "stop_reason", "model", "stop", "log_id"]
    assert body["completion"] == DEFAULT_TEXT


@pytest.mark.parametrize("client", [Dialect.LEGACY, Dialect.COMPLETIONS])
def test_answer_fields_of_the_wrong_type_become_null(client: Dialect) -> None:
    # As in the streaming converter: an id or model that is not a string is not passed on.
    answer = {"type": "message", "id": ["m"], "model": 5, "stop_reason": "stop_sequence", "stop_sequence": 7, "content": [{"type": "text", "text": "hi"}, {"type": "tool_use"}, "x"]}
    out = translate_answer(answer, Dialect.MESSAGES, client)
    assert (out["completion"], out["model"], out["log_id"], out["stop"], out["stop_reason"]) == ("hi", None, None, None, "stop_sequence")
    with pytest.raises(UntranslatableAnswer, match="completion is a boolean, not a string"):
        translate_answer({"completion": True}, Dialect.COMPLETIONS, Dialect.LEGACY)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"completion": "hi", "stop_reason": "stop_sequence"}, None),  # before Dec 2023 answers had no type
        ({"type": "completion", "completion": "hi"}, None),
        ({"type": "message", "completion": "hi"}, "type is 'message', not 'completion'"),
        ({"type": "error", "error": {"type": "api_error", "message": "m"}}, "type is 'error', not 'completion'"),
        ({"id": "compl_1", "model": "claude-2"}, "no completion: not a completion answer"),
    ],
)
def test_a_2023_06_01_answer_must_be_a_completion_to_become_legacy(answer: dict[str, Any], reason: str | None) -> None:
    if reason is None:
        assert translate_answer(answer, Dialect.COMPLETIONS, Dialect.LEGACY)["completion"] == "hi"
    else:
        with pytest.raises(UntranslatableAnswer) as caught:
            translate_answer(answer, Dialect.COMPLETIONS, Dialect.LEGACY)
        assert str(caught.value) == reason


def test_proxy_reads_a_compressed_legacy_request_and_forwards_a_compressed_passthrough(serve: Callable[..., Any]) -> None:
    # A gzip /v1/complete body was read as JSON as it came (400 "not valid JSON"); a
    # passthrough body went on compressed without its content-encoding.
    passed: list[tuple[bytes | None, bytes]] = []

    async def messages_app(scope: Any, receive: Any, send: Any) -> None:
        raw = await read_request_body(receive)
        passed.append((dict(scope["headers"]).get(b"content-encoding"), raw))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": MESSAGES_FIXTURE})

    _, proxy, app = start_pair(serve, max_body_size=10_000)
    compressed = {**LEGACY_HEADERS, "content-encoding": "gzip", "content-type": "application/json"}
    streamed = datas(httpx.post(proxy.url + "/v1/complete", content=gzip.compress(json.dumps(LEGACY_BODY).encode()), headers=compressed, timeout=30).content)
    assert streamed[-1] == "[DONE]"
    assert json.loads(streamed[-2])["completion"] == DEFAULT_TEXT
    assert app.log[0].body["messages"] == [{"role": "user", "content": "Hello!"}]
    refused = httpx.post(proxy.url + "/v1/complete", content=b"x", headers={**compressed, "content-encoding": "zstd"}, timeout=30)
    assert (refused.status_code, refused.json()["error"]["type"]) == (415, "invalid_request_error")
    bomb = httpx.post(proxy.url + "/v1/complete", content=gzip.compress(b" " * 1_000_000), headers=compressed, timeout=30)
    assert (bomb.status_code, bomb.json()["error"]) == (413, {"type": "request_too_large", "message": "decoded request body exceeds 10000 bytes"})
    assert len(app.log) == 1

    messages_up = serve(messages_app, lifespan="off")
    passthrough = serve(ProxyApp(ProxyConfig(upstream=messages_up.url)))
    body = gzip.compress(json.dumps({"model": "m", "max_tokens": 5, "messages": [], "stream": True}).encode())
    answer = httpx.post(passthrough.url + "/v1/messages", content=body, headers={"content-encoding": "gzip", "content-type": "application/json"}, timeout=30)
    assert answer.content == MESSAGES_FIXTURE
    assert passed == [(b"gzip", body)]


def test_proxy_passes_the_query_string_of_a_translated_request(serve: Callable[..., Any]) -> None:
    # It was dropped from /v1/complete requests (passthrough kept it; so does the middleware).
    asked: list[tuple[str, bytes]] = []

    async def messages_app(scope: Any, receive: Any, send: Any) -> None:
        asked.append((scope["path"], scope["query_string"]))
        await start_sse_response(receive, send)
        await send({"type": "http.response.body", "body": MESSAGES_FIXTURE})

    upstream = serve(messages_app, lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=upstream.url, default_model=DEFAULT_MODEL)))
    raw = httpx.post(proxy.url + "/v1/complete?beta=true&x=a%20b", json=LEGACY_BODY, headers=LEGACY_HEADERS, timeout=30).content
    assert datas(raw)[-1] == "[DONE]"
    assert asked == [("/v1/messages", b"beta=true&x=a%20b")]


@pytest.mark.parametrize("upstream_api", ["messages", "complete"])
def test_a_stream_field_that_is_no_boolean_is_a_400(serve: Callable[..., Any], upstream_api: str) -> None:
    # "stream": "false" read as true here (a stream asked of the upstream, which parses it as false).
    _, proxy, app = start_pair(serve, upstream_api=upstream_api)
    response = httpx.post(proxy.url + "/v1/complete", json={**LEGACY_BODY, "stream": "false"}, headers=LEGACY_HEADERS, timeout=30)
    assert (response.status_code, response.json()) == (400, {"error": {"type": "invalid_request_error", "message": "stream: must be a boolean, not a string"}})
    assert app.log == []
    answer = httpx.post(proxy.url + "/v1/complete", json={**LEGACY_BODY, "stream": None}, headers=LEGACY_HEADERS, timeout=30)
    assert answer.json()["completion"] == DEFAULT_TEXT  # null: no stream, as absent


def test_messages_passthrough_keeps_unknown_events(serve: Callable[..., Any]) -> None:
    class WithUnknown(DemoUpstream):
        def _messages_events(self, model: str) -> list[tuple[str, bytes]]:
            events = super()._messages_events(model)
            events.insert(3, ("meta", b'event: brand_new\ndata: {"type":"brand_new",  "x":1}\n\n'))
            return events

    _, proxy, _ = start_pair(serve, WithUnknown())
    raw = httpx.post(proxy.url + "/v1/messages", json={"model": "m", "max_tokens": 5, "messages": [], "stream": True}).content
    events = list(iter_events([raw]))
    assert [e.data for e in events if e.event == "brand_new"] == ['{"type":"brand_new",  "x":1}']
    assert events[-1].event == "message_stop"


# -- faults -------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["cut", "drop", "error", "invalid-json"])
@pytest.mark.parametrize("upstream_api", ["messages", "complete"])
def test_midstream_faults_end_with_error_shape(serve: Callable[..., Any], fault: str, upstream_api: str) -> None:
    _, proxy, _ = start_pair(serve, DemoUpstream(fault=fault, fault_after=3), upstream_api=upstream_api)  # type: ignore[arg-type]
    response, raw = legacy_stream(proxy.url)
    assert response.status_code == 200
    payloads = [json.loads(d) for d in datas(raw)]
    assert "[DONE]" not in datas(raw)
    last = payloads[-1]
    assert last["stop_reason"] is None
    # Every token that arrived before the fault is kept.
    assert last["completion"] == "".join(DemoUpstream().tokens[:3])
    expected = {
        "cut": ("api_error", "upstream stream ended early (no terminal event)"),
        "drop": ("api_error", "upstream stream ended early (no terminal event)"),
        "error": ("overloaded_error", "Overloaded"),
    }.get(fault)
    if expected:
        assert (last["error"]["type"], last["error"]["message"]) == expected
    else:
        assert last["error"]["type"] == "api_error" and "invalid" in last["error"]["message"]
    assert last["exception"].startswith(last["error"]["type"] + ": ")


MESSAGE_ANSWER = json.dumps({"type": "message", "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn"}).encode()


@pytest.mark.parametrize(
    ("answer", "content_type", "stream", "reason"),
    [
        (MESSAGES_HEAD, "text/event-stream", False, "upstream answered a request without stream with text/event-stream"),
        (MESSAGE_ANSWER, "application/json", True, "upstream answered a stream request with application/json"),
        (b"[1, 2]", "application/json", False, "upstream answered with JSON that is not an object"),
        (b"hello", "text/plain", False, "upstream answered with invalid JSON"),
    ],
)
def test_an_answer_of_the_wrong_kind_is_502_saying_so(
    serve: Callable[..., Any], answer: bytes, content_type: str, stream: bool, reason: str
) -> None:
    upstream = serve(answering_app(answer, content_type=content_type)[0], lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=upstream.url)))
    response = httpx.post(proxy.url + "/v1/complete", json={**LEGACY_BODY, "stream": stream}, headers=LEGACY_HEADERS)
    assert response.status_code == 502
    assert response.json() == {"error": {"type": "api_error", "message": reason}}


def test_other_paths_are_relayed_as_they_come(serve: Callable[..., Any]) -> None:
    upstream = serve(answering_app(b'{"data": [{"id": "claude"}]}', content_type="application/json")[0], lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=upstream.url)))
    response = httpx.get(proxy.url + "/v1/models?limit=1")
    assert (response.status_code, response.headers["content-type"]) == (200, "application/json")
    assert response.content == b'{"data": [{"id": "claude"}]}'
    # A Messages request's JSON answer too: only its streams are checked.
    response = httpx.post(proxy.url + "/v1/messages", json={"model": "m", "max_tokens": 5, "messages": []})
    assert response.content == b'{"data": [{"id": "claude"}]}'


def test_a_content_type_in_utf8_is_relayed_as_its_bytes(serve: Callable[..., Any]) -> None:
    # httpx reads the value as UTF-8, and .encode("latin-1") of "€" raised: a 500.
    content_type = "text/plain; title=\u20ac"
    upstream = serve(answering_app(b"hello", content_type=content_type)[0], lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=upstream.url)))
    response = httpx.get(proxy.url + "/v1/files/1")
    assert response.status_code == 200 and response.content == b"hello"
    assert dict(response.headers.raw)[b"content-type"] == content_type.encode("utf-8")


@pytest.mark.parametrize("corrupt", [False, True], ids=["decodable", "corrupt"])
def test_upstream_compressing_a_stream_anyway_is_decoded(serve: Callable[..., Any], corrupt: bool) -> None:
    app, asked = answering_app(COMPLETIONS_FIXTURE, encoding="gzip", corrupt=corrupt)
    up = serve(app, lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=up.url, upstream_api="complete")))
    raw = httpx.post(proxy.url + "/v1/complete", json=LEGACY_BODY, headers={"accept-encoding": "gzip"}, timeout=30).content
    assert asked == [b"identity"]
    payloads = [json.loads(e.data) for e in iter_events([raw]) if e.data != "[DONE]"]
    if corrupt:
        assert payloads[-1]["exception"].startswith("api_error: upstream stream could not be decoded: ")
        assert b"[DONE]" not in raw
    else:
        assert payloads[-1]["completion"] == " Hello! My name is Claude." and raw.endswith(b"data: [DONE]\n\n")


def test_answer_too_large_to_translate_is_502(serve: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sseadapt.proxy, "_MAX_JSON_RESPONSE", 1000)
    body = {**LEGACY_BODY, "stream": False}
    _, proxy, _ = start_pair(serve)
    small = httpx.post(proxy.url + "/v1/complete", json=body, timeout=30)
    assert small.status_code == 200 and small.json()["completion"] == DEFAULT_TEXT  # the demo's answer fits
    _, proxy, _ = start_pair(serve, DemoUpstream(text="word " * 300))
    large = httpx.post(proxy.url + "/v1/complete", json=body, timeout=30)
    assert large.status_code == 502
    assert large.json() == {"error": {"type": "api_error", "message": "upstream answer is larger than 1000 bytes, the most sseadapt translates"}}


def test_stall_hits_idle_timeout(serve: Callable[..., Any]) -> None:
    _, proxy, app = start_pair(serve, DemoUpstream(fault="stall", fault_after=2), idle_timeout=0.5)
    started = time.monotonic()
    _, raw = legacy_stream(proxy.url)
    assert time.monotonic() - started < 10
    last = json.loads(datas(raw)[-1])
    assert last["error"]["type"] == "timeout_error"
    assert "[DONE]" not in datas(raw)


# Headers a client acts on, as an upstream may spell them, and two it must not get.
_ADVICE = [
    (b"request-id", b"req_up_1"),
    (b"retry-after", b"7"),
    (b"retry-after-ms", b"7000"),
    (b"x-should-retry", b"false"),
    (b"Anthropic-RateLimit-Requests-Remaining", b"0"),
]
_NOT_RELAYED = [(b"set-cookie", b"session=upstream"), (b"x-upstream-internal", b"1")]
_MESSAGE = {"type": "message", "id": "msg_1", "model": "m", "role": "assistant", "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn"}


def advising_upstream(status: int) -> tuple[Callable[..., Any], list[str]]:
    """An upstream answering every request with ``status`` (an overloaded
    error) or 200 (a Messages stream, a message, or a model list), always with
    the headers above; and the paths it was asked for."""
    paths: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_request_body(receive)
        paths.append(scope["path"])
        if status != 200:
            content_type, answer = b"application/json", json.dumps({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}).encode()
        elif scope["path"] == "/v1/models":
            content_type, answer = b"application/json", b'{"data": []}'
        elif json.loads(body).get("stream"):
            content_type, answer = b"text/event-stream", MESSAGES_FIXTURE
        else:
            content_type, answer = b"application/json", json.dumps(_MESSAGE).encode()
        headers = [(b"content-type", content_type), *_ADVICE, *_NOT_RELAYED]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app, paths


def test_answers_and_errors_with_a_lone_surrogate_are_translated(serve: Callable[..., Any]) -> None:
    # JSON may escape half a surrogate pair; the translated answer's str.encode() raised and
    # the client got a 500 with a traceback in the proxy's log.
    for status, answer in HALF_PAIR_ANSWERS.items():
        upstream = serve(answering_app(answer, content_type="application/json", status=status)[0], lifespan="off")
        proxy = serve(ProxyApp(ProxyConfig(upstream=upstream.url)))
        response = httpx.post(proxy.url + "/v1/complete", json={**LEGACY_BODY, "stream": False}, headers=LEGACY_HEADERS, timeout=30)
        assert response.status_code == status
        body = json.loads(response.content.decode("utf-8"))
        assert (body["completion"] if status == 200 else body["error"]["message"]) == "half \ud83d pair"
    # The demo upstream echoes a requested model: the same, on its side.
    _, proxy, _ = start_pair(serve)
    response = httpx.post(proxy.url + "/v1/messages", content=b'{"model": "m\\udc00", "max_tokens": 5, "messages": []}', headers={"anthropic-version": "2023-06-01"})
    assert response.status_code == 200 and json.loads(response.content.decode("utf-8"))["model"] == "m\udc00"


@pytest.mark.parametrize("status", [529, 200])
def test_upstream_request_id_retry_advice_and_rate_limits_reach_the_client(serve: Callable[..., Any], status: int) -> None:
    # Only request-id was relayed: a current SDK retried what the upstream said not to retry,
    # and rate-limit headers never reached anyone.
    app, _ = advising_upstream(status)
    _, proxy, _ = start_pair(serve, app)
    messages_body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}
    requests = [
        ("POST", "/v1/complete", LEGACY_BODY, LEGACY_HEADERS),
        ("POST", "/v1/complete", {**LEGACY_BODY, "stream": False}, LEGACY_HEADERS),
        ("POST", "/v1/complete", LEGACY_BODY, {**LEGACY_HEADERS, "anthropic-version": "2023-06-01"}),
        ("POST", "/v1/messages", {**messages_body, "stream": True}, {"anthropic-version": "2023-06-01"}),
        ("POST", "/v1/messages", messages_body, {"anthropic-version": "2023-06-01"}),
        ("GET", "/v1/models", None, {"anthropic-version": "2023-06-01"}),
    ]
    with httpx.Client(timeout=30, trust_env=False) as client:
        for method, path, body, headers in requests:
            response = client.request(method, proxy.url + path, json=body, headers=headers)
            assert response.status_code == status, (path, body)
            got = [(k.lower(), v) for k, v in response.headers.raw if k.lower() not in (b"date", b"server", b"content-type", b"content-length", b"transfer-encoding", b"cache-control", b"x-accel-buffering")]
            assert got == [(k.lower(), v) for k, v in _ADVICE], (path, body)
            if status == 200 and path == "/v1/complete" and body is not None and body["stream"]:
                last = datas(response.content)[-1]  # the stream was converted, to its end
                if headers is LEGACY_HEADERS:
                    assert last == "[DONE]"
                else:
                    assert json.loads(last)["stop_reason"] == "stop_sequence"


@pytest.mark.clients
def test_current_anthropic_sdk_follows_the_upstreams_retry_advice(serve: Callable[..., Any]) -> None:
    anthropic = pytest.importorskip("anthropic")
    app, paths = advising_upstream(529)  # x-should-retry: false
    _, proxy, _ = start_pair(serve, app)
    client = anthropic.Anthropic(api_key="sk-test", base_url=proxy.url, max_retries=2)
    with pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}])
    assert info.value.status_code == 529 and info.value.request_id == "req_up_1"
    assert paths == ["/v1/messages"]  # not retried (three requests when the header was dropped)


@pytest.mark.parametrize(
    ("fault", "status", "error_type"),
    [("status-529", 529, "overloaded_error"), ("status-500-text", 500, "api_error")],
)
def test_upstream_http_errors_keep_status_in_client_shape(serve: Callable[..., Any], fault: str, status: int, error_type: str) -> None:
    _, proxy, _ = start_pair(serve, DemoUpstream(fault=fault))  # type: ignore[arg-type]
    for version, has_type in (("2023-01-01", False), ("2023-06-01", False)):
        response = httpx.post(proxy.url + "/v1/complete", json=LEGACY_BODY, headers={**LEGACY_HEADERS, "anthropic-version": version})
        assert response.status_code == status
        body = response.json()
        assert ("type" in body) is has_type
        assert body["error"]["type"] == error_type
        assert response.headers.get("request-id") == ("req_demo_0" if fault == "status-529" else None)
    if fault == "status-500-text":
        assert body["error"]["message"] == "upstream exploded"
    # Messages clients get the upstream body unchanged (D13).
    response = httpx.post(proxy.url + "/v1/messages", json={"model": "m", "max_tokens": 5, "messages": [], "stream": True})
    assert response.status_code == status


def test_unreachable_upstream_is_502(serve: Callable[..., Any]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    proxy = serve(ProxyApp(ProxyConfig(upstream=f"http://127.0.0.1:{dead_port}")))
    response = httpx.post(proxy.url + "/v1/complete", json=LEGACY_BODY, headers=LEGACY_HEADERS)
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "api_error"
    assert "type" not in response.json()


def test_upstream_slow_to_answer_is_504(serve: Callable[..., Any]) -> None:
    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await anyio.sleep(5)

    up = serve(slow, lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=up.url, idle_timeout=0.3)))
    response = httpx.post(proxy.url + "/v1/complete", json=LEGACY_BODY, headers=LEGACY_HEADERS, timeout=10)
    assert response.status_code == 504
    assert response.json() == {"error": {"type": "timeout_error", "message": "upstream timed out"}}


def test_client_disconnect_cancels_upstream(serve: Callable[..., Any]) -> None:
    _, proxy, app = start_pair(serve, DemoUpstream(delay=0.1))
    with httpx.Client(timeout=30, trust_env=False) as client:
        with client.stream("POST", proxy.url + "/v1/complete", json=LEGACY_BODY, headers=LEGACY_HEADERS) as response:
            lines = response.iter_lines()
            got = [line for _, line in zip(range(3), lines)]
            assert got[0].startswith("data: ")
    deadline = time.monotonic() + 5
    while app.log[0].outcome == "pending" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.log[0].outcome == "client-disconnected"
    # Promptly: well before the remaining ~2 s of events would have been sent.
    assert app.log[0].finished_at is not None


def test_the_log_line_tells_each_requests_outcome(serve: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    # Every request was logged as "client disconnected; upstream request
    # cancelled": once an answer is complete, uvicorn reports a disconnect.
    caplog.set_level(logging.INFO, logger="sseadapt.proxy")
    _, proxy, app = start_pair(serve, DemoUpstream(delay=0.02))
    for _ in range(3):
        assert datas(legacy_stream(proxy.url)[1])[-1] == "[DONE]"
        assert httpx.post(proxy.url + "/v1/complete", json={**LEGACY_BODY, "stream": False}, headers=LEGACY_HEADERS).status_code == 200
    with httpx.Client(timeout=30, trust_env=False) as client:
        with client.stream("POST", proxy.url + "/v1/complete", json=LEGACY_BODY, headers=LEGACY_HEADERS) as response:
            assert [line for _, line in zip(range(3), response.iter_lines())][0].startswith("data: ")
    deadline = time.monotonic() + 5
    while len(caplog.records) < 7 and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 7, lines
    events = len(DEFAULT_TEXT.split())
    for streamed, whole in zip(lines[0:6:2], lines[1:6:2]):
        done = re.fullmatch(r"POST /v1/complete -> 200 in \S+ \(upstream \S+, (\d+) events, complete\)", streamed)
        assert done is not None and int(done[1]) > events, streamed  # (the words, and the message's other events)
        assert whole.startswith("POST /v1/complete -> 200 ") and whole.endswith(", 0 events)"), whole
    left = re.fullmatch(r"POST /v1/complete -> 200 in \S+ \(upstream \S+, (\d+) events, client disconnected; upstream request cancelled\)", lines[6])
    assert left is not None and int(left[1]) > 0, lines[6]  # (it said 0 events)
    assert [r.outcome for r in app.log] == ["complete"] * 6 + ["client-disconnected"]


def test_a_client_that_stops_reading_has_its_answer_abandoned_and_frees_its_slot(serve: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    # A client that keeps its connection open but reads nothing used to hold
    # its upstream request, and one of max_upstream_connections, for good:
    # with one slot, every later request waited, then got 503.
    caplog.set_level(logging.INFO, logger="sseadapt.proxy")
    _, proxy, app = start_pair(serve, DemoUpstream(text="word " * 2000), max_upstream_connections=1, connect_timeout=2, send_timeout=0.5)
    body = json.dumps(LEGACY_BODY).encode()
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # (before connecting: it sets the window)
    try:
        stalled.connect((proxy.host, proxy.port))
        stalled.sendall(
            b"POST /v1/complete HTTP/1.1\r\nhost: proxy\r\ncontent-type: application/json\r\nanthropic-version: 2023-01-01\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )
        # The legacy stream (cumulative, ~10 MB for 2,000 words) fills the connection; nothing is read.
        deadline = time.monotonic() + 15
        while not any("client stopped reading" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.05)
        line = next(r.getMessage() for r in caplog.records if "client stopped reading" in r.getMessage())
        assert "POST /v1/complete -> 200" in line and "a send waited 0.5s" in line and "upstream request cancelled" in line
        # The slot is free again.
        reply = httpx.post(proxy.url + "/v1/complete", json={**LEGACY_BODY, "stream": False}, headers=LEGACY_HEADERS, timeout=10)
        assert reply.status_code == 200
        assert reply.json()["completion"].startswith("word word")
        # The connection is closed once what was buffered is read, and never ends as complete.
        stalled.settimeout(10)
        received = bytearray()
        while len(received) < 64 * 1024 * 1024 and time.monotonic() < deadline + 30:
            chunk = stalled.recv(1 << 20)
            if not chunk:
                break
            received += chunk
        assert not chunk, "the connection stayed open"
        assert received.startswith(b"HTTP/1.1 200 ")
        assert b"data: [DONE]" not in received and not received.endswith(b"0\r\n\r\n")
    finally:
        stalled.close()
    assert [r.outcome for r in app.log] == ["complete", "complete"]


class HeldUpstream:
    """Messages streams that start, then wait until released (at most 20 s)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.open = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await start_sse_response(receive, send)
        await send({"type": "http.response.body", "body": MESSAGES_HEAD, "more_body": True})
        self.open += 1
        deadline = time.monotonic() + 20
        while not self.release.is_set() and time.monotonic() < deadline:
            await anyio.sleep(0.01)
        await send({"type": "http.response.body", "more_body": False, "body": (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n'
            b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
            b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}\n\n'
            b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        )})


async def _hold_streams(client: httpx.AsyncClient, url: str, count: int, stack: contextlib.AsyncExitStack) -> list[httpx.Response]:
    """Open ``count`` legacy streams through the proxy and read each one's first bytes."""
    responses = []
    for _ in range(count):
        response = await stack.enter_async_context(client.stream("POST", url + "/v1/complete", json=LEGACY_BODY, headers=LEGACY_HEADERS))
        assert response.status_code == 200
        responses.append(response)
    return responses


def _legacy_completion(raw: bytes) -> str:
    events = datas(raw)
    assert events[-1] == "[DONE]", events[-3:]
    return str(json.loads(events[-2])["completion"])


def test_upstream_request_limit_answers_503_then_recovers(serve: Callable[..., Any]) -> None:
    upstream = HeldUpstream()
    up = serve(upstream, lifespan="off")
    proxy = serve(ProxyApp(ProxyConfig(upstream=up.url, default_model=DEFAULT_MODEL, max_upstream_connections=2, connect_timeout=0.5)))

    async def run() -> None:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as client, contextlib.AsyncExitStack() as stack:
            with anyio.fail_after(30):
                held = await _hold_streams(client, proxy.url, 2, stack)
                while upstream.open < 2:
                    await anyio.sleep(0.01)
                started = time.monotonic()
                third = await client.post(proxy.url + "/v1/complete", json=LEGACY_BODY, headers=LEGACY_HEADERS)
                assert third.status_code == 503
                assert third.json() == {"error": {"type": "overloaded_error", "message": "the proxy has no free upstream connection"}}
                assert time.monotonic() - started >= 0.5  # it waited connect_timeout for a free slot
                assert upstream.open == 2  # and never reached the upstream
                upstream.release.set()
                assert [_legacy_completion(await response.aread()) for response in held] == ["Hi", "Hi"]
                async with client.stream("POST", proxy.url + "/v1/complete", json=LEGACY_BODY, headers=LEGACY_HEADERS) as fourth:
                    assert fourth.status_code == 200
                    assert _legacy_completion(await fourth.aread()) == "Hi"

    asyncio.run(run())


def test_concurrent_streams_are_spread_over_small_pools(serve: Callable[..., Any]) -> None:
    # httpcore scans a whole pool to place each request: past 32 streams the
    # proxy opens another pool (each an httpx client) instead of growing one.
    upstream = HeldUpstream()
    up = serve(upstream, lifespan="off")
    app = ProxyApp(ProxyConfig(upstream=up.url, default_model=DEFAULT_MODEL))
    proxy = serve(app)

    async def run() -> None:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as client, contextlib.AsyncExitStack() as stack:
            with anyio.fail_after(30):
                held = await _hold_streams(client, proxy.url, 40, stack)
                while upstream.open < 40:
                    await anyio.sleep(0.01)
                assert len(app._clients) == 2
                assert app._streams == [32, 8]
                upstream.release.set()
                assert {_legacy_completion(await response.aread()) for response in held} == {"Hi"}

    asyncio.run(run())
    assert app._streams == [0, 0]


# -- safety -------------------------------------------------------------------------


def test_absolute_url_and_host_header_cannot_redirect(serve: Callable[..., Any]) -> None:
    _, proxy, app = start_pair(serve)
    body = json.dumps({**LEGACY_BODY, "stream": False}).encode()
    request = (
        b"POST http://evil.example:9/v1/complete HTTP/1.1\r\nHost: evil.example:9\r\n"
        b"anthropic-version: 2023-01-01\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )
    with socket.create_connection((proxy.host, proxy.port), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert len(app.log) == 1  # it went to the configured upstream
    assert app.log[0].headers["host"] != "evil.example:9"


def test_api_key_never_logged(serve: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, proxy, _ = start_pair(serve)
    legacy_stream(proxy.url)
    httpx.post(proxy.url + "/v1/complete", json={**LEGACY_BODY, "stream": False}, headers={**LEGACY_HEADERS, "authorization": "Bearer sk-ant-SECRET-KEY-123"})
    proxy_lines = [r.getMessage() for r in caplog.records if r.name.startswith("sseadapt")]
    assert any("POST /v1/complete -> 200" in line for line in proxy_lines)
    assert all("SECRET" not in r.getMessage() for r in caplog.records)


def test_credentials_in_the_upstream_url_are_sent_but_never_logged(serve: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    # They were in every upstream request's URL, which httpx logs at INFO.
    caplog.set_level(logging.DEBUG)
    app = DemoUpstream()
    up = serve(app)
    config = ProxyConfig(upstream=up.url.replace("http://", "http://gw:URL-SECRET%21@"), default_model=DEFAULT_MODEL)
    proxy = serve(ProxyApp(config))
    assert datas(legacy_stream(proxy.url, headers={"anthropic-version": "2023-01-01"})[1])[-1] == "[DONE]"
    assert app.log[0].headers["authorization"] == "Basic " + base64.b64encode(b"gw:URL-SECRET!").decode()
    assert any(r.name == "httpx" for r in caplog.records)  # the request line was logged, without them
    assert all("URL-SECRET" not in r.getMessage() for r in caplog.records)
    assert "URL-SECRET" not in repr(config)


def test_oversized_body_is_413(serve: Callable[..., Any]) -> None:
    _, proxy, app = start_pair(serve, max_body_size=1000)
    big = {**LEGACY_BODY, "prompt": "\n\nHuman: " + "x" * 5000 + "\n\nAssistant:"}
    response = httpx.post(proxy.url + "/v1/complete", json=big, headers=LEGACY_HEADERS)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"
    assert app.log == []


@pytest.mark.parametrize("declared", [b"\xb2", b"1\xb3", b"-1", b"1e3", b""])
def test_a_content_length_that_is_no_ascii_number_is_not_trusted(declared: bytes) -> None:
    # b"\xb2" is "²" in latin-1 (how ASGI headers are read), which passes str.isdigit() and
    # then int() raised ValueError (uvicorn refuses such a header itself; another ASGI
    # server may hand it on). The body's real size decides.
    from sseadapt._asgi import BodyTooLarge, read_body

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"x" * 10, "more_body": False}

    scope = {"type": "http", "headers": [(b"content-length", declared)]}
    assert anyio.run(read_body, scope, receive, 100) == b"x" * 10
    with pytest.raises(BodyTooLarge):
        anyio.run(read_body, scope, receive, 5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1]", "JSON object"),
        (b'{"prompt": ' + b"[" * 256 + b"]" * 256 + b"}", "nested deeper than 256 levels"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 256 levels"),
        (json.dumps({**LEGACY_BODY, "frobnicate": 1}).encode(), "frobnicate"),
        (json.dumps({**LEGACY_BODY, "prompt": "Hello"}).encode(), "Human"),
        (json.dumps({**LEGACY_BODY, "prompt": "\n\nHuman: Hi"}).encode(), "Assistant"),
        (json.dumps({**LEGACY_BODY, "prompt": "\n\nAssistant: Hi\n\nHuman: Hi\n\nAssistant:"}).encode(), "must start with"),
    ],
)
def test_bad_legacy_request_is_400_in_legacy_shape(serve: Callable[..., Any], body: bytes, message: str) -> None:
    _, proxy, app = start_pair(serve)
    response = httpx.post(proxy.url + "/v1/complete", content=body, headers={**LEGACY_HEADERS, "content-type": "application/json"})
    assert response.status_code == 400
    assert list(response.json()) == ["error"]
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert message in response.json()["error"]["message"]
    assert app.log == []


@pytest.mark.parametrize(
    "setting",
    [
        {"max_body_size": 0},
        {"connect_timeout": 0},
        {"idle_timeout": -1.0},
        {"idle_timeout": float("nan")},
        {"send_timeout": 0},
        {"send_timeout": float("inf")},
        {"max_event_size": 0},
        {"max_upstream_connections": 0},
        {"max_upstream_connections": True},
        {"max_upstream_connections": 2.5},
        {"connect_timeout": "10"},
        {"upstream_api": "chat"},
        {"legacy_ping": "sometimes"},
        {"upstream": 5},
        {"upstream": "api.anthropic.com"},
        {"upstream": "ftp://127.0.0.1"},
        {"upstream": "http://"},
        {"upstream": "http://127.0.0.1:99999"},
        {"upstream": "http://[::1"},
        {"upstream": "http://127.0.0.1/?beta=true"},
        {"default_model": ""},
        {"default_model": 5},
        {"model_map": [["claude-2", "m"]]},
        {"model_map": {"claude-2": None}},
    ],
)
def test_proxy_config_refuses_settings_it_cannot_work_with(setting: dict[str, Any]) -> None:
    name = next(iter(setting))
    with pytest.raises(ValueError, match=f"ProxyConfig.{name} must"):
        ProxyConfig(**{"upstream": "http://127.0.0.1:1", **setting})


def test_proxy_config_round_trips_through_json_and_refuses_json_it_cannot_take() -> None:
    config = ProxyConfig(upstream="http://127.0.0.1:1", model_map={"a": "b"}, send_timeout=7.5, legacy_ping="keep")
    assert ProxyConfig.from_json(config.to_json()) == config
    # Each raised a different Python error (JSONDecodeError, TypeError from **, from __init__).
    for text, message in [
        ("not json", "ProxyConfig JSON is not valid JSON: Expecting value"),
        ("[1]", "ProxyConfig JSON must be an object of its fields, not list"),
        ('{"upstream": "http://x", "idle": 1, "bogus": 2}', "ProxyConfig JSON has no such field: 'bogus', 'idle'"),
        ("{}", "ProxyConfig JSON lacks 'upstream'"),
        ('{"upstream": "http://x", "send_timeout": 0}', "ProxyConfig.send_timeout must be a finite number above 0, not 0"),
    ]:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
            ProxyConfig.from_json(text)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, 'SSEADAPT_PROXY_CONFIG is not set: it holds the configuration as JSON, e.g. {"upstream": "https://api.anthropic.com"}'),  # was KeyError
        ({"SSEADAPT_PROXY_CONFIG": ""}, "SSEADAPT_PROXY_CONFIG: ProxyConfig JSON is not valid JSON"),
        ({"SSEADAPT_PROXY_CONFIG": '{"upstream": "ftp://user:SECRET@x"}'}, "SSEADAPT_PROXY_CONFIG: ProxyConfig.upstream must be an http(s) URL with a host (a path is kept; no query), not 'ftp://***@x'"),
        ({"SSEADAPT_PROXY_CONFIG": '{"upstream": "http://x"}', "SSEADAPT_PROXY_LOG_LEVEL": "loud"}, "SSEADAPT_PROXY_LOG_LEVEL: log level must be one of debug, info, warning, error, not 'loud'"),
    ],
)
def test_the_app_factory_names_the_variable_it_cannot_use(env: dict[str, str], message: str) -> None:
    # Through uvicorn --factory, as documented: uvicorn prints the factory's error.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SSEADAPT_PROXY_")}
    done = subprocess.run(
        [sys.executable, "-m", "uvicorn", "--factory", "sseadapt.proxy:create_app_from_env", "--port", "0"],
        capture_output=True, text=True, timeout=60, env={**clean, **env},
    )
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
    assert "SECRET" not in done.stderr


@pytest.mark.parametrize(
    ("argument", "error", "message"),
    [
        ({"fault": "nope"}, ValueError, "fault must be None or one of error, cut, drop"),  # was served without a fault
        ({"fault": "status-429"}, ValueError, "fault must be None or one of"),
        ({"delay": "0.1"}, TypeError, "delay must be a number of seconds, not str"),  # was a 500 per request
        ({"delay": -1}, ValueError, "delay must be a finite number of seconds, 0 or more"),
        ({"delay": float("nan")}, ValueError, "delay must be a finite number"),
        ({"delay": True}, TypeError, "delay must be a number"),
        ({"fault_after": -1}, ValueError, "fault_after must be 0 or more"),
        ({"fault_after": 2.5}, TypeError, "fault_after must be an int, not float"),
        ({"text": b"hi"}, TypeError, "text must be a str, not bytes"),  # was an AttributeError
        ({"model": ""}, ValueError, "model must not be empty"),
        ({"model": None}, TypeError, "model must be a str, not NoneType"),
    ],
)
def test_demo_upstream_refuses_arguments_it_cannot_work_with(argument: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^DemoUpstream {message}"):
        DemoUpstream(**argument)


def test_demo_upstream_takes_every_fault_and_the_edges() -> None:
    for fault in get_args(Fault):
        assert DemoUpstream(fault=fault, fault_after=0, delay=0).fault == fault
    assert DemoUpstream(text="", delay=2).tokens == [""]


def test_proxy_config_takes_upstream_urls_with_a_path() -> None:
    # A gateway that serves the API under a prefix; the path is kept (D10's paths are appended).
    for url in ("https://api.anthropic.com", "http://127.0.0.1:8080/", "https://gateway.example/anthropic", "http://[::1]:8080"):
        assert ProxyConfig(upstream=url, model_map={"claude-2": "claude-sonnet-5-5"}, default_model="m").upstream == url
