"""The public API: every exported name exists, and each public module declares __all__."""

from __future__ import annotations

import importlib

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
