"""The public API: every exported name exists, and each public module declares __all__."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import sseadapt

PUBLIC_MODULES = ["sseadapt", "sseadapt.httpx", "sseadapt.asgi", "sseadapt.proxy", "sseadapt.upstream", "sseadapt.serve"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__, name
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == [], (name, missing)


def test_package_exports_the_documented_api() -> None:
    for name in ["SSEParser", "SSESerializer", "ServerSentEvent", "NEED_DATA", "STREAM_END", "iter_events", "aiter_events",
                 "StreamReader", "StreamMachine", "TRANSITIONS", "Pipeline", "convert_iter", "aconvert", "make_converter",
                 "MessageAccumulator", "CompletionAccumulator", "accumulate", "Dialect", "SSEAdaptError", "ProtocolError",
                 "LocalProtocolError", "RemoteProtocolError", "EventTooLarge", "IncompleteStream", "UnexpectedEvent",
                 "InvalidPayload", "UpstreamError", "ConversionError", "StreamInterrupted", "__version__"]:
        assert name in sseadapt.__all__, name


def test_error_tree() -> None:
    assert issubclass(sseadapt.LocalProtocolError, sseadapt.ProtocolError)
    assert issubclass(sseadapt.RemoteProtocolError, sseadapt.ProtocolError)
    error: type[Exception]
    for error in (sseadapt.EventTooLarge, sseadapt.IncompleteStream, sseadapt.UnexpectedEvent, sseadapt.InvalidPayload, sseadapt.StreamInterrupted):
        assert issubclass(error, sseadapt.RemoteProtocolError)
    for error in (sseadapt.ProtocolError, sseadapt.UpstreamError, sseadapt.ConversionError):
        assert issubclass(error, sseadapt.SSEAdaptError)
    with pytest.raises(TypeError):
        sseadapt.ProtocolError("abstract")


def test_typed_package() -> None:
    from importlib.resources import files

    assert files("sseadapt").joinpath("py.typed").is_file()


_BLOCKED_IMPORT = """
import sys
for name in sys.argv[2].split(","):
    sys.modules[name] = None  # import raises ImportError, as when the package is not installed
try:
    __import__(sys.argv[1])
except ImportError as exc:
    print(exc)
    sys.exit(1)
"""


@pytest.mark.parametrize(
    ("module", "blocked", "message"),
    [
        ("sseadapt.httpx", "httpx", "sseadapt.httpx needs httpx: pip install 'sseadapt[httpx]'"),
        ("sseadapt.proxy", "httpx", "sseadapt.proxy needs httpx: pip install 'sseadapt[proxy]'"),  # was "No module named 'httpx'"
        ("sseadapt.serve", "uvicorn", "sseadapt.serve needs uvicorn: pip install 'sseadapt[proxy]'"),
        ("sseadapt", "httpx,httpx_sse,uvicorn", ""),  # the core, the ASGI middleware and the demo upstream need no extra
        ("sseadapt.asgi", "httpx,httpx_sse,uvicorn", ""),
        ("sseadapt.upstream", "httpx,httpx_sse,uvicorn", ""),
    ],
)
def test_an_adapter_without_its_extra_names_the_extra(module: str, blocked: str, message: str) -> None:
    done = subprocess.run([sys.executable, "-c", _BLOCKED_IMPORT, module, blocked], capture_output=True, text=True, timeout=60)
    assert done.stderr == ""
    assert (done.returncode, done.stdout.strip()) == ((1, message) if message else (0, ""))


@pytest.mark.parametrize(("command", "blocked", "extra"), [("proxy", "uvicorn", "proxy"), ("proxy", "httpx", "proxy"), ("demo", "httpx", "proxy")])
def test_a_command_without_its_extra_names_the_extra(command: str, blocked: str, extra: str) -> None:
    script = f"import sys; sys.modules[{blocked!r}] = None; from sseadapt.__main__ import main; sys.exit(main(sys.argv[1:]))"
    args = [command, "--upstream", "builtin"] if command == "proxy" else [command]
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"sseadapt {command} needs the '{extra}' extra: pip install 'sseadapt[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr
