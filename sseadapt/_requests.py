"""Sans-I/O translation of requests, non-streaming responses and HTTP errors.

Used by the proxy and the middleware; no I/O here. References are to
``../shared/spec/wire-formats.md``:

* D10, D15-D17: a legacy ``/v1/complete`` request body becomes a Messages
  request, following Anthropic's "Migrating from Text Completions to
  Messages" guide: text before the first ``"\\n\\nHuman:"`` is the system
  prompt (an ``"\\n\\nAssistant:"`` turn there is refused), the turns
  alternate, text after the final ``"\\n\\nAssistant:"`` is an assistant
  prefill (trailing whitespace stripped), the one space after
  ``Human:``/``Assistant:`` is dropped.
* D18: which dialect a ``/v1/complete`` client speaks, from its
  ``anthropic-version`` header.
* D13: an upstream HTTP error body in the shape of the client's dialect.

A request body sseadapt must read (to translate it) may come compressed:
``content-encoding`` ``gzip`` and ``deflate`` (RFC 9110 §8.4, in the order
listed, undone last first) are decoded, never past the body size limit (a
small compressed body may expand without bound); any other coding is refused
with 415 rather than read as JSON.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any, Final, Union

from ._convert import _dumps_default, completion_stop_reason
from ._events import Dialect, json_from_wire

__all__ = [
    "DEFAULT_MODEL",
    "RequestRejected",
    "UntranslatableAnswer",
    "SUPPORTED_COMPLETE_VERSIONS",
    "client_dialect_for_complete",
    "request_json_object",
    "stream_requested",
    "legacy_to_messages_request",
    "map_model",
    "check_default_model",
    "check_model_map",
    "check_positive_int",
    "message_to_completion",
    "completion_to_legacy",
    "translate_answer",
    "client_answer",
    "error_body",
    "json_bytes",
    "upstream_error_body",
]

#: The model legacy aliases (``claude-v1``, ``claude-2`` …) go to by default in
#: the CLI (D15); ``--default-model`` changes it.
DEFAULT_MODEL: Final = "claude-sonnet-5-5"

#: ``anthropic-version`` values a ``/v1/complete`` client may send (D18).
SUPPORTED_COMPLETE_VERSIONS: Final = ("2023-01-01", "2023-06-01")

_LEGACY_FIELDS: Final = frozenset(
    ["prompt", "model", "max_tokens_to_sample", "stop_sequences", "stream", "temperature", "top_k", "top_p", "metadata", "tags"]
)
_TURN = re.compile(r"\n\nHuman:|\n\nAssistant:")
_LEGACY_ALIASES: Final = ("claude-v1", "claude-instant", "claude-1", "claude-2")


class RequestRejected(Exception):
    """A client request sseadapt answers itself with an HTTP error.

    Attributes:
        status: the HTTP status (400 for a malformed request, 413 when too large).
        error_type: the Anthropic ``error.type``.
        message: the human-readable reason.
    """

    def __init__(self, message: str, *, status: int = 400, error_type: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


class UntranslatableAnswer(ValueError):
    """A non-streaming upstream answer that is JSON but not the shape its dialect
    defines, where translating it needs that shape (a Messages ``content`` that is
    not a list, a text block whose ``text`` is not a string, a ``completion`` that
    is not a string). The proxy answers 502; the middleware passes the answer on
    as the app sent it, as it does any answer that is not a JSON object.
    """


def client_dialect_for_complete(version: Union[str, None]) -> Dialect:
    """D18: the dialect a ``/v1/complete`` client reads, from ``anthropic-version``.

    Raises:
        RequestRejected: any version other than the two supported ones.
    """
    if version is None or version.strip() == "" or version.strip() == "2023-01-01":
        return Dialect.LEGACY
    if version.strip() == "2023-06-01":
        return Dialect.COMPLETIONS
    raise RequestRejected(
        f"anthropic-version {version!r} is not supported on /v1/complete; "
        f"supported versions: {', '.join(SUPPORTED_COMPLETE_VERSIONS)}"
    )


_DECODABLE: Final = {"gzip": 31, "x-gzip": 31, "deflate": 15}


def _decode_one(data: bytes, coding: str, limit: int) -> bytes:
    wbits = _DECODABLE[coding]
    attempts = (wbits, -15) if coding == "deflate" else (wbits,)  # deflate is zlib-wrapped; some send it raw
    for attempt in attempts:
        decoder = zlib.decompressobj(wbits=attempt)
        try:
            out = decoder.decompress(data, limit + 1)  # one byte past the limit tells "too large"
        except zlib.error as exc:
            if attempt != attempts[-1]:
                continue
            raise RequestRejected(f"request body is not valid {coding} data: {exc}") from None
        if len(out) > limit or decoder.unconsumed_tail:
            raise RequestRejected(f"decoded request body exceeds {limit} bytes", status=413, error_type="request_too_large")
        if not decoder.eof or decoder.unused_data:
            raise RequestRejected(f"request body is not valid {coding} data: {'truncated' if not decoder.eof else 'data after the end'}")
        return out
    raise AssertionError("unreachable")  # pragma: no cover


def request_json_object(raw: bytes, content_encoding: Union[str, None], limit: int) -> dict[str, Any]:
    """The JSON object a request body holds, its content codings undone.

    Raises :class:`RequestRejected`: 415 for a coding other than gzip/deflate,
    413 when decoding passes ``limit`` bytes, 400 for data that is not what its
    coding or JSON says, or JSON that is no object.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    unsupported = [c for c in codings if c not in _DECODABLE]
    if unsupported:
        raise RequestRejected(
            f"unsupported request content-encoding: {', '.join(unsupported)} (sseadapt decodes gzip and deflate)", status=415
        )
    for coding in reversed(codings):
        raw = _decode_one(raw, coding, limit)
    try:
        value = json_from_wire(raw)
    except ValueError as exc:
        raise RequestRejected(f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RequestRejected("request body must be a JSON object")
    return value


def check_default_model(value: object, where: str) -> None:
    """Refuse a D15 default model that is no model name (it would be sent as
    the model of every request); ``where`` names the setting in the message."""
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{where} must be a model name or None, not {value!r}")


def check_positive_int(value: object, where: str) -> None:
    """Refuse a size or count setting that is not an integer above 0 (``bool`` is no count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{where} must be an integer above 0, not {value!r}")


def check_model_map(value: object, where: str) -> None:
    """Refuse a D15 model map that does not map model names to model names."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()):
        raise ValueError(f"{where} must map model names to model names, not {value!r}")


def map_model(model: str, *, default_model: Union[str, None], model_map: Mapping[str, str]) -> str:
    """D15: a requested model name as the model to ask the upstream for."""
    if model in model_map:
        return model_map[model]
    if default_model is not None and model.startswith(_LEGACY_ALIASES):
        return default_model
    return model


def _strip_one_space(text: str) -> str:
    return text[1:] if text.startswith(" ") else text


def stream_requested(body: Mapping[str, Any]) -> bool:
    """Whether a completions request asks for a stream: ``stream`` absent,
    ``null`` or a boolean (a string such as ``"false"`` would read as true
    here and be parsed otherwise upstream: refused with 400)."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise RequestRejected(f"stream: must be a boolean, not {_json_type(stream)}")
    return bool(stream)


def _wrong_field(body: Mapping[str, Any], name: str, kind: str) -> RequestRejected:
    """The 400 for a required field that is missing or not ``kind``."""
    if name not in body:
        return RequestRejected(f"{name}: field required ({kind})")
    value = body[name]
    shown = "an empty string" if value == "" else _json_type(value)
    return RequestRejected(f"{name}: must be {kind}, not {shown}")


def legacy_to_messages_request(
    body: object, *, default_model: Union[str, None] = None, model_map: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """D10: translate a legacy ``/v1/complete`` body into a ``/v1/messages`` body.

    Raises:
        RequestRejected: the body is not a valid legacy request (400).
    """
    if not isinstance(body, dict):
        raise RequestRejected("request body must be a JSON object")
    unknown = sorted(set(body) - _LEGACY_FIELDS)
    if unknown:
        raise RequestRejected(f"{unknown[0]}: Extra inputs are not permitted")
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise _wrong_field(body, "prompt", "a string")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _wrong_field(body, "model", "a non-empty string")
    max_tokens = body.get("max_tokens_to_sample")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise _wrong_field(body, "max_tokens_to_sample", "an integer")
    stream_requested(body)

    first = prompt.find("\n\nHuman:")
    if first < 0:
        raise RequestRejected('prompt must contain "\\n\\nHuman:" turns')
    if prompt.find("\n\nAssistant:", 0, first) >= 0:
        # Not system text: a turn in the wrong place (it would reach the model
        # as a system prompt saying "Assistant: ...").
        raise RequestRejected('prompt must start with a "\\n\\nHuman:" turn (after any system prompt), not "\\n\\nAssistant:"')
    markers = list(_TURN.finditer(prompt, first))
    if markers[-1].group() != "\n\nAssistant:":
        raise RequestRejected('prompt must end with an "\\n\\nAssistant:" turn')
    system = prompt[:first]
    messages: list[dict[str, Any]] = []
    for marker, following in zip(markers, markers[1:] + [None]):
        end = following.start() if following is not None else len(prompt)
        text = _strip_one_space(prompt[marker.end() : end])
        role = "user" if marker.group() == "\n\nHuman:" else "assistant"
        if following is None:
            text = text.rstrip()  # D16: the API rejects trailing whitespace in a prefill
            if not text:
                break
        messages.append({"role": role, "content": text})

    request: dict[str, Any] = {
        "model": map_model(model, default_model=default_model, model_map=model_map or {}),
        "max_tokens": max_tokens,
        "messages": messages,
    }
    if system.strip():
        request["system"] = system.strip()
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise RequestRejected("stop_sequences: must be a list of strings")
        stops = [s for s in stops if s != "\n\nHuman:"]
        if stops:
            request["stop_sequences"] = stops
    for key in ("temperature", "top_p", "top_k", "metadata", "stream"):
        if body.get(key) is not None:  # null is "not given", as the legacy API took it
            request[key] = body[key]
    return request


def message_to_completion(message: Mapping[str, Any], dialect: Dialect) -> dict[str, Any]:
    """A non-streaming Messages response as a completion response for ``dialect`` (D9).

    ``id``, ``model`` and ``stop_sequence`` that are not strings become ``null``,
    as in the streaming converter.

    Raises:
        UntranslatableAnswer: the answer is no message (``type`` other than
            ``"message"``, or no ``content``), ``content`` is not a list, or a
            text block's ``text`` is not a string.
    """
    _check_answer_type(message, "message")
    if "content" not in message:
        raise UntranslatableAnswer("no content: not a Messages answer")
    content = message["content"]
    if not isinstance(content, list):
        raise UntranslatableAnswer(f"content is {_json_type(content)}, not an array")
    texts: list[str] = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "text":
            text = block.get("text", "")
            if not isinstance(text, str):
                raise UntranslatableAnswer(f"a text block's text is {_json_type(text)}, not a string")
            texts.append(text)
    stop_reason = _str_or_none(message.get("stop_reason"))
    stop = _str_or_none(message.get("stop_sequence")) if stop_reason == "stop_sequence" else None
    ident = _str_or_none(message.get("id"))
    model = _str_or_none(message.get("model"))
    mapped = completion_stop_reason(stop_reason)
    if dialect is Dialect.LEGACY:
        return {
            "completion": "".join(texts),
            "stop_reason": mapped,
            "model": model,
            "truncated": False,
            "stop": stop,
            "log_id": ident,
            "exception": None,
        }
    return {
        "type": "completion",
        "id": ident,
        "completion": "".join(texts),
        "stop_reason": mapped,
        "model": model,
        "stop": stop,
        "log_id": ident,
    }


def completion_to_legacy(completion: Mapping[str, Any]) -> dict[str, Any]:
    """A non-streaming 2023-06-01 completion response in the legacy shape (D1).

    Raises:
        UntranslatableAnswer: the answer is no completion (``type`` other than
            ``"completion"``, or no ``completion``), or ``completion`` is not a
            string.
    """
    _check_answer_type(completion, "completion")
    if "completion" not in completion:
        raise UntranslatableAnswer("no completion: not a completion answer")
    text = completion["completion"]
    if not isinstance(text, str):
        raise UntranslatableAnswer(f"completion is {_json_type(text)}, not a string")
    log_id = completion.get("log_id") or completion.get("id")
    return {
        "completion": text,
        "stop_reason": completion.get("stop_reason"),
        "model": completion.get("model"),
        "truncated": False,
        "stop": completion.get("stop"),
        "log_id": log_id,
        "exception": None,
    }


def _check_answer_type(answer: Mapping[str, Any], expected: str) -> None:
    """Refuse an answer whose ``type`` names something else (``"error"``, say).

    An absent ``type`` is allowed: 2023-06-01 completion answers had none
    before December 2023.
    """
    kind = answer.get("type", expected)
    if kind != expected:
        shown = repr(kind) if isinstance(kind, str) else _json_type(kind)
        raise UntranslatableAnswer(f"type is {shown}, not {expected!r}")


def _str_or_none(value: object) -> Union[str, None]:
    return value if isinstance(value, str) else None


def _json_type(value: object) -> str:
    """``value``'s JSON type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def translate_answer(answer: Mapping[str, Any], source: Dialect, client: Dialect) -> Mapping[str, Any]:
    """A non-streaming answer from ``source`` in the JSON shape ``client`` expects.

    Raises:
        UntranslatableAnswer: the answer lacks the shape translating it needs.
    """
    if client is Dialect.OPENAI:
        # A chat.completion object is not built (streams only); a completion shape would be wrong.
        raise UntranslatableAnswer("answers for OpenAI clients are not translated")
    if source is Dialect.MESSAGES and client is not Dialect.MESSAGES:
        return message_to_completion(answer, client)
    if source is Dialect.COMPLETIONS and client is Dialect.LEGACY:
        return completion_to_legacy(answer)
    return answer


def client_answer(status: int, raw: bytes, source: Dialect, client: Dialect) -> Union[bytes, None]:
    """The JSON body a ``client`` gets for a whole (non-streaming) answer
    ``raw`` of ``source`` with HTTP ``status``; ``None`` when it goes on as sent.

    An error status (400 and above) gets the client's error shape (D13). A 200
    answer is translated when it is the JSON object ``source`` defines; anything
    else (another status, not JSON, not that shape, or nothing to change) is the
    server's to give as is.
    """
    if status >= 400:
        return upstream_error_body(client, status, raw)
    if status != 200:
        return None
    try:
        answer = json_from_wire(raw)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    try:
        translated = translate_answer(answer, source, client)
    except UntranslatableAnswer:
        return None
    return None if translated is answer else json_bytes(translated)


def json_bytes(value: Any) -> bytes:
    """``json.dumps(value, ensure_ascii=False)`` as UTF-8 (D12). Lone surrogates,
    which JSON from the upstream can carry as ``\\udXXX`` escapes, are written
    back as escapes (plain ``.encode()`` raised ``UnicodeEncodeError``)."""
    return _dumps_default(value)


def error_body(dialect: Dialect, error_type: str, message: str) -> bytes:
    """An HTTP error body in the shape ``dialect``'s clients expect (D13)."""
    error = {"type": error_type, "message": message}
    if dialect is Dialect.MESSAGES:
        return json_bytes({"type": "error", "error": error})
    if dialect is Dialect.OPENAI:
        return json_bytes({"error": {"message": message, "type": error_type, "param": None, "code": None}})
    return json_bytes({"error": error})


def upstream_error_body(dialect: Dialect, status: int, body: bytes) -> bytes:
    """D13: translate an upstream error body into ``dialect``'s shape.

    Messages clients get the body unchanged when it is JSON. A body that is not
    JSON becomes ``api_error`` with its text (truncated to 1 KiB).
    """
    try:
        parsed = json_from_wire(body)
    except ValueError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        text = body[:1024].decode("utf-8", "replace")
        return error_body(dialect, "api_error", text or f"upstream returned HTTP {status}")
    if dialect is Dialect.MESSAGES:
        return body
    etype = error.get("type")
    message = error.get("message")
    return error_body(
        dialect,
        etype if isinstance(etype, str) else "api_error",
        message if isinstance(message, str) else "",
    )

