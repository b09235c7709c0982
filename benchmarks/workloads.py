"""The benchmark workloads live in the package (``sseadapt bench`` uses them)."""

from sseadapt._workloads import (  # noqa: F401
    CHUNKINGS,
    DEFAULT_SIZE,
    WORKLOADS,
    chunked,
    completions_stream,
    legacy_stream,
    messages_stream,
    single_stream,
    workload,
)

__all__ = ["CHUNKINGS", "DEFAULT_SIZE", "WORKLOADS", "chunked", "completions_stream", "legacy_stream", "messages_stream", "single_stream", "workload"]
