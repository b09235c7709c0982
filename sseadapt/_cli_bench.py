"""``sseadapt bench``: the parser throughput table."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._cli_types import number
from ._workloads import CHUNKINGS, DEFAULT_SIZE, WORKLOADS

__all__ = ["register"]


def register(sub: Any) -> None:
    bench = sub.add_parser(
        "bench",
        help="SSE parser throughput, peers side by side (extra: bench)",
        description="Measure sseadapt's SSE parser (iter_events, and the SSEParser class fed chunk by chunk) "
        "beside the peer parsers installed (httpx-sse, anthropic, openai, launchdarkly-eventsource, "
        "sseclient-py) and a floor row, on deterministic workloads. "
        "Events are checked equal to sseadapt's before timing; rounds interleave the participants.",
    )
    bench.add_argument("--workload", action="append", choices=WORKLOADS, help="repeatable (default: all)")
    bench.add_argument("--chunking", action="append", choices=list(CHUNKINGS), help="repeatable (default: all)")
    bench.add_argument("--parser", action="append", default=[], metavar="MODULE:FACTORY", help="add your own parser: FACTORY() returns a callable from an iterable of bytes chunks to events with .event and .data; MODULE is imported from the working directory or sys.path (repeatable)")
    bench.add_argument("--only", action="append", default=[], metavar="NAME", help="measure only these participants (sseadapt is always measured)")
    bench.add_argument("--rounds", type=number(int), default=5, help="interleaved rounds (default 5)")
    bench.add_argument("--size", type=number(int), default=DEFAULT_SIZE, help="bytes per workload, at least one whole stream (default 10,000,000)")
    bench.add_argument("--time-cap", type=number(float), default=20.0, help="skip a participant whose run would take longer (s)")
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    bench.set_defaults(func=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    from ._bench import PARTICIPANTS, format_summary, format_table, load_parser, machine, run_bench, to_json

    participants = list(PARTICIPANTS)
    unknown = sorted(set(args.only) - {p.name for p in participants})
    if unknown:
        names = ", ".join(p.name for p in participants)
        return _usage_error(f"--only {unknown[0]}: no such participant (choose from {names}; --parser adds your own)")
    if args.only:
        participants = [p for p in participants if p.name in args.only or p.name == "sseadapt"]
    repeated = next((spec for i, spec in enumerate(args.parser) if spec in args.parser[:i]), None)
    if repeated is not None:
        return _usage_error(f"--parser {repeated} is given twice")
    if args.parser and "" not in sys.path and os.getcwd() not in sys.path:
        # The `sseadapt` script's sys.path starts with its own directory, not
        # the working one: a user's parser module next to them must import.
        sys.path.insert(0, os.getcwd())
    try:
        participants += [load_parser(spec) for spec in args.parser]
    except ValueError as exc:
        return _usage_error(str(exc))
    if args.json:
        # Found out now, not after a run of many minutes (the file is created
        # if missing, and written when the run is over).
        try:
            open(args.json, "a").close()
        except OSError as exc:
            return _usage_error(f"--json {args.json}: {exc.strerror or exc}")
    print(f"# {machine()}", file=sys.stderr)
    results = run_bench(
        args.workload or WORKLOADS,
        args.chunking or list(CHUNKINGS),
        participants,
        rounds=args.rounds,
        size=args.size,
        time_cap=args.time_cap,
        progress=lambda msg: print(f"# {msg}", file=sys.stderr, flush=True),
    )
    print(format_table(results))
    print()
    print(format_summary(results))
    if args.json:
        try:
            with open(args.json, "w") as f:
                f.write(to_json(results))
        except OSError as exc:
            return _usage_error(f"--json {args.json}: {exc.strerror or exc} (the table above is the run's result)")
    return 0


def _usage_error(message: str) -> int:
    print(f"sseadapt bench: {message}", file=sys.stderr)
    return 2
