"""Typed Anthropic stream events, and decoding SSE events into them.

Three dialects (``../shared/spec/wire-formats.md`` §§2–4):

* :attr:`Dialect.LEGACY` — Text Completions ``2023-01-01``: data-only events
  carrying the **cumulative** ``completion``, then ``data: [DONE]``.
* :attr:`Dialect.COMPLETIONS` — Text Completions ``2023-06-01``: named
  ``completion`` / ``ping`` / ``error`` events with **incremental** text.
* :attr:`Dialect.MESSAGES` — the Messages stream (``message_start`` …
  ``message_stop``).

The dialect is always named by the caller (from the endpoint and the
``anthropic-version`` header), never guessed from content: a cumulative
``"a"``, ``"ab"`` is indistinguishable from the increments ``"a"``, ``"ab"``
(spec §2.7).

Decoding rules (spec §1.1, D6, D12): dispatch on the SSE event name and fall
back to the data's ``type`` for unnamed events; payloads are parsed as JSON,
never matched with patterns, so whitespace padding, key order and extra
fields do not matter. Every typed event keeps its decoded payload in ``raw``
(key order preserved), so fields sseadapt does not model survive a
re-serialization; ``extra`` lists just those. Event names a dialect does not
define become :class:`UnknownEvent`, which keeps the SSE name and data string
untouched for byte-for-byte re-emission.

JSON from the wire (event data here; request bodies, answers and error
bodies in the adapters, through :func:`json_from_wire`) may nest at most
:data:`MAX_JSON_DEPTH` levels. Deeper JSON is refused like invalid JSON
(:class:`~sseadapt.InvalidPayload` for event data): past ~1,000 levels
``json.loads`` raises ``RecursionError``, and whether it does depends on how
deep the caller's stack already is, so without a bound of its own the same
bytes could decode in one place and fail in another, or decode and then
break whatever walks them next (``copy.deepcopy``, ``json.dumps``). The
bound costs nothing for JSON under 513 characters (each level takes two)
and one C pass over a flat object's values (long legacy events); other
values are walked level by level.

Events are immutable; do not subclass them. Making one checks the type of
each field (``TypeError`` naming the field: ``ContentBlockStart.content_block
must be dict, not NoneType``), so that an event built by hand cannot reach
the machines, accumulators and converters, which read fields unchecked, with
a field they cannot read. The decoders, which check every field against
the wire format first, make the per-token events (deltas, completions)
without the constructor: no check is paid twice. The contents of a ``dict``
field, which can change after the event is made, are checked where they are
used.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any, Final, TypeVar, Union

import attrs

from ._errors import InvalidPayload, LocalProtocolError
from ._sse import ServerSentEvent

__all__ = [
    "Dialect",
    "MAX_JSON_DEPTH",
    "json_from_wire",
    "AnthropicEvent",
    "UnknownEvent",
    "Ping",
    "ErrorEvent",
    "LegacyCompletion",
    "LegacyDone",
    "Completion",
    "MessageStart",
    "ContentBlockStart",
    "ContentBlockDelta",
    "ContentBlockStop",
    "MessageDelta",
    "MessageStop",
    "Delta",
    "TextDelta",
    "InputJSONDelta",
    "ThinkingDelta",
    "SignatureDelta",
    "CitationsDelta",
    "UnknownDelta",
    "decode_event",
]


class Dialect(enum.Enum):
    """The stream dialects sseadapt reads or writes, by their CLI names."""

    #: Text Completions, ``anthropic-version: 2023-01-01`` (cumulative, ``[DONE]``).
    LEGACY = "completions-2023-01-01"
    #: Text Completions, ``anthropic-version: 2023-06-01`` (incremental, named).
    COMPLETIONS = "completions-2023-06-01"
    #: The Messages API stream.
    MESSAGES = "messages"
    #: OpenAI ``chat.completion.chunk`` stream (output only).
    OPENAI = "openai"

    @classmethod
    def parse(cls, name: Union[str, Dialect]) -> Dialect:
        """Look a dialect up by name or alias (``legacy``, ``completions``).

        Raises:
            ValueError: no dialect has that name.
            TypeError: ``name`` is neither a :class:`Dialect` nor a ``str``.
        """
        if isinstance(name, Dialect):
            return name
        if not isinstance(name, str):
            raise TypeError(f"a dialect is a Dialect or its name, not {type(name).__name__}")
        found = _ALIASES.get(name.strip().lower())
        if found is None:
            names = ", ".join(sorted(_ALIASES))
            raise ValueError(f"unknown dialect {name!r}; expected one of: {names}")
        return found

    def __str__(self) -> str:
        return self.value

    # Members are singletons: identity hashing (C) instead of Enum's
    # hash(self._name_) (a Python call) wherever a dialect is a key.
    __hash__ = object.__hash__


_ALIASES: dict[str, Dialect] = {d.value: d for d in Dialect}
_ALIASES.update({"legacy": Dialect.LEGACY, "completions": Dialect.COMPLETIONS})


_NONE: Final = type(None)
_STR_OR_NONE: Final = frozenset([str, _NONE])


def _kind_name(kind: Any) -> str:
    if isinstance(kind, tuple):
        names = [k.__name__ for k in kind if k is not _NONE]
        return (" or ".join(names) if len(names) < 3 else "a delta (" + ", ".join(names) + ")") + (" or None" if _NONE in kind else "")
    return str(kind.__name__)


def _refuse_fields(event: object, kinds: tuple[tuple[str, Any], ...]) -> None:
    """Raise ``TypeError`` naming the first field of ``event`` whose value is
    not of its kind (``int`` excludes ``bool``).

    Called by an event's ``__attrs_post_init__`` when a field's type is not
    the exact one :func:`decode_event` gives it; a subclass (an
    ``OrderedDict`` for a ``dict``) still passes. Events built by hand are
    checked here, once, so that the machines, accumulators and converters,
    which read the fields without checking, never meet a ``message`` that is
    no ``dict`` or a ``completion`` that is no ``str``.
    """
    for name, kind in kinds:
        value = getattr(event, name)
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            continue
        raise TypeError(f"{type(event).__name__}.{name} must be {_kind_name(kind)}, not {type(value).__name__}")


def _extra(raw: dict[str, Any], modelled: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in modelled}


@attrs.frozen(kw_only=True)
class UnknownEvent:
    """An event the dialect does not define (D6): kept exactly as it arrived."""

    #: The SSE event name.
    event: str
    #: The SSE data, untouched.
    data: str

    def __attrs_post_init__(self) -> None:
        if type(self.event) is not str or type(self.data) is not str:
            _refuse_fields(self, (("event", str), ("data", str)))


@attrs.frozen(kw_only=True)
class Ping:
    """A keep-alive ``ping``."""

    raw: dict[str, Any] = attrs.field(factory=lambda: {"type": "ping"})

    def __attrs_post_init__(self) -> None:
        if type(self.raw) is not dict:
            _refuse_fields(self, (("raw", dict),))


@attrs.frozen(kw_only=True)
class ErrorEvent:
    """An ``error`` event: the upstream reports a failure mid-stream.

    For the legacy dialect this is a data-only event whose ``exception`` is
    non-null or which carries an ``error`` object (D4); ``raw`` then also holds
    the cumulative ``completion`` sent with it.
    """

    #: ``error.type``, e.g. ``"overloaded_error"``.
    error_type: str
    #: ``error.message``.
    message: str
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.error_type) is not str or type(self.message) is not str or type(self.raw) is not dict:
            _refuse_fields(self, (("error_type", str), ("message", str), ("raw", dict)))


@attrs.frozen(kw_only=True)
class LegacyCompletion:
    """A 2023-01-01 completion event; ``completion`` is the text **so far**."""

    completion: str
    stop_reason: Union[str, None] = None
    model: Union[str, None] = None
    stop: Union[str, None] = None
    log_id: Union[str, None] = None
    truncated: Union[bool, None] = None
    exception: Union[str, None] = None
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if (
            type(self.completion) is not str
            or type(self.raw) is not dict
            or type(self.stop_reason) not in _STR_OR_NONE
            or type(self.model) not in _STR_OR_NONE
            or type(self.stop) not in _STR_OR_NONE
            or type(self.log_id) not in _STR_OR_NONE
            or (self.truncated is not None and type(self.truncated) is not bool)
            or type(self.exception) not in _STR_OR_NONE
        ):
            _refuse_fields(self, _LEGACY_KINDS)

    @property
    def extra(self) -> dict[str, Any]:
        """Payload fields not modelled above."""
        return _extra(self.raw, _LEGACY_FIELDS)


_LEGACY_FIELDS = frozenset(
    ["completion", "stop_reason", "model", "stop", "log_id", "truncated", "exception"]
)
_LEGACY_KINDS: Final = (
    ("completion", str), ("stop_reason", (str, _NONE)), ("model", (str, _NONE)), ("stop", (str, _NONE)),
    ("log_id", (str, _NONE)), ("truncated", (bool, _NONE)), ("exception", (str, _NONE)), ("raw", dict),
)


@attrs.frozen(kw_only=True)
class LegacyDone:
    """The legacy ``data: [DONE]`` terminator."""


@attrs.frozen(kw_only=True)
class Completion:
    """A 2023-06-01 ``completion`` event; ``completion`` is the **new** text."""

    completion: str
    stop_reason: Union[str, None] = None
    model: Union[str, None] = None
    stop: Union[str, None] = None
    log_id: Union[str, None] = None
    id: Union[str, None] = None
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if (
            type(self.completion) is not str
            or type(self.raw) is not dict
            or type(self.stop_reason) not in _STR_OR_NONE
            or type(self.model) not in _STR_OR_NONE
            or type(self.stop) not in _STR_OR_NONE
            or type(self.log_id) not in _STR_OR_NONE
            or type(self.id) not in _STR_OR_NONE
        ):
            _refuse_fields(self, _COMPLETION_KINDS)

    @property
    def extra(self) -> dict[str, Any]:
        """Payload fields not modelled above."""
        return _extra(self.raw, _COMPLETION_FIELDS)


_COMPLETION_FIELDS = frozenset(
    ["type", "completion", "stop_reason", "model", "stop", "log_id", "id"]
)
_COMPLETION_KINDS: Final = (
    ("completion", str), ("stop_reason", (str, _NONE)), ("model", (str, _NONE)), ("stop", (str, _NONE)),
    ("log_id", (str, _NONE)), ("id", (str, _NONE)), ("raw", dict),
)


@attrs.frozen(kw_only=True)
class MessageStart:
    """``message_start``: the message shell, with empty ``content``."""

    message: dict[str, Any]
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.message) is not dict or type(self.raw) is not dict:
            _refuse_fields(self, (("message", dict), ("raw", dict)))

    @property
    def message_id(self) -> Union[str, None]:
        value = self.message.get("id")
        return value if isinstance(value, str) else None

    @property
    def model(self) -> Union[str, None]:
        value = self.message.get("model")
        return value if isinstance(value, str) else None

    @property
    def usage(self) -> dict[str, Any]:
        value = self.message.get("usage")
        return value if isinstance(value, dict) else {}


@attrs.frozen(kw_only=True)
class ContentBlockStart:
    """``content_block_start``: block number ``index`` begins."""

    index: int
    content_block: dict[str, Any]
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.index) is not int or type(self.content_block) is not dict or type(self.raw) is not dict:
            _refuse_fields(self, (("index", int), ("content_block", dict), ("raw", dict)))

    @property
    def block_type(self) -> str:
        value = self.content_block.get("type")
        return value if isinstance(value, str) else ""


@attrs.frozen(kw_only=True)
class TextDelta:
    text: str
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.text) is not str or type(self.raw) is not dict:
            _refuse_fields(self, (("text", str), ("raw", dict)))


@attrs.frozen(kw_only=True)
class InputJSONDelta:
    partial_json: str
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.partial_json) is not str or type(self.raw) is not dict:
            _refuse_fields(self, (("partial_json", str), ("raw", dict)))


@attrs.frozen(kw_only=True)
class ThinkingDelta:
    thinking: str
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.thinking) is not str or type(self.raw) is not dict:
            _refuse_fields(self, (("thinking", str), ("raw", dict)))


@attrs.frozen(kw_only=True)
class SignatureDelta:
    signature: str
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.signature) is not str or type(self.raw) is not dict:
            _refuse_fields(self, (("signature", str), ("raw", dict)))


@attrs.frozen(kw_only=True)
class CitationsDelta:
    citation: dict[str, Any]
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.citation) is not dict or type(self.raw) is not dict:
            _refuse_fields(self, (("citation", dict), ("raw", dict)))


@attrs.frozen(kw_only=True)
class UnknownDelta:
    """A delta type this version does not know (D6); ``type`` as sent."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.type) is not str or type(self.raw) is not dict:
            _refuse_fields(self, (("type", str), ("raw", dict)))


Delta = Union[TextDelta, InputJSONDelta, ThinkingDelta, SignatureDelta, CitationsDelta, UnknownDelta]
_DELTA_TYPES: Final = (TextDelta, InputJSONDelta, ThinkingDelta, SignatureDelta, CitationsDelta, UnknownDelta)


@attrs.frozen(kw_only=True)
class ContentBlockDelta:
    """``content_block_delta``: a piece of block ``index``."""

    index: int
    delta: Delta
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.index) is not int or type(self.delta) not in _DELTA_TYPES or type(self.raw) is not dict:
            _refuse_fields(self, (("index", int), ("delta", _DELTA_TYPES), ("raw", dict)))


@attrs.frozen(kw_only=True)
class ContentBlockStop:
    """``content_block_stop``: block ``index`` is complete."""

    index: int
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.index) is not int or type(self.raw) is not dict:
            _refuse_fields(self, (("index", int), ("raw", dict)))


@attrs.frozen(kw_only=True)
class MessageDelta:
    """``message_delta``: top-level changes (stop reason) and cumulative usage."""

    delta: dict[str, Any]
    usage: dict[str, Any]
    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.delta) is not dict or type(self.usage) is not dict or type(self.raw) is not dict:
            _refuse_fields(self, (("delta", dict), ("usage", dict), ("raw", dict)))

    @property
    def stop_reason(self) -> Union[str, None]:
        value = self.delta.get("stop_reason")
        return value if isinstance(value, str) else None

    @property
    def stop_sequence(self) -> Union[str, None]:
        value = self.delta.get("stop_sequence")
        return value if isinstance(value, str) else None


@attrs.frozen(kw_only=True)
class MessageStop:
    """``message_stop``: the message is complete."""

    raw: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if type(self.raw) is not dict:
            _refuse_fields(self, (("raw", dict),))


AnthropicEvent = Union[
    UnknownEvent,
    Ping,
    ErrorEvent,
    LegacyCompletion,
    LegacyDone,
    Completion,
    MessageStart,
    ContentBlockStart,
    ContentBlockDelta,
    ContentBlockStop,
    MessageDelta,
    MessageStop,
]

# -- decoding ---------------------------------------------------------------


#: The deepest nesting of arrays and objects accepted in JSON from the wire
#: (a top-level object is level 1). Far above any Anthropic payload; low
#: enough that ``copy.deepcopy`` (two Python frames per level) and
#: ``json.dumps`` of the decoded value stay inside the default recursion limit.
MAX_JSON_DEPTH: Final = 256


class _TooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


#: JSON shorter than this cannot nest deeper than the limit (each level takes two characters).
_SHALLOW: Final = 2 * MAX_JSON_DEPTH + 1
_CONTAINERS: Final = frozenset([dict, list])


def _deeper_than_limit(value: Any) -> bool:
    """Whether ``value`` (decoded JSON) nests more than :data:`MAX_JSON_DEPTH` levels (iteratively)."""
    if type(value) is dict and _CONTAINERS.isdisjoint(map(type, value.values())):
        return False  # (a flat object, as long legacy events are: tested in C)
    level = [value]
    for _ in range(MAX_JSON_DEPTH):
        inner: list[Any] = []
        for item in level:
            if type(item) is dict:
                inner.extend(v for v in item.values() if type(v) is dict or type(v) is list)
            elif type(item) is list:
                inner.extend(v for v in item if type(v) is dict or type(v) is list)
        if not inner:
            return False
        level = inner
    return True


def json_from_wire(text: Union[str, bytes]) -> Any:
    """``json.loads`` for JSON that came over the network.

    Raises ``ValueError`` (``json.JSONDecodeError`` for bad syntax) for
    invalid JSON and for JSON nested deeper than :data:`MAX_JSON_DEPTH`
    levels, never ``RecursionError``.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise _TooDeep() from None
    if len(text) >= _SHALLOW and _deeper_than_limit(value):
        raise _TooDeep()
    return value


#: The C scanner behind ``json.loads``, called without its three Python
#: layers (~1 µs per event of ~1.6): a value that starts at the first
#: character and ends at the last is exactly what ``json.loads`` returns.
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # (set in __init__; not in typeshed)


def _payload(sse: ServerSentEvent) -> dict[str, Any]:
    data = sse.data
    try:
        value, end = _scan_json(data, 0)
    except (StopIteration, ValueError, RecursionError):
        end = -1
    try:
        if end != len(data):
            value = json_from_wire(data)  # (whitespace around the value, or not JSON: json.loads decides)
        elif len(data) >= _SHALLOW and _deeper_than_limit(value):
            raise _TooDeep()
    except _TooDeep as exc:
        raise InvalidPayload(f"{sse.event!r} event data is {exc}", event=sse.event, data=data) from None
    except ValueError as exc:
        raise InvalidPayload(f"{sse.event!r} event data is not JSON: {exc}", event=sse.event, data=data) from None
    if not isinstance(value, dict):
        raise InvalidPayload(
            f"{sse.event!r} event data is not a JSON object", event=sse.event, data=sse.data
        )
    return value


def _field(
    sse: ServerSentEvent, raw: dict[str, Any], key: str, kind: type | tuple[type, ...], *, optional: bool = False
) -> Any:
    value = raw.get(key)
    if type(value) is kind:  # the common case, one check (bool is never int here)
        return value
    if value is None and optional:
        return None
    if isinstance(value, bool) and kind is int:
        value = None  # JSON true is not an index
    if not isinstance(value, kind):
        what = "missing" if key not in raw else f"not {getattr(kind, '__name__', kind)}"
        raise InvalidPayload(
            f"{sse.event!r} event field {key!r} is {what}", event=sse.event, data=sse.data
        )
    return value


def _bad_starting_text(block: dict[str, Any]) -> Union[str, None]:
    """The field of a content block's start that must be a string and is not, else None.

    A text or thinking block starts with a string (``""`` from the API) under
    its own type's name, which its deltas extend; any other value there is
    invalid, as a non-string delta is. The decoder refuses it (InvalidPayload);
    the accumulator and the converters refuse hand-built events with it.
    """
    key = block.get("type")
    if (key == "text" or key == "thinking") and key in block and type(block[key]) is not str:
        return str(key)
    return None


# The decoders check every field against the wire format (_field) before
# making an event, so the events made per delta or completion skip the
# constructor and its checks: object.__new__ and one slot write per field,
# ~350 ns for a ContentBlockDelta where attrs' __init__ took ~500 ns before
# the checks and ~630 ns with them. Rarer events go through the constructor.
_new: Final = object.__new__
_set: Final = object.__setattr__
_D = TypeVar("_D")


def _made_delta(cls: type[_D], name: str, value: Any, raw: dict[str, Any]) -> _D:
    """A delta event of ``cls`` (its one field ``name`` and ``raw``), checked already."""
    event = _new(cls)
    _set(event, name, value)
    _set(event, "raw", raw)
    return event


def _made_block_delta(index: int, delta: Delta, raw: dict[str, Any]) -> ContentBlockDelta:
    event = _new(ContentBlockDelta)
    _set(event, "index", index)
    _set(event, "delta", delta)
    _set(event, "raw", raw)
    return event


def _made_text_completion(
    cls: type[_D], completion: str, stop_reason: Union[str, None], model: Union[str, None], stop: Union[str, None],
    log_id: Union[str, None], raw: dict[str, Any],
) -> _D:
    """A :class:`Completion` or :class:`LegacyCompletion` with the fields they
    share; the decoder sets the rest (``id``; ``truncated``, ``exception``)."""
    event = _new(cls)
    _set(event, "completion", completion)
    _set(event, "stop_reason", stop_reason)
    _set(event, "model", model)
    _set(event, "stop", stop)
    _set(event, "log_id", log_id)
    _set(event, "raw", raw)
    return event


def _opt_str(sse: ServerSentEvent, raw: dict[str, Any], key: str) -> Union[str, None]:
    value: Union[str, None] = _field(sse, raw, key, str, optional=True)
    return value


def _error(sse: ServerSentEvent, raw: dict[str, Any]) -> ErrorEvent:
    error = raw.get("error")
    if not isinstance(error, dict):
        raise InvalidPayload("error event without an 'error' object", event=sse.event, data=sse.data)
    etype = error.get("type")
    message = error.get("message")
    return ErrorEvent(
        error_type=etype if isinstance(etype, str) else "api_error",
        message=message if isinstance(message, str) else "",
        raw=raw,
    )


def _decode_legacy(sse: ServerSentEvent) -> AnthropicEvent:
    if sse.event == "ping":
        return Ping(raw=_payload(sse) if sse.data.strip() else {"type": "ping"})
    if sse.event != "message":
        return UnknownEvent(event=sse.event, data=sse.data)
    if sse.data == "[DONE]":
        return LegacyDone()
    raw = _payload(sse)
    exception = raw.get("exception")
    if isinstance(raw.get("error"), dict):
        return _error(sse, raw)
    if isinstance(exception, str) and exception:
        etype, _, message = exception.partition(": ")
        return ErrorEvent(error_type=etype or "api_error", message=message, raw=raw)
    if "completion" not in raw:
        if raw.get("type") == "ping":
            return Ping(raw=raw)
        return UnknownEvent(event=sse.event, data=sse.data)
    event = _made_text_completion(
        LegacyCompletion,
        _field(sse, raw, "completion", str),
        _opt_str(sse, raw, "stop_reason"),
        _opt_str(sse, raw, "model"),
        _opt_str(sse, raw, "stop"),
        _opt_str(sse, raw, "log_id"),
        raw,
    )
    truncated = raw.get("truncated")
    _set(event, "truncated", truncated if isinstance(truncated, bool) else None)
    _set(event, "exception", None)
    return event


def _decode_completions(sse: ServerSentEvent) -> AnthropicEvent:
    name = sse.event
    raw: dict[str, Any] | None = None
    if name == "message":  # unnamed: fall back to the data's type
        raw = _payload(sse)
        kind = raw.get("type")
        name = kind if isinstance(kind, str) else name
    if name == "completion":
        raw = raw if raw is not None else _payload(sse)
        event = _made_text_completion(
            Completion,
            _field(sse, raw, "completion", str),
            _opt_str(sse, raw, "stop_reason"),
            _opt_str(sse, raw, "model"),
            _opt_str(sse, raw, "stop"),
            _opt_str(sse, raw, "log_id"),
            raw,
        )
        _set(event, "id", _opt_str(sse, raw, "id"))
        return event
    if name == "ping":
        return Ping(raw=raw if raw is not None else _payload(sse))
    if name == "error":
        return _error(sse, raw if raw is not None else _payload(sse))
    return UnknownEvent(event=sse.event, data=sse.data)


def _decode_delta(sse: ServerSentEvent, raw: dict[str, Any]) -> Delta:
    kind = raw.get("type")
    if kind == "text_delta":
        return _made_delta(TextDelta, "text", _field(sse, raw, "text", str), raw)
    if kind == "input_json_delta":
        return _made_delta(InputJSONDelta, "partial_json", _field(sse, raw, "partial_json", str), raw)
    if kind == "thinking_delta":
        return _made_delta(ThinkingDelta, "thinking", _field(sse, raw, "thinking", str), raw)
    if kind == "signature_delta":
        return _made_delta(SignatureDelta, "signature", _field(sse, raw, "signature", str), raw)
    if kind == "citations_delta":
        return _made_delta(CitationsDelta, "citation", _field(sse, raw, "citation", dict), raw)
    return _made_delta(UnknownDelta, "type", kind if isinstance(kind, str) else "", raw)


_MESSAGES_NAMES = frozenset(
    [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    ]
)


def _decode_messages(sse: ServerSentEvent) -> AnthropicEvent:
    name = sse.event
    if name not in _MESSAGES_NAMES:
        if name != "message":
            return UnknownEvent(event=sse.event, data=sse.data)
        raw = _payload(sse)  # unnamed: fall back to the data's type
        kind = raw.get("type")
        if not isinstance(kind, str) or kind not in _MESSAGES_NAMES:
            return UnknownEvent(event=sse.event, data=sse.data)
        name = kind
    else:
        raw = _payload(sse)
    if name == "content_block_delta":
        return _made_block_delta(_field(sse, raw, "index", int), _decode_delta(sse, _field(sse, raw, "delta", dict)), raw)
    if name == "ping":
        return Ping(raw=raw)
    if name == "message_start":
        return MessageStart(message=_field(sse, raw, "message", dict), raw=raw)
    if name == "content_block_start":
        block = _field(sse, raw, "content_block", dict)
        if (key := _bad_starting_text(block)) is not None:
            raise InvalidPayload(f"{sse.event!r} event's {key} block has {key!r} that is not str", event=sse.event, data=sse.data)
        return ContentBlockStart(index=_field(sse, raw, "index", int), content_block=block, raw=raw)
    if name == "content_block_stop":
        return ContentBlockStop(index=_field(sse, raw, "index", int), raw=raw)
    if name == "message_delta":
        usage = raw.get("usage")
        return MessageDelta(
            delta=_field(sse, raw, "delta", dict),
            usage=usage if isinstance(usage, dict) else {},
            raw=raw,
        )
    if name == "message_stop":
        return MessageStop(raw=raw)
    return _error(sse, raw)


#: The typed events each input dialect decodes to (the most frequent first:
#: ``isinstance`` tries them in order). The machines and converters refuse others.
_DIALECT_EVENTS: dict[Dialect, tuple[type, ...]] = {
    Dialect.LEGACY: (LegacyCompletion, LegacyDone, Ping, ErrorEvent, UnknownEvent),
    Dialect.COMPLETIONS: (Completion, Ping, ErrorEvent, UnknownEvent),
    Dialect.MESSAGES: (
        ContentBlockDelta, Ping, ContentBlockStart, ContentBlockStop, MessageStart, MessageDelta, MessageStop,
        ErrorEvent, UnknownEvent,
    ),
}

_DECODERS = {
    Dialect.LEGACY: _decode_legacy,
    Dialect.COMPLETIONS: _decode_completions,
    Dialect.MESSAGES: _decode_messages,
}


def decode_event(dialect: Union[Dialect, str], sse: ServerSentEvent) -> AnthropicEvent:
    """Decode one SSE event of ``dialect`` into its typed event.

    Raises:
        InvalidPayload: the data is not the JSON object the event requires.
        LocalProtocolError: ``sse`` is not a :class:`~sseadapt.ServerSentEvent`,
            or its ``event`` or ``data`` is not a ``str`` (built by hand).
        ValueError: ``dialect`` is unknown or is not an input dialect.
        TypeError: ``dialect`` is neither a :class:`Dialect` nor a name.
    """
    decoder = _DECODERS.get(Dialect.parse(dialect))
    if decoder is None:
        raise ValueError(f"{dialect} is an output-only dialect")
    if not isinstance(sse, ServerSentEvent):
        raise LocalProtocolError(f"decode_event() takes a ServerSentEvent, not {type(sse).__name__}")
    for field, value in (("event", sse.event), ("data", sse.data)):
        if not isinstance(value, str):  # (one built by hand: the parser's are str)
            raise LocalProtocolError(f"decode_event() takes a ServerSentEvent whose {field} is str, not {type(value).__name__}")
    return decoder(sse)
