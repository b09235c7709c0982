"""An 8 MiB event in 1 KiB chunks against the same event whole, each run in a
fresh process (``python -m benchmarks.linear_cold``).

pytest-benchmark's ``test_linear_*`` pair repeats each case in one process,
where the whole case reuses warm memory and the chunked case (two live 8 MiB
buffers: the joined bytes and the decoded text) makes the allocator trim and
fault pages in again every round. Starting each run cold compares the parsing
work alone. Reports the medians of interleaved runs and their ratio.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 7

_ONE_RUN = r"""
import sys, time
from sseadapt import iter_events
data = b"data: " + b"x" * (8 * 1024 * 1024) + b"\n\n"
chunks = [data[i : i + 1024] for i in range(0, len(data), 1024)] if sys.argv[1] == "chunks" else [data]
start = time.perf_counter()
count = sum(1 for _ in iter_events(chunks))
assert count == 1
print((time.perf_counter() - start) * 1e3)
"""


def main() -> None:
    times: dict[str, list[float]] = {"chunks": [], "whole": []}
    for _ in range(RUNS):
        for case, runs in times.items():
            out = subprocess.run([sys.executable, "-c", _ONE_RUN, case], capture_output=True, text=True, check=True, timeout=120)
            runs.append(float(out.stdout))
    chunks, whole = (statistics.median(times[case]) for case in ("chunks", "whole"))
    print(f"8 MiB event, {RUNS} cold runs each: 1 KiB chunks {chunks:.2f} ms, whole {whole:.2f} ms (medians), ratio {chunks / whole:.2f}x")


if __name__ == "__main__":
    main()
