"""The command line: convert (streaming on a live pipe), validate, exit codes."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sseadapt.__main__ import EXIT_INVALID, EXIT_OK, EXIT_UPSTREAM_ERROR, EXIT_USAGE, main

from .helpers import FIXTURES, ROOT

MESSAGES = FIXTURES / "v2023-06-01_messages_text-only.sse"
LOG_ID = "0d4d4fb341ff83236333ad511ec59b4b822c2487ab425cf05e0b5f12a59f756a"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "sseadapt", *args], input=stdin, capture_output=True, timeout=60, cwd=ROOT, check=False
    )


def test_convert_file_matches_expected() -> None:
    proc = run("convert", "--from", "messages", "--to", "completions-2023-06-01", str(MESSAGES))
    assert proc.returncode == EXIT_OK, proc.stderr
    assert proc.stdout == (FIXTURES / "expected/messages-text-only.to-2023-06-01.sse").read_bytes()
    assert proc.stderr == b""


def test_convert_stdin_crlf_and_aliases() -> None:
    proc = run("convert", "--from", "messages", "--to", "legacy", "--crlf", "-", stdin=MESSAGES.read_bytes())
    assert proc.returncode == EXIT_OK
    assert proc.stdout.endswith(b"data: [DONE]\r\n\r\n") and b"\r\n\r\n" in proc.stdout


def test_convert_truncated_input_exits_1_with_error_shape() -> None:
    raw = MESSAGES.read_bytes()
    proc = run("convert", "--from", "messages", "--to", "openai", stdin=raw[: len(raw) // 2])
    assert proc.returncode == EXIT_INVALID
    assert proc.stdout.endswith(b'data: {"error":{"message":"upstream stream ended early (no terminal event)","type":"api_error","code":null}}\n\n')
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "IncompleteStream" in lines[0]


def test_convert_error_event_exits_3() -> None:
    proc = run("convert", "--from", "completions", "--to", "legacy", str(FIXTURES / "v2023-06-01_text-completion_error-midstream.sse"))
    assert proc.returncode == EXIT_UPSTREAM_ERROR
    assert b'"exception": "overloaded_error: Overloaded"' in proc.stdout
    assert proc.stderr.decode().count("\n") == 1


def test_convert_usage_errors_exit_2() -> None:
    assert run("convert", "--from", "bogus", "--to", "legacy").returncode == EXIT_USAGE
    assert run("convert", "--from", "completions", "--to", "messages").returncode == EXIT_USAGE
    assert run("convert", "--from", "messages", "--to", "legacy", "/no/such/file").returncode == EXIT_USAGE
    assert run().returncode == EXIT_USAGE


def test_convert_streams_on_a_live_pipe() -> None:
    """The first output event arrives while the input is still open."""
    raw = MESSAGES.read_bytes()
    first_delta_end = raw.index(b"\n\n", raw.index(b"content_block_delta")) + 2
    proc = subprocess.Popen(
        [sys.executable, "-m", "sseadapt", "convert", "--from", "messages", "--to", "legacy"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(raw[:first_delta_end])
        proc.stdin.flush()
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        got = b""
        deadline = time.monotonic() + 30
        while b"\n\n" not in got and time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                got += os.read(proc.stdout.fileno(), 65536)
        assert got.startswith(b'data: {"completion": " Hello", "stop_reason": null'), got
        assert proc.poll() is None  # still running: the input is still open
        proc.stdin.write(raw[first_delta_end:])
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.wait(timeout=30) == EXIT_OK
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (got + rest).endswith(b"data: [DONE]\n\n")


def test_validate_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--dialect", "messages", str(FIXTURES / "v2023-06-01_messages_text-tool-use_usage.sse")]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.strip() == "valid messages stream: 19 events, 2 content blocks, final text length 26, stop reason tool_use"
    assert main(["validate", "--dialect", "legacy", str(FIXTURES / "legacy-2023-01-01_text-completion_cumulative_done.sse")]) == EXIT_OK
    assert "9 events, final text length 26, stop reason stop_sequence" in capsys.readouterr().out


def test_validate_reports_first_violation_with_index_and_offset(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    raw = MESSAGES.read_bytes()
    bad_at = raw.index(b"event: content_block_stop")
    bad = raw[:bad_at] + b'event: content_block_delta\ndata: {"type":"content_block_delta","index":7,"delta":{"type":"text_delta","text":"x"}}\n\n' + raw[bad_at:]
    path = tmp_path / "bad.sse"
    path.write_bytes(bad)
    assert main(["validate", "--dialect", "messages", str(path)]) == EXIT_INVALID
    out = capsys.readouterr().out
    end_of_bad_event = bad.index(b"\n\n", bad_at) + 2
    assert out.startswith(f"invalid: event #10 at byte offset {end_of_bad_event}: UnexpectedEvent: messages: delta for block 7")


def test_validate_wrong_dialect_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--dialect", "legacy", str(MESSAGES)]) == EXIT_INVALID
    assert "is the dialect right?" in capsys.readouterr().out


def test_validate_upstream_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--dialect", "messages", str(FIXTURES / "v2023-06-01_messages_error-midstream.sse")])
    assert code == EXIT_UPSTREAM_ERROR
    assert "overloaded_error: Overloaded (HTTP 529)" in capsys.readouterr().out


def test_validate_prints_what_the_stream_says_on_one_printable_line() -> None:
    # A stop reason holding half a surrogate pair ended validate in a UnicodeEncodeError
    # traceback (stdout is strict UTF-8); an error message could break the summary line.
    raw = MESSAGES.read_bytes()
    assert b'"stop_reason":"end_turn"' in raw
    proc = run("validate", "--dialect", "messages", "-", stdin=raw.replace(b'"stop_reason":"end_turn"', b'"stop_reason":"end\\ud800"'))
    assert (proc.returncode, proc.stderr) == (EXIT_OK, b"")
    assert proc.stdout.endswith(b"stop reason end\\ud800\n")
    error = b'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"a\\ud800\\nb"}}\n\n'
    proc = run("validate", "--dialect", "messages", "-", stdin=raw[: raw.index(b"event: content_block_stop")] + error)
    assert proc.returncode == EXIT_UPSTREAM_ERROR, proc.stderr
    assert proc.stdout == b"error event: #10: api_error: a\\ud800 b (HTTP 500)\n"
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "messages", "--to", "legacy", "--include-usage"], "--include-usage applies to --to openai only, not completions-2023-01-01"),
        (["--from", "legacy", "--to", "completions", "--non-text", "raise"], "--non-text applies to messages input converted to another dialect"),
        (["--from", "messages", "--to", "messages", "--non-text", "raise"], "--non-text applies to messages input"),
    ],
)
def test_convert_refuses_a_flag_that_would_change_nothing(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Each was silently ignored: --include-usage with legacy output wrote no usage anywhere.
    assert main(["convert", *args, str(MESSAGES)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err.startswith(f"sseadapt convert: {message}") and captured.err.count("\n") == 1
    assert captured.out == ""


def test_convert_takes_the_flags_where_they_apply(capsys: pytest.CaptureFixture[str]) -> None:
    tool_use = str(FIXTURES / "v2023-06-01_messages_text-tool-use_usage.sse")
    assert main(["convert", "--from", "messages", "--to", "openai", "--include-usage", tool_use]) == EXIT_OK
    assert '"usage":{"prompt_tokens":472' in capsys.readouterr().out
    assert main(["convert", "--from", "messages", "--to", "legacy", "--non-text", "raise", tool_use]) == EXIT_INVALID
    assert "ConversionError: 'tool_use' block has no completions-2023-01-01 form" in capsys.readouterr().err


def test_version_and_help() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith(b"sseadapt ")
    assert b"convert" in run("--help").stdout


def _long_messages_stream(deltas: int) -> bytes:
    raw = MESSAGES.read_bytes()
    start = raw.index(b"event: content_block_delta")
    end = raw.index(b"\n\n", start) + 2
    return raw[:end] + raw[start:end] * deltas + raw[end:]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["convert", "--from", "messages", "--to", "openai", str(MESSAGES)],
        ["validate", "--dialect", "messages", str(MESSAGES)],
        ["demo", "--delay", "0"],
        ["bench", "--workload", "messages", "--chunking", "whole", "--size", "1000", "--rounds", "1", "--only", "floor"],
    ],
)
def test_output_that_cannot_be_written_exits_2_without_a_traceback(args: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "sseadapt", *args], stdout=full, stderr=subprocess.PIPE, timeout=120, cwd=ROOT, check=False
        )
    stderr = proc.stderr.decode()
    assert proc.returncode == EXIT_USAGE, stderr
    assert f"sseadapt {args[0]}: No space left on device" in stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_convert_stops_quietly_when_its_reader_goes_away(tmp_path: Path) -> None:
    # Megabytes of output, far more than a pipe holds: a write blocks until the reader closes.
    source = tmp_path / "long.sse"
    source.write_bytes(_long_messages_stream(20_000))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sseadapt", "convert", "--from", "messages", "--to", "openai", str(source)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        assert proc.stdout.read(100).startswith(b"data: {")
        proc.stdout.close()
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == EXIT_INVALID
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr, stderr
