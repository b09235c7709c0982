"""The ``sseadapt`` command line (also ``python -m sseadapt``).

Subcommands::

    sseadapt convert --from D --to D [FILE|-]   convert a stream, flushing each event
    sseadapt validate --dialect D [FILE|-]      check a stream, print a summary
    sseadapt proxy --upstream URL|builtin ...   serve legacy clients (extra: proxy)
    sseadapt demo                               the offline end-to-end demo (extra: proxy)
    sseadapt bench ...                          parser throughput table (extra: bench)

Dialects: ``completions-2023-01-01`` (alias ``legacy``), ``completions-2023-06-01``
(alias ``completions``), ``messages``, ``openai`` (output only).

Exit codes of ``convert`` and ``validate``:

* 0 — the stream was complete and valid;
* 1 — the stream broke its protocol or ended before its terminal event;
* 2 — usage error, the input could not be read or the output not written;
* 3 — the stream reported an error (an Anthropic ``error`` event).

On 1 and 3 a one-line reason goes to stderr; ``convert`` has then already
written the target's error shape as the end of its output.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO, Union

from ._accumulate import CompletionAccumulator, MessageAccumulator
from ._errors import ProtocolError, SSEAdaptError, UpstreamError
from ._events import Dialect
from ._machines import StreamReader
from ._pipeline import Pipeline
from ._version import __version__

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_INVALID", "EXIT_USAGE", "EXIT_UPSTREAM_ERROR"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UPSTREAM_ERROR = 3

_READ_SIZE = 65536


def _dialect(value: str) -> Dialect:
    try:
        return Dialect.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _open_input(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    return open(path, "rb")  # noqa: SIM115 - closed by the caller


def _read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Yield what is available as it arrives (works on a live pipe)."""
    read1 = getattr(stream, "read1", None)
    while True:
        chunk = read1(_READ_SIZE) if read1 is not None else stream.read(_READ_SIZE)
        if not chunk:
            return
        yield chunk


def _reason(exc: BaseException) -> str:
    return _printable(f"{type(exc).__name__}: {exc}")


def _printable(value: object) -> str:
    """``value`` as one line stdout can take: the stream's text may hold line
    breaks, and lone surrogates (JSON escapes them) that a UTF-8 stdout refuses."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _pointless_flag(args: argparse.Namespace) -> Union[str, None]:
    """A convert flag that would change nothing for this pair (said, not ignored)."""
    if args.include_usage and args.target is not Dialect.OPENAI:
        return f"--include-usage applies to --to openai only, not {args.target.value}"
    if args.non_text == "raise" and (args.source is not Dialect.MESSAGES or args.target is Dialect.MESSAGES):
        return "--non-text applies to messages input converted to another dialect"
    return None


def _cmd_convert(args: argparse.Namespace) -> int:
    pointless = _pointless_flag(args)
    if pointless is not None:
        print(f"sseadapt convert: {pointless}", file=sys.stderr)
        return EXIT_USAGE
    try:
        pipeline = Pipeline(
            args.source,
            args.target,
            line_ending="\r\n" if args.crlf else "\n",
            ping=args.ping,
            unknown=args.unknown,
            non_text=args.non_text,
            include_usage=args.include_usage,
        )
    except ValueError as exc:
        print(f"sseadapt convert: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = sys.stdout.buffer
    try:
        source = _open_input(args.file)
    except OSError as exc:
        print(f"sseadapt convert: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    try:
        for chunk in _read_chunks(source):
            pipeline.receive_data(chunk)
            data = pipeline.data_to_send()
            if data:
                out.write(data)
                out.flush()
        pipeline.receive_data(b"")
        out.write(pipeline.data_to_send())
        out.flush()
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    if pipeline.error is not None:
        print(f"sseadapt convert: {_reason(pipeline.error)}", file=sys.stderr)
        return EXIT_UPSTREAM_ERROR if isinstance(pipeline.error, UpstreamError) else EXIT_INVALID
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    dialect: Dialect = args.dialect
    if dialect is Dialect.OPENAI:
        print("sseadapt validate: openai is an output-only dialect", file=sys.stderr)
        return EXIT_USAGE
    reader = StreamReader(dialect)
    acc = MessageAccumulator() if dialect is Dialect.MESSAGES else CompletionAccumulator(dialect)
    try:
        source = _open_input(args.file)
    except OSError as exc:
        print(f"sseadapt validate: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    count = 0
    try:
        try:
            # Fed line by line so that offsets in errors are exact to the line.
            for chunk in _read_chunks(source):
                for line in chunk.splitlines(keepends=True):
                    reader.receive_data(line)
                    for event in reader.events():
                        acc.add(event)
                        count += 1
            reader.receive_data(b"")
            for event in reader.events():
                acc.add(event)
                count += 1
            result = acc.result()
        finally:
            if source is not sys.stdin.buffer:
                source.close()
    except UpstreamError as exc:
        print(f"error event: #{exc.event_index}: {_printable(exc.error_type)}: {_printable(exc.message)} (HTTP {exc.status})")
        print(f"sseadapt validate: {_reason(exc)}", file=sys.stderr)
        return EXIT_UPSTREAM_ERROR
    except ProtocolError as exc:
        print(f"invalid: event #{exc.event_index} at byte offset {exc.offset}: {_reason(exc)}")
        print(f"sseadapt validate: {_reason(exc)}", file=sys.stderr)
        return EXIT_INVALID
    except SSEAdaptError as exc:
        print(f"sseadapt validate: {_reason(exc)}", file=sys.stderr)
        return EXIT_INVALID
    if isinstance(result, dict):
        text = "".join(
            b.get("text", "") for b in result.get("content", []) if isinstance(b, dict) and b.get("type") == "text"
        )
        stop = result.get("stop_reason")
        blocks = len(result.get("content", []))
        print(f"valid {dialect.value} stream: {count} events, {blocks} content blocks, "
              f"final text length {len(text)}, stop reason {_printable(stop)}")
    else:
        print(f"valid {dialect.value} stream: {count} events, final text length "
              f"{len(result.completion)}, stop reason {_printable(result.stop_reason)}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sseadapt",
        description="Read, validate and convert Anthropic API event streams.",
        epilog="Exit codes: 0 complete and valid; 1 invalid or incomplete stream; "
        "2 usage or input error; 3 the stream reported an error event.",
    )
    parser.add_argument("--version", action="version", version=f"sseadapt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    conv = sub.add_parser("convert", help="convert a stream between dialects (stdout, flushed per event)")
    conv.add_argument("--from", dest="source", type=_dialect, required=True, help="input dialect")
    conv.add_argument("--to", dest="target", type=_dialect, required=True, help="output dialect")
    conv.add_argument("file", nargs="?", default="-", help="input file, or - for stdin (default)")
    conv.add_argument("--crlf", action="store_true", help="write CRLF line endings (default LF)")
    conv.add_argument("--ping", choices=["default", "keep", "drop"], default="default",
                      help="ping policy (default: keep for named outputs, drop for legacy/openai)")
    conv.add_argument("--unknown", choices=["default", "pass", "drop", "raise"], default="default",
                      help="unknown event policy (default: pass for named outputs, else drop)")
    conv.add_argument("--non-text", choices=["drop", "raise"], default="drop",
                      help="messages input: non-text blocks with no form in the output (default drop)")
    conv.add_argument("--include-usage", action="store_true", help="openai output: add the usage chunk")
    conv.set_defaults(func=_cmd_convert)

    val = sub.add_parser("validate", help="validate a stream and print a summary")
    val.add_argument("--dialect", type=_dialect, required=True, help="the stream's dialect")
    val.add_argument("file", nargs="?", default="-", help="input file, or - for stdin (default)")
    val.set_defaults(func=_cmd_validate)

    from . import _cli_bench, _cli_serve

    _cli_serve.register(sub)
    _cli_bench.register(sub)
    return parser


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.func(args)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not worth a traceback.
        _discard_stdout()
        return EXIT_INVALID
    except OSError as exc:
        # The environment failed us (stdout on a full disk, say); the commands
        # handle the errors they expect (unreadable input, a port in use).
        print(f"sseadapt {args.command}: {exc.strerror or exc}"
              + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        _discard_stdout()
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
