"""Every converter against the json.loads + json.dumps floor of its input,
interleaved round by round (``python -m benchmarks.convert_ratios``).

pytest-benchmark (``test_bench_convert.py``) times one test after another, so
on a shared machine the load drifting between them moves the ratios (one
converter read 1.11x and 1.60x of its floor in two runs minutes apart). Here
each round times the floor and then every converter from the same input, and
a converter's ratio is the median over rounds of its time divided by the
floor's time in the same round. Conversions to cumulative 2023-01-01 output
from an incremental source are left out (their output is not the input's
size; ``test_cumulative_cost_per_output_byte`` measures them).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

from sseadapt import SUPPORTED_CONVERSIONS, Dialect

from .conversions import INPUT, convert, event_datas, json_roundtrip, source_chunks


def _timed(work: Callable[[], int]) -> float:
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=11, help="interleaved rounds (default 11)")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    print(f"# {args.rounds} interleaved rounds; CPython {sys.version.split()[0]}")
    print("| conversion | median | floor (json.loads + json.dumps) | converter ÷ floor, median of rounds |")
    print("|---|---:|---:|---:|")
    for source in INPUT:
        chunks = source_chunks(source)
        datas = event_datas(chunks)
        # Cumulative (2023-01-01) output from an incremental source grows with the
        # square of the completion, so it has no floor of the input's size: its
        # cost per output byte is test_cumulative_cost_per_output_byte's.
        targets = [t for s, t in SUPPORTED_CONVERSIONS if s is source and (t is not Dialect.LEGACY or s is Dialect.LEGACY)]
        works: dict[str, Callable[[], int]] = {"floor": partial(json_roundtrip, datas)}
        for target in targets:
            works[target.value] = partial(convert, source, target, chunks)
        times: dict[str, list[float]] = {name: [] for name in works}
        for _ in range(args.rounds):
            for name, work in works.items():
                times[name].append(_timed(work))
        floor = times["floor"]
        for target in targets:
            own = times[target.value]
            ratio = statistics.median(t / f for t, f in zip(own, floor))
            print(f"| {source.value} → {target.value} | {statistics.median(own) * 1e3:.1f} ms "
                  f"| {statistics.median(floor) * 1e3:.1f} ms | {ratio:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
