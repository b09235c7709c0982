"""The converter benchmarks' inputs and work, shared by the pytest-benchmark
suite (``test_bench_convert.py``) and the interleaved ratios
(``python -m benchmarks.convert_ratios``)."""

from __future__ import annotations

import json

from sseadapt import Dialect, Pipeline, iter_events

from .workloads import chunked, single_stream

# One stream per source: ~2 MB of short events, or a 2,000-token legacy completion.
INPUT = {
    Dialect.MESSAGES: ("messages", 14_000),
    Dialect.COMPLETIONS: ("completions", 14_000),
    Dialect.LEGACY: ("legacy", 2_000),
}


def source_chunks(dialect: Dialect) -> list[bytes]:
    """The source stream of ``dialect`` in 4 KiB reads."""
    return chunked(single_stream(*INPUT[dialect]), "net")


def convert(source: Dialect, target: Dialect, chunks: list[bytes]) -> int:
    """Convert the whole stream through a :class:`Pipeline`; the output's size."""
    pipeline = Pipeline(source, target, clock=lambda: 0, log_id_factory=lambda: "0" * 64)
    total = 0
    for chunk in chunks:
        pipeline.receive_data(chunk)
        total += len(pipeline.data_to_send())
    pipeline.receive_data(b"")
    total += len(pipeline.data_to_send())
    assert pipeline.complete, pipeline.error
    return total


def event_datas(chunks: list[bytes]) -> list[str]:
    """Every event's data but the ``[DONE]`` terminator: what the floor decodes."""
    return [e.data for e in iter_events(chunks) if e.data != "[DONE]"]


def json_roundtrip(datas: list[str]) -> int:
    """json.loads + json.dumps of every event's data: what any converter must at least do."""
    return sum(len(json.dumps(json.loads(d), ensure_ascii=False)) for d in datas)
