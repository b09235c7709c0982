"""``sseadapt bench``: the equality check before timing, result rows, tables, JSON, the CLI.

Small workloads and one round: these tests check what the harness reports,
never how fast anything is.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sseadapt import ServerSentEvent, iter_events
from sseadapt._bench import PARTICIPANTS, BenchResult, Participant, format_summary, format_table, load_parser, run_bench
from sseadapt._workloads import CHUNKINGS, WORKLOADS, chunked, workload

from .helpers import assert_usage_error, run_sseadapt

SIZE = 20_000
SSEADAPT, FLOOR = PARTICIPANTS[0], PARTICIPANTS[-1]


def _good() -> Any:
    return iter_events


def _alters_one_event() -> Any:
    def parse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
        for i, event in enumerate(iter_events(chunks)):
            yield ServerSentEvent(event.event, event.data + "!" if i == 3 else event.data)

    return parse


def _drops_the_last_event() -> Any:
    return lambda chunks: list(iter_events(chunks))[:-1]


def _raises() -> Any:
    def parse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
        raise RuntimeError("boom")
        yield  # pragma: no cover

    return parse


def _not_installed() -> Any:
    raise ImportError("No module named 'nothere'")


def _factory_fails() -> Any:
    raise KeyError("config")


PARTS = [
    SSEADAPT,
    Participant("good", _good),
    Participant("alters", _alters_one_event),
    Participant("drops", _drops_the_last_event),
    Participant("raises", _raises),
    Participant("absent", _not_installed),
    Participant("broken-factory", _factory_fails),
    FLOOR,
]


def by_name(results: list[BenchResult]) -> dict[str, BenchResult]:
    return {r.participant: r for r in results}


@pytest.mark.parametrize("workload", ["messages", "crlf"])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_every_outcome_is_reported_and_only_agreeing_parsers_are_timed(workload: str, chunking: str) -> None:
    results = run_bench([workload], [chunking], PARTS, rounds=1, size=SIZE)
    rows = by_name(results)
    assert [r.participant for r in results] == [p.name for p in PARTS]  # in the participants' order
    assert {(r.workload, r.chunking) for r in results} == {(workload, chunking)}
    for name in ("sseadapt", "good", "floor"):
        assert rows[name].status == "ok", rows[name]
        assert (rows[name].mb_per_s or 0) > 0 and (rows[name].events_per_s or 0) > 0
    assert rows["sseadapt"].ratio == 1.0
    assert rows["alters"].status == "mismatch"
    assert rows["alters"].detail.startswith("event 3: expected ")
    assert rows["drops"].status == "mismatch"
    counts = re.fullmatch(r"(\d+) events, expected (\d+)", rows["drops"].detail)
    assert counts is not None and int(counts[2]) == int(counts[1]) + 1
    assert (rows["raises"].status, rows["raises"].detail) == ("error", "RuntimeError: boom")
    assert (rows["absent"].status, rows["absent"].detail) == ("not installed", "No module named 'nothere'")
    assert (rows["broken-factory"].status, rows["broken-factory"].detail) == ("error", "KeyError: 'config'")
    for name in ("alters", "drops", "raises", "absent", "broken-factory"):
        assert rows[name].mb_per_s is None and rows[name].ratio is None, name  # never timed


def test_a_mismatch_past_the_checked_prefix_is_caught() -> None:
    # The first check runs on a ~200 KB prefix; a parser that only goes wrong
    # later must still be reported, from the check over the whole workload.
    def late() -> Any:
        def parse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
            for i, event in enumerate(iter_events(chunks)):
                yield ServerSentEvent(event.event, "late" if i == 5000 else event.data)

        return parse

    results = run_bench(["messages"], ["net"], [SSEADAPT, Participant("late", late)], rounds=1, size=1_000_000)
    assert by_name(results)["late"].status == "mismatch"
    assert by_name(results)["late"].detail.startswith("event 5000: expected ")


def _sleeps_first(seconds: float) -> Any:
    def factory() -> Any:
        def parse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
            time.sleep(seconds)
            yield from iter_events(chunks)

        return parse

    return factory


def test_time_cap_skips_a_participant_estimated_too_slow() -> None:
    # 0.5 s on the ~0.2 MB prefix is an estimate over 10 s for 4 MB: over the cap of 2 s.
    # (sseadapt's own estimate is ~0.05 s: with a cap of 0.2 s a busy host's
    # hiccup of 10 ms on the prefix had it skipped too, on Python 3.13 in CI.)
    slow = Participant("slow", _sleeps_first(0.5))
    results = run_bench(["messages"], ["whole"], [SSEADAPT, slow], rounds=1, size=4_000_000, time_cap=2.0)
    assert by_name(results)["sseadapt"].status == "ok"
    assert by_name(results)["slow"].status == "too slow"
    assert re.fullmatch(r"estimated \d+s per run", by_name(results)["slow"].detail)


def test_time_cap_bounds_the_check_of_the_prefix() -> None:
    results = run_bench(["messages"], ["net"], [SSEADAPT, Participant("good", _good)], rounds=1, size=SIZE, time_cap=1e-9)
    assert [r.status for r in results] == ["too slow"] * 2
    assert all(re.fullmatch(r"checking a \d\.\d MB prefix took over 1e-09s", r.detail) for r in results)


def _slows_down_past(chunk_count: int) -> Any:
    # Fine on the checked prefix, then 150 ms per chunk: the way a parser that
    # is quadratic in the stream's length goes wrong only on the whole of it.
    def parse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
        def paced() -> Iterator[bytes]:
            for i, chunk in enumerate(chunks):
                if i >= chunk_count:
                    time.sleep(0.15)
                yield chunk

        return iter_events(paced())

    return lambda: parse


def test_time_cap_bounds_the_check_of_the_whole_workload() -> None:
    prefix_chunks = 200_000 // 4096 + 1
    slow = Participant("slow", _slows_down_past(prefix_chunks + 2))
    started = time.monotonic()
    # (A cap of 2 s: sseadapt's own estimate, ~0.03 s, stays far under it on a busy host.)
    results = run_bench(["messages"], ["net"], [SSEADAPT, slow], rounds=1, size=1_000_000, time_cap=2.0)
    assert by_name(results)["slow"].status == "too slow"
    assert by_name(results)["slow"].detail == "checking the whole workload took over 2s"
    assert by_name(results)["sseadapt"].status == "ok"
    # Unbounded, the check alone would take ~28 s (~190 slow chunks).
    assert time.monotonic() - started < 15


def test_a_parser_that_never_stops_yielding_is_a_mismatch_not_a_hang() -> None:
    def endless() -> Any:
        def parse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
            event = ServerSentEvent("message", "")
            for event in iter_events(chunks):
                yield event
            while True:
                yield event

        return parse

    results = run_bench(["messages"], ["net"], [SSEADAPT, Participant("endless", endless)], rounds=1, size=SIZE)
    counts = re.fullmatch(r"(\d+) events, expected (\d+)", by_name(results)["endless"].detail)
    assert by_name(results)["endless"].status == "mismatch"
    assert counts is not None and int(counts[1]) == int(counts[2]) + 1


def _changes_at_call(call: int, change: str) -> Any:
    def factory() -> Any:
        calls = 0

        def parse(chunks: Iterable[bytes]) -> list[ServerSentEvent]:
            nonlocal calls
            calls += 1
            events = list(iter_events(chunks))
            if calls >= call and change == "raise":
                raise RuntimeError(f"call {calls}")
            return events[:-1] if calls >= call else events

        return parse

    return factory


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [("raise", "error", r"round 2: RuntimeError: call 4"), ("drop", "mismatch", r"round 2: (\d+) events, expected \d+")],
)
def test_a_participant_that_changes_in_a_later_round_leaves_the_table(change: str, status: str, detail: str) -> None:
    # Calls 1 and 2 are the checks (prefix, whole workload), 3 and 4 the timed rounds.
    late = Participant("late", _changes_at_call(4, change))
    results = run_bench(["messages"], ["net"], [SSEADAPT, late], rounds=3, size=SIZE)
    rows = by_name(results)
    assert rows["sseadapt"].status == "ok" and rows["sseadapt"].ratio == 1.0
    assert rows["late"].status == status and re.fullmatch(detail, rows["late"].detail), rows["late"]
    assert rows["late"].mb_per_s is None
    assert [r.participant for r in results] == ["sseadapt", "late"]


def test_table_rows_stay_rows_whatever_an_error_says() -> None:
    results = [
        BenchResult("messages", "net", "p", "ok", mb_per_s=1.0, events_per_s=2.0, ratio=None),
        BenchResult("messages", "net", "q", "error", detail="ValueError: a | b\n  c"),
    ]
    assert format_table(results).splitlines()[2:] == [
        "| messages | net | p | 1.0 | 2 | — |",
        "| messages | net | q | error | | ValueError: a \\| b c |",
    ]


def test_tables_show_each_row_and_the_summary_ratios() -> None:
    results = run_bench(["messages"], ["net"], PARTS, rounds=1, size=SIZE)
    table = format_table(results).splitlines()
    assert len(table) == 2 + len(PARTS)
    assert any(line.startswith("| messages | net | alters | mismatch |") for line in table)
    assert any(line.startswith("| messages | net | sseadapt |") and line.endswith("| 1.00x |") for line in table)
    summary = format_summary(results).splitlines()
    assert len(summary) == 3
    cells = [c.strip() for c in summary[2].strip("|").split("|")]
    ours, good, floor = (by_name(results)[name].mb_per_s for name in ("sseadapt", "good", "floor"))
    assert ours and good and floor
    # The fastest peer is the only timed peer, "good"; floor is not a peer.
    assert cells == ["messages", "net", f"{ours:.1f}", "good", f"{good:.1f}", f"{ours / good:.2f}x", f"{ours / floor:.2f}x", "—"]


def test_summary_reports_the_parser_class_beside_sseadapt_not_as_a_peer() -> None:
    cls = next(p for p in PARTICIPANTS if p.name == "sseadapt.SSEParser")
    results = run_bench(["messages"], ["event"], [SSEADAPT, cls, Participant("good", _good)], rounds=1, size=SIZE)
    assert [r.status for r in results] == ["ok", "ok", "ok"]  # the class's events equal iter_events'
    cells = [c.strip() for c in format_summary(results).splitlines()[2].strip("|").split("|")]
    speeds = by_name(results)
    good, of_class = speeds["good"].mb_per_s, speeds["sseadapt.SSEParser"].mb_per_s
    assert good and of_class
    assert cells[3] == "good"  # the fastest peer, though the class row exists
    assert cells[-1] == f"{of_class / good:.2f}x"


def test_load_parser_refuses_what_it_cannot_use() -> None:
    for spec, message in [
        ("json", "takes module:factory"),
        (":f", "takes module:factory"),
        ("json:", "takes module:factory"),
        ("no_such_module_here:f", "cannot import 'no_such_module_here'"),
        ("json:no_such_name", "has no callable 'no_such_name'"),
        ("json:__doc__", "has no callable '__doc__'"),
    ]:
        with pytest.raises(ValueError, match=message):
            load_parser(spec)
    assert load_parser("sseadapt._bench:_sseadapt").factory() is iter_events


USER_PARSER = textwrap.dedent(
    '''
    from sseadapt import iter_events

    def factory():
        return iter_events

    def wrong():
        return lambda chunks: [e for e in iter_events(chunks) if e.event != "ping"]
    '''
)


def sseadapt_script() -> str:
    script = Path(sys.executable).parent / "sseadapt"
    assert script.exists(), "the package's console script is installed with it"
    return str(script)


def test_cli_puts_a_users_parser_in_the_table_and_writes_json(tmp_path: Path) -> None:
    # Run as users do, the installed `sseadapt` script from the directory
    # holding their parser module (not on the script's own sys.path).
    (tmp_path / "my_sse_parser.py").write_text(USER_PARSER)
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sseadapt_script(), "bench", "--workload", "messages", "--chunking", "net", "--size", str(SIZE), "--rounds", "1",
         "--only", "floor", "--parser", "my_sse_parser:factory", "--parser", "my_sse_parser:wrong", "--json", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("# ") and "messages/net: " in proc.stderr
    stdout = proc.stdout.splitlines()
    assert any(line.startswith("| messages | net | my_sse_parser:factory |") for line in stdout)
    assert any(line.startswith("| messages | net | my_sse_parser:wrong | mismatch |") for line in stdout)
    report = json.loads(out.read_text())
    assert report["machine"]
    statuses = {r["participant"]: r["status"] for r in report["results"]}
    assert statuses == {"sseadapt": "ok", "floor": "ok", "my_sse_parser:factory": "ok", "my_sse_parser:wrong": "mismatch"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rounds", "0"], "argument --rounds: must be more than 0"),
        (["--rounds", "1.5"], "argument --rounds: not an integer"),
        (["--size", "-5"], "argument --size: must be more than 0"),
        (["--time-cap", "nan"], "argument --time-cap: must be a finite number"),
        (["--parser", "no_such_module_here:f"], "cannot import 'no_such_module_here'"),
        (["--parser", "json:nope"], "'json' has no callable 'nope'"),
        (["--workload", "nope"], "argument --workload: invalid choice"),
        (["--only", "httpx_sse"], "--only httpx_sse: no such participant (choose from sseadapt, sseadapt.SSEParser, httpx-sse,"),
        (["--parser", "json:dumps", "--parser", "json:loads", "--parser", "json:dumps"], "--parser json:dumps is given twice"),
    ],
)
def test_cli_usage_errors_exit_2_with_a_message(args: list[str], message: str) -> None:
    assert_usage_error(run_sseadapt("bench", *args), message)


def test_cli_refuses_a_json_file_it_cannot_write_before_the_run(tmp_path: Path) -> None:
    for target, reason in [(tmp_path / "missing" / "b.json", "No such file or directory"), (tmp_path, "Is a directory")]:
        proc = run_sseadapt("bench", "--workload", "messages", "--chunking", "whole", "--json", str(target))
        assert_usage_error(proc, f"--json {target}: {reason}")
        assert "# " not in proc.stderr and not proc.stdout  # no run started


@pytest.mark.parametrize("name", WORKLOADS)
def test_every_chunking_delivers_the_workload_bytes(name: str) -> None:
    data = workload(name, SIZE)
    for chunking in CHUNKINGS:
        assert b"".join(chunked(data, chunking)) == data, chunking
    events = list(iter_events([data]))
    by_event = chunked(data, "event")
    # One chunk per event: each ends with its blank line and holds one event.
    assert len(by_event) == len(events)
    assert all(chunk.endswith((b"\n\n", b"\r\n\r\n")) for chunk in by_event)
    assert [len(list(iter_events([chunk]))) for chunk in by_event] == [1] * len(events)
