"""Fuzzing in the test suite: a short atheris run, Hypothesis, and a stateful model.

The long run is a documented command (see tests/fuzz_pipeline.py).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sseadapt import SUPPORTED_CONVERSIONS, Dialect, LocalProtocolError, Pipeline, iter_events

from .fuzz_pipeline import DICTIONARY, TERMINAL, _is_error, _stop_reason, check_one
from .helpers import ROOT

# Inputs the fuzzer or review found interesting; each stays a regression case.
REGRESSIONS: list[bytes] = [
    b"\x00\x00\x00\x00",
    b"\x05\x03\x00\x00\xe0\xe1\xe2\xe3\xe4\xe5",  # a Messages stream through every target
    b"\x00\x00\x03\x00\xf2\xf3\xf1",  # CR, LF and CRLF mixed around events
    b"\x02\x00\x00\x00" + b"x" * 300,  # one line over a 64-byte limit, byte by byte
    b"\x04\x01\x06\x00\xf4\xf6",  # a BOM then an invalid byte
    # Found by atheris: a second stop event after a complete 2023-06-01 stream.
    __import__("base64").b64decode("CsHBwcHBwcHBwcHu7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7BwcHBwcHBwcHBwcHBwcHB"),
]


@pytest.mark.parametrize("data", REGRESSIONS)
def test_regression_inputs(data: bytes) -> None:
    check_one(data)


@given(st.binary(max_size=512) | st.lists(st.sampled_from(DICTIONARY) | st.binary(max_size=8), max_size=20).map(lambda parts: b"\x00\x00\x00\x00" + b"".join(parts)))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_pipeline_invariants_hypothesis(data: bytes) -> None:
    check_one(data)


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed (extra: fuzz, Linux)")
def test_short_atheris_run() -> None:
    """20,000 coverage-guided inputs; a crash fails the test with atheris's report."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "fuzz_pipeline.py"), "-runs=20000", "-max_len=2048", "-seed=1"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Done 20000 runs" in proc.stderr


EVENTS: dict[Dialect, list[bytes]] = {
    Dialect.MESSAGES: [e for e in DICTIONARY if e.startswith(b"event: ") and b"completion" not in e],
    Dialect.COMPLETIONS: [e for e in DICTIONARY if e.startswith((b"event: completion", b"event: ping", b"event: error"))],
    Dialect.LEGACY: [e for e in DICTIONARY if e.startswith(b"data: ") or e.startswith(b"event: ping")],
}


class PipelineModel(RuleBasedStateMachine):
    """Arbitrary interleavings of valid events, garbage and chunk splits, per dialect pair."""

    def __init__(self) -> None:
        super().__init__()
        self.pipeline: Pipeline | None = None
        self.output = b""
        self.ended = False

    @precondition(lambda self: self.pipeline is None)
    @rule(pair=st.sampled_from(list(SUPPORTED_CONVERSIONS)))
    def start(self, pair: Any) -> None:
        self.source, self.target = pair
        self.pipeline = Pipeline(self.source, self.target, max_event_size=4096)

    def _feed(self, data: bytes) -> None:
        assert self.pipeline is not None
        if not data and not self.ended:
            return  # b"" means end of input: only the end rule sends it
        self.pipeline.receive_data(data)
        self.output += self.pipeline.data_to_send()

    @precondition(lambda self: self.pipeline is not None and not self.ended)
    @rule(index=st.integers(0, 100), split=st.integers(0, 200))
    def valid_event(self, index: int, split: int) -> None:
        event = EVENTS[self.source][index % len(EVENTS[self.source])]
        split %= len(event) + 1
        self._feed(event[:split])
        self._feed(event[split:])

    @precondition(lambda self: self.pipeline is not None and not self.ended)
    @rule(data=st.binary(min_size=1, max_size=16))
    def garbage(self, data: bytes) -> None:
        self._feed(data)

    @precondition(lambda self: self.pipeline is not None and not self.ended)
    @rule()
    def end(self) -> None:
        self.ended = True
        self._feed(b"")

    @precondition(lambda self: self.ended)
    @rule(data=st.binary(min_size=1, max_size=8))
    def data_after_end_is_refused(self, data: bytes) -> None:
        assert self.pipeline is not None
        with pytest.raises(LocalProtocolError):
            self.pipeline.receive_data(data)
        assert self.pipeline.data_to_send() == b""

    @invariant()
    def output_is_well_formed(self) -> None:
        if not self.output:
            return
        self.output.decode("utf-8")
        assert self.output.endswith(b"\n\n")
        list(iter_events([self.output]))

    @invariant()
    def ended_output_is_terminal_or_error(self) -> None:
        if not self.ended or self.pipeline is None:
            return
        events = list(iter_events([self.output]))
        assert events
        last = events[-1].data
        ends_with_error = _is_error(last)
        if self.target is Dialect.COMPLETIONS:
            ends_with_terminal = not ends_with_error and _stop_reason(last) is not None
        else:
            ends_with_terminal = self.output.endswith(TERMINAL[self.target])
        assert ends_with_terminal != ends_with_error
        if self.pipeline.complete:
            assert ends_with_terminal
        else:
            assert self.pipeline.error is not None


TestPipelineModel = PipelineModel.TestCase
TestPipelineModel.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
