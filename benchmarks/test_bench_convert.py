"""Converter throughput next to the json.loads + json.dumps cost of the same events.

Run: ``python -m pytest benchmarks/test_bench_convert.py --benchmark-group-by=group``.
Each group holds one input workload: the ``json-roundtrip`` row is the floor a
converter is compared against (issue target: within 1.5x of it). The tests run
one after another, so on a busy machine the ratios drift;
``python -m benchmarks.convert_ratios`` interleaves them.
"""

from __future__ import annotations

import pytest

from sseadapt import SUPPORTED_CONVERSIONS, Dialect

from .conversions import INPUT, convert, event_datas, json_roundtrip, source_chunks
from .workloads import chunked, single_stream


@pytest.mark.parametrize("pair", SUPPORTED_CONVERSIONS, ids=lambda p: f"{p[0].value}->{p[1].value}")
def test_converter(benchmark, pair) -> None:  # type: ignore[no-untyped-def]
    source, target = pair
    benchmark.group = f"convert from {source.value}"
    out = benchmark(convert, source, target, source_chunks(source))
    assert out > 0


@pytest.mark.parametrize("source", list(INPUT), ids=lambda d: d.value)
def test_json_roundtrip_floor(benchmark, source) -> None:  # type: ignore[no-untyped-def]
    """json.loads + json.dumps of every event's data: what any converter must at least do."""
    benchmark.group = f"convert from {source.value}"
    assert benchmark(json_roundtrip, event_datas(source_chunks(source))) > 0


@pytest.mark.parametrize("tokens", [500, 1000, 2000, 4000])
def test_cumulative_cost_per_output_byte(benchmark, tokens: int) -> None:  # type: ignore[no-untyped-def]
    """2023-06-01 -> 2023-01-01: time / output bytes should stay flat as completions grow."""
    benchmark.group = "2023-06-01 -> legacy by completion length"
    chunks = chunked(single_stream("completions", tokens), "net")
    out = benchmark(convert, Dialect.COMPLETIONS, Dialect.LEGACY, chunks)
    benchmark.extra_info["output_bytes"] = out
    benchmark.extra_info["tokens"] = tokens
