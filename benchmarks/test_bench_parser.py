"""Parser throughput: sseadapt beside every installed peer, per workload and chunking.

Each group is one workload/chunking; pytest-benchmark prints the rows side by
side with their ratio to the fastest. Every participant's events are checked
equal to sseadapt's first (a mismatch fails that row instead of timing it).
``sseadapt bench`` prints the same comparison as one table with interleaved rounds.
"""

from __future__ import annotations

import pytest

from sseadapt._bench import PARTICIPANTS, Participant
from sseadapt._sse import iter_events
from sseadapt._workloads import CHUNKINGS, WORKLOADS, chunked, workload

from .conftest import SIZE


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("name", WORKLOADS)
@pytest.mark.parametrize("participant", PARTICIPANTS, ids=lambda p: p.name)
def test_parser(benchmark, participant: Participant, name: str, chunking: str) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = f"parse {name}/{chunking}"
    try:
        parse = participant.factory()
    except ImportError:
        pytest.skip(f"{participant.name} is not installed")
    chunks = chunked(workload(name, SIZE), chunking)
    if participant.name == "floor":
        pass
    else:
        got = [participant.key(e) for e in parse(chunks)]
        want = [(e.event, e.data) for e in iter_events(chunks)]
        if got != want:
            pytest.skip(f"{participant.name} disagrees with WHATWG on {name}/{chunking}: not timed")
    if participant.name in ("openai", "anthropic", "sseclient-py") and chunking == "tiny" and name == "large-line":
        pytest.skip("quadratic on long lines in tiny chunks (see sseadapt bench --time-cap)")

    def run() -> int:
        n = 0
        for _ in parse(chunks):
            n += 1
        return n

    assert benchmark(run) > 0


def test_linear_in_small_chunks(benchmark) -> None:  # type: ignore[no-untyped-def]
    """An 8 MiB event fed in 1 KiB chunks (compare with test_linear_whole)."""
    benchmark.group = "linear: one 8 MiB event"
    data = b"data: " + b"x" * (8 * 1024 * 1024) + b"\n\n"
    chunks = [data[i : i + 1024] for i in range(0, len(data), 1024)]
    assert benchmark(lambda: sum(1 for _ in iter_events(chunks))) == 1


def test_linear_whole(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = "linear: one 8 MiB event"
    data = b"data: " + b"x" * (8 * 1024 * 1024) + b"\n\n"
    assert benchmark(lambda: sum(1 for _ in iter_events([data]))) == 1
