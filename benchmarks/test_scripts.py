"""Smoke runs of the benchmark scripts behind the README's figures, kept small.

They check that each script runs and reports what it says (counts, the lines
of its table), never a time. The memory check is a bound on bytes, which do
not depend on the machine's load.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_script(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_memory_stays_within_twice_the_largest_event_plus_a_constant() -> None:
    out = run_script("benchmarks.memory", "400000")
    assert "1000 events, largest event 400,018 B" in out
    peak = re.search(r"peak traced memory ([\d,]+) B", out)
    assert peak is not None, out
    # The target: under 2x the largest event plus a constant (64 KiB here).
    assert int(peak[1].replace(",", "")) < 2 * 400_018 + 64 * 1024


def test_linear_cold_reports_both_cases() -> None:
    out = run_script("benchmarks.linear_cold")
    assert re.fullmatch(
        r"8 MiB event, 7 cold runs each: 1 KiB chunks [\d.]+ ms, whole [\d.]+ ms \(medians\), ratio [\d.]+x\n", out
    ), out


def test_proxy_load_relays_every_event_and_reports_each_row() -> None:
    out = run_script("benchmarks.proxy_load", "--clients", "3", "--events", "3", "--interval", "0.01", "--idle-streams", "5")
    for path in ("direct (messages)", "via proxy (legacy)"):
        row = re.search(rf"^\| 3 \| {re.escape(path)} \| (\d+) \|", out, re.M)
        assert row is not None and int(row[1]) == 9, out  # 3 clients x 3 events, each one timed
    assert re.search(r"^\| 3 \| \*\*added by the proxy\*\* \| \| \| -?[\d.]+ \| -?[\d.]+ \|$", out, re.M), out
    assert re.search(r"^3 clients, via proxy: [\d.]+ s; CPU seconds: clients [\d.]+, upstream [\d.]+, proxy [\d.]+$", out, re.M)
    assert re.search(r"proxy memory per idle stream \(5 streams open, fresh proxy\): -?[\d.]+ KiB", out), out
