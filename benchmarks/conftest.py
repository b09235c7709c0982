"""Benchmark settings: SSEADAPT_BENCH_SIZE sets the workload size (default 10 MB).

Smoke run (each benchmark once, small workloads):
    SSEADAPT_BENCH_SIZE=200000 python -m pytest benchmarks --benchmark-disable
Full run, peers side by side (ratios are what to read; this machine is shared):
    python -m pytest benchmarks --benchmark-group-by=group --benchmark-columns=median,ops
"""

from __future__ import annotations

import os

SIZE = int(os.environ.get("SSEADAPT_BENCH_SIZE", "10000000"))
