"""``sseadapt bench``: SSE parser throughput, peers side by side in one process.

Every participant parses the same workload in the same chunking. Before any
timing, each participant's events (type and data) are compared with
sseadapt's, on a ~200 KB prefix and then on the whole workload; a participant
that disagrees is reported as a mismatch and not timed. Each check takes at
most one event more than sseadapt's and stops past ``time_cap`` seconds (a
``too slow`` row), so a participant that never stops yielding, or one far
slower on the whole than on the prefix, cannot hang the run; a participant
whose full run is estimated from the prefix to take longer is skipped too.
Rounds interleave the participants (A B C, A B C, …) so machine drift
cancels; one that raises or yields a different number of events in a later
round leaves the table with an ``error`` or ``mismatch`` row naming the round.
The table reports the median MB/s, events/s and the ratio to sseadapt (> 1
means faster than sseadapt).

Participants: sseadapt (:func:`~sseadapt.iter_events`); sseadapt.SSEParser
(the sans-I/O class, ``receive_data`` then ``events()`` per chunk, as the
pipeline, the proxy and the middleware use it); the peers httpx-sse, the
anthropic SDK's SSE decoder, the openai SDK's SSE decoder,
launchdarkly-eventsource and sseclient-py (each
behind a small adapter, skipped when not installed); a *floor* row that only
splits the bytes at blank lines and creates one Python object per event (the
least a pure-Python parser can do); and any ``--parser module:factory`` a user
adds: ``factory()`` returns a callable taking an iterable of ``bytes`` chunks
and returning an iterable of events with ``event`` and ``data`` attributes.
"""

from __future__ import annotations

import codecs
import importlib
import json
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from ._sse import SSEParser, iter_events
from ._workloads import CHUNKINGS, DEFAULT_SIZE, WORKLOADS, chunked, workload

__all__ = ["Participant", "PARTICIPANTS", "BenchResult", "run_bench", "format_table", "load_parser"]

Parse = Callable[[Iterable[bytes]], Iterable[Any]]


@attrs.frozen
class Participant:
    name: str
    #: Returns the parse callable, or raises ImportError when the peer is missing.
    factory: Callable[[], Parse]
    #: (event, data) of one native event, for the equality check.
    key: Callable[[Any], tuple[str, str]] = lambda e: (e.event or "message", e.data)


def _sseadapt() -> Parse:
    return iter_events


def _sseadapt_parser() -> Parse:
    def parse(chunks: Iterable[bytes]) -> Iterator[Any]:
        parser = SSEParser()
        receive, events = parser.receive_data, parser.events
        for chunk in chunks:
            if chunk:
                receive(chunk)
                yield from events()
        receive(b"")
        yield from events()

    return parse


def _httpx_sse() -> Parse:
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    def parse(chunks: Iterable[bytes]) -> Iterator[Any]:
        text = codecs.getincrementaldecoder("utf-8")("replace")
        lines = SSELineDecoder()
        decoder = SSEDecoder()
        for chunk in chunks:
            for line in lines.decode(text.decode(chunk)):
                sse = decoder.decode(line)
                if sse is not None:
                    yield sse
        for line in lines.flush():
            sse = decoder.decode(line)
            if sse is not None:
                yield sse

    return parse


def _anthropic() -> Parse:
    from anthropic._streaming import SSEDecoder

    return lambda chunks: SSEDecoder().iter_bytes(iter(chunks))


def _openai() -> Parse:
    from openai._streaming import SSEDecoder

    return lambda chunks: SSEDecoder().iter_bytes(iter(chunks))


def _launchdarkly() -> Parse:
    from ld_eventsource.actions import Event
    from ld_eventsource.reader import _BufferedLineReader, _SSEReader

    def parse(chunks: Iterable[bytes]) -> Iterator[Any]:
        reader = _SSEReader(_BufferedLineReader.lines_from(iter(chunks)))
        for item in reader.events_and_comments():
            if isinstance(item, Event):
                yield item

    return parse


def _sseclient() -> Parse:
    import sseclient

    return lambda chunks: sseclient.SSEClient(iter(chunks)).events()


class _FloorEvent:
    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def _floor() -> Parse:
    """Split at blank lines (LF or CRLF streams) and make one object per event.

    Pieces are held and joined only when a chunk holds a LF, so the row stays
    linear in tiny chunks; nothing else is parsed.
    """

    def parse(chunks: Iterable[bytes]) -> Iterator[_FloorEvent]:
        held: list[bytes] = []
        separator = b""
        for chunk in chunks:
            if not separator and (13 in chunk or 10 in chunk):
                # The first line ending seen says which blank line to split on.
                separator = b"\r\n\r\n" if 13 in chunk else b"\n\n"
            if 10 not in chunk:
                held.append(chunk)
                continue
            held.append(chunk)
            blocks = b"".join(held).split(separator)
            held = [blocks.pop()]
            for block in blocks:
                yield _FloorEvent(block)

    return parse


PARTICIPANTS: tuple[Participant, ...] = (
    Participant("sseadapt", _sseadapt),
    Participant("sseadapt.SSEParser", _sseadapt_parser),
    Participant("httpx-sse", _httpx_sse),
    Participant("anthropic", _anthropic),
    Participant("openai", _openai),
    Participant("launchdarkly-eventsource", _launchdarkly),
    Participant("sseclient-py", _sseclient),
    Participant("floor", _floor, key=lambda e: ("", "")),
)


def load_parser(spec: str) -> Participant:
    """A user's ``module:factory`` as a participant.

    The module is imported and the factory looked up here, so a typo is a
    ``ValueError`` naming it (the CLI's usage error), not a result row.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--parser takes module:factory, not {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"--parser {spec}: cannot import {module_name!r} ({exc})") from exc
    make = getattr(module, attr, None)
    if not callable(make):
        raise ValueError(f"--parser {spec}: {module_name!r} has no callable {attr!r}")

    def factory() -> Parse:
        parse: Parse = make()
        return parse

    return Participant(spec, factory)


@attrs.frozen
class BenchResult:
    workload: str
    chunking: str
    participant: str
    #: "ok", "mismatch", "not installed", "too slow" or "error"
    status: str
    mb_per_s: float | None = None
    events_per_s: float | None = None
    ratio: float | None = None
    detail: str = ""


def _event_boundary(data: bytes, limit: int) -> int:
    """Length of the longest prefix of ``data`` up to ``limit`` that ends with a blank line."""
    if len(data) <= limit:
        return len(data)
    lf, crlf = data.rfind(b"\n\n", 0, limit), data.rfind(b"\r\n\r\n", 0, limit)
    end = max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)
    return end or len(data)


def _count(parse: Parse, chunks: list[bytes]) -> tuple[int, float]:
    started = time.perf_counter()
    n = 0
    for _ in parse(chunks):
        n += 1
    return n, time.perf_counter() - started


class _Overtime(Exception):
    """A check ran past its time limit."""


class _ClockedChunks(list[bytes]):
    """The chunks, handed over one at a time while a deadline has not passed.

    A list still (a participant may take ``len`` or index it, as in the timed
    rounds), whose iteration reads the clock before each chunk and, once past
    the deadline, notes it and raises :class:`_Overtime` into the participant.
    """

    def __init__(self, chunks: list[bytes], deadline: float) -> None:
        super().__init__(chunks)
        self.deadline = deadline
        self.late = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in list.__iter__(self):
            if time.perf_counter() > self.deadline:
                self.late = True
                raise _Overtime
            yield chunk


def _collect(
    parse: Parse, chunks: list[bytes], key: Callable[[Any], tuple[str, str]], most: int, seconds: float
) -> list[tuple[str, str]]:
    """The keys of at most ``most`` events of ``parse(chunks)``, in under ``seconds``.

    Bounded both ways, so a participant that never stops yielding, or takes
    far longer than its estimate (a quadratic parser passes a short prefix),
    cannot hang the run: the clock is read as each chunk is handed over and
    every 256 events, and :class:`_Overtime` is raised past the limit, from
    inside the participant's loop if need be, whatever it turns that into.
    (A participant that takes all the chunks at once and then never yields
    is beyond reach.)
    """
    clocked = _ClockedChunks(chunks, time.perf_counter() + seconds)
    got: list[tuple[str, str]] = []
    try:
        for event in parse(clocked):
            got.append(key(event))
            if len(got) >= most:
                break
            if not len(got) & 255 and time.perf_counter() > clocked.deadline:
                clocked.late = True
                break
    except Exception:
        if clocked.late:
            raise _Overtime from None
        raise
    if clocked.late:
        raise _Overtime
    return got


def _check(
    wl: str, ch: str, part: Participant, parse: Parse, chunks: list[bytes],
    expected: list[tuple[str, str]], time_cap: float, what: str,
) -> tuple[BenchResult | None, float]:
    """Compare a participant's events on ``chunks`` with ``expected`` (the floor
    row only runs): a failing row, or None and the seconds the run took."""
    started = time.perf_counter()
    try:
        got = _collect(parse, chunks, part.key, len(expected) + 1, time_cap)
    except _Overtime:
        return BenchResult(wl, ch, part.name, "too slow", detail=f"checking {what} took over {time_cap:g}s"), 0.0
    except Exception as exc:  # a peer failing is a result, not a crash
        return BenchResult(wl, ch, part.name, "error", detail=_describe(exc)), 0.0
    seconds = time.perf_counter() - started
    if part.name != "floor" and got != expected:
        return BenchResult(wl, ch, part.name, "mismatch", detail=_first_difference(expected, got)), seconds
    return None, seconds


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _first_difference(expected: list[tuple[str, str]], got: list[tuple[str, str]]) -> str:
    for i, (a, b) in enumerate(zip(expected, got)):
        if a != b:
            return f"event {i}: expected {a!r:.80}, got {b!r:.80}"
    return f"{len(got)} events, expected {len(expected)}"


def run_bench(
    workloads: Sequence[str] = WORKLOADS,
    chunkings: Sequence[str] = tuple(CHUNKINGS),
    participants: Sequence[Participant] = PARTICIPANTS,
    *,
    rounds: int = 5,
    size: int = DEFAULT_SIZE,
    time_cap: float = 20.0,
    progress: Callable[[str], None] | None = None,
) -> list[BenchResult]:
    """Measure every participant on every workload and chunking (see the module docstring)."""
    results: list[BenchResult] = []
    for wl in workloads:
        data = workload(wl, size)
        for ch in chunkings:
            chunks = chunked(data, ch)
            if progress:
                progress(f"{wl}/{ch}: {len(data) / 1e6:.1f} MB in {len(chunks)} chunks")
            reference = [(e.event, e.data) for e in iter_events(chunks)]
            live: dict[str, Parse] = {}
            times: dict[str, list[float]] = {}
            counts: dict[str, int] = {}
            local: list[BenchResult] = []
            for part in participants:
                try:
                    parse = part.factory()
                except ImportError as exc:
                    local.append(BenchResult(wl, ch, part.name, "not installed", detail=str(exc)))
                    continue
                except Exception as exc:  # a user's factory failing is a result, not a crash
                    local.append(BenchResult(wl, ch, part.name, "error", detail=_describe(exc)))
                    continue
                # The check on a prefix (ending at an event) first, to bound the
                # cost of slow peers.
                prefix = chunked(data[: _event_boundary(data, 200_000)], ch)
                what = f"a {sum(map(len, prefix)) / 1e6:.1f} MB prefix"
                failed, seconds = _check(wl, ch, part, parse, prefix, [(e.event, e.data) for e in iter_events(prefix)], time_cap, what)
                estimate = seconds * len(data) / max(1, sum(map(len, prefix)))
                if failed is None and estimate > time_cap:
                    failed = BenchResult(wl, ch, part.name, "too slow", detail=f"estimated {estimate:.0f}s per run")
                if failed is None and part.name != "floor":
                    failed, _ = _check(wl, ch, part, parse, chunks, reference, time_cap, "the whole workload")
                if failed is not None:
                    local.append(failed)
                    continue
                live[part.name] = parse
                times[part.name] = []
            for round_number in range(1, rounds + 1):
                for name, parse in list(live.items()):
                    # A participant that fails or changes its count in a later
                    # round (a parser keeping state between calls) leaves the table.
                    try:
                        n, seconds = _count(parse, chunks)
                    except Exception as exc:
                        local.append(BenchResult(wl, ch, name, "error", detail=f"round {round_number}: {_describe(exc)}"))
                        del live[name]
                        continue
                    if n != len(reference) and name != "floor":
                        detail = f"round {round_number}: {n} events, expected {len(reference)}"
                        local.append(BenchResult(wl, ch, name, "mismatch", detail=detail))
                        del live[name]
                        continue
                    counts[name] = n
                    times[name].append(seconds)
            base = statistics.median(times["sseadapt"]) if "sseadapt" in live else None
            for name in live:
                median = statistics.median(times[name])
                local.append(
                    BenchResult(
                        wl, ch, name, "ok",
                        mb_per_s=len(data) / median / 1e6,
                        events_per_s=counts[name] / median,
                        ratio=(base / median) if base else None,
                    )
                )
            order = {p.name: i for i, p in enumerate(participants)}
            results.extend(sorted(local, key=lambda r: order.get(r.participant, 99)))
    return results


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def format_table(results: Sequence[BenchResult]) -> str:
    """A Markdown table; ratio = participant speed / sseadapt speed."""
    lines = [
        "| workload | chunking | participant | MB/s | events/s | vs sseadapt |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in results:
        if r.status == "ok":
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "—"
            lines.append(
                f"| {r.workload} | {r.chunking} | {r.participant} | {r.mb_per_s:.1f} | {r.events_per_s:,.0f} | {ratio} |"
            )
        else:
            # An exception's text may hold anything; one table row it stays.
            detail = " ".join(r.detail[:60].split()).replace("|", "\\|")
            lines.append(f"| {r.workload} | {r.chunking} | {r.participant} | {r.status} | | {detail} |")
    return "\n".join(lines)


_NOT_PEERS = ("sseadapt", "sseadapt.SSEParser", "floor")


def format_summary(results: Sequence[BenchResult]) -> str:
    """One row per workload/chunking: sseadapt, the fastest peer, and the ratios
    the targets are stated in (sseadapt / fastest peer, sseadapt / floor),
    then the SSEParser class's speed over the fastest peer's."""
    lines = [
        "| workload | chunking | sseadapt MB/s | fastest peer | peer MB/s | sseadapt ÷ fastest peer | sseadapt ÷ floor | SSEParser ÷ fastest peer |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    cells: dict[tuple[str, str], list[BenchResult]] = {}
    for r in results:
        cells.setdefault((r.workload, r.chunking), []).append(r)
    for (wl, ch), rows in cells.items():
        ours = next((r for r in rows if r.participant == "sseadapt" and r.mb_per_s), None)
        if ours is None or ours.mb_per_s is None:
            continue
        peers = [r for r in rows if r.participant not in _NOT_PEERS and r.mb_per_s]
        floor = next((r for r in rows if r.participant == "floor" and r.mb_per_s), None)
        cls = next((r for r in rows if r.participant == "sseadapt.SSEParser" and r.mb_per_s), None)
        best = max(peers, key=lambda r: r.mb_per_s or 0.0, default=None)
        peer_text = f"{best.participant} | {best.mb_per_s:.1f} | {ours.mb_per_s / best.mb_per_s:.2f}x" if best and best.mb_per_s else "— | — | —"
        floor_text = f"{ours.mb_per_s / floor.mb_per_s:.2f}x" if floor and floor.mb_per_s else "—"
        cls_text = f"{cls.mb_per_s / best.mb_per_s:.2f}x" if cls and cls.mb_per_s and best and best.mb_per_s else "—"
        lines.append(f"| {wl} | {ch} | {ours.mb_per_s:.1f} | {peer_text} | {floor_text} | {cls_text} |")
    return "\n".join(lines)


def to_json(results: Sequence[BenchResult]) -> str:
    return json.dumps({"machine": machine(), "results": [attrs.asdict(r) for r in results]}, indent=1)
