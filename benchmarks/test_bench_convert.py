"""Converter throughput next to the json.loads + json.dumps cost of the same events.

Run: ``python -m pytest benchmarks/test_bench_convert.py --benchmark-group-by=group``.
Each group holds one input workload: the ``json-roundtrip`` row is the floor a
converter is compared against (issue target: within 1.5x of it).
"""

from __future__ import annotations

import json

import pytest

from sseadapt import SUPPORTED_CONVERSIONS, Dialect, Pipeline, iter_events

from .workloads import chunked, single_stream

# One stream per source: ~2 MB of short events, or a 2,000-token legacy completion.
INPUT = {
    Dialect.MESSAGES: ("messages", 14_000),
    Dialect.COMPLETIONS: ("completions", 14_000),
    Dialect.LEGACY: ("legacy", 2_000),
}


def _data(dialect: Dialect) -> bytes:
    return single_stream(*INPUT[dialect])


def _convert(source: Dialect, target: Dialect, chunks: list[bytes]) -> int:
    pipeline = Pipeline(source, target, clock=lambda: 0, log_id_factory=lambda: "0" * 64)
    total = 0
    for chunk in chunks:
        pipeline.receive_data(chunk)
        total += len(pipeline.data_to_send())
    pipeline.receive_data(b"")
    total += len(pipeline.data_to_send())
    assert pipeline.complete, pipeline.error
    return total


@pytest.mark.parametrize("pair", SUPPORTED_CONVERSIONS, ids=lambda p: f"{p[0].value}->{p[1].value}")
def test_converter(benchmark, pair) -> None:  # type: ignore[no-untyped-def]
    source, target = pair
    benchmark.group = f"convert from {source.value}"
    chunks = chunked(_data(source), "net")
    out = benchmark(_convert, source, target, chunks)
    assert out > 0


@pytest.mark.parametrize("source", list(INPUT), ids=lambda d: d.value)
def test_json_roundtrip_floor(benchmark, source) -> None:  # type: ignore[no-untyped-def]
    """json.loads + json.dumps of every event's data: what any converter must at least do."""
    benchmark.group = f"convert from {source.value}"
    datas = [e.data for e in iter_events(chunked(_data(source), "net")) if e.data != "[DONE]"]

    def roundtrip() -> int:
        return sum(len(json.dumps(json.loads(d), ensure_ascii=False)) for d in datas)

    assert benchmark(roundtrip) > 0


@pytest.mark.parametrize("tokens", [500, 1000, 2000, 4000])
def test_cumulative_cost_per_output_byte(benchmark, tokens: int) -> None:  # type: ignore[no-untyped-def]
    """2023-06-01 -> 2023-01-01: time / output bytes should stay flat as completions grow."""
    benchmark.group = "2023-06-01 -> legacy by completion length"
    chunks = chunked(single_stream("completions", tokens), "net")
    out = benchmark(_convert, Dialect.COMPLETIONS, Dialect.LEGACY, chunks)
    benchmark.extra_info["output_bytes"] = out
    benchmark.extra_info["tokens"] = tokens
