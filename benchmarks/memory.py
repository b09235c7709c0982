"""Peak memory of parsing a large stream (``python -m benchmarks.memory``).

Streams ~100 MB (1,000 events of 50-150 KB and one of 400 KB) to the parser in
4 KiB chunks, generated on the fly so that the harness holds no more than one
chunk, and consumes each event as it arrives. Reports tracemalloc's peak
against the largest event; the target is under 2x the largest event plus a
constant. Run with a 400 KB and a 4 MB largest event: the part above 2x stays
the same size (a constant), the 2x is the held bytes plus the decoded string.
"""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Iterator

from sseadapt import SSEParser

CHUNK = 4096


def stream(sizes: list[int]) -> Iterator[bytes]:
    filler = b"y" * CHUNK
    for size in sizes:
        yield b"event: blob\ndata: "
        for _ in range(size // CHUNK):
            yield filler
        yield filler[: size % CHUNK] + b"\n\n"


def main(largest_event: int = 400_000) -> None:
    rng = random.Random(9)
    sizes = [rng.randint(50_000, 150_000) for _ in range(999)] + [largest_event]
    rng.shuffle(sizes)
    largest = max(sizes) + len(b"event: blob\ndata: ")
    tracemalloc.start()
    baseline, _ = tracemalloc.get_traced_memory()
    parser = SSEParser()
    events = total = 0
    for chunk in stream(sizes):
        total += len(chunk)
        parser.receive_data(chunk)
        events += sum(1 for _ in parser.events())  # no event outlives this line
    parser.receive_data(b"")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak -= baseline
    print(f"stream {total / 1e6:.1f} MB in {CHUNK}-byte chunks, {events} events, largest event {largest:,} B")
    print(f"peak traced memory {peak:,} B = {peak / largest:.2f}x the largest event")


if __name__ == "__main__":
    import sys

    for size in [int(arg) for arg in sys.argv[1:]] or [400_000, 4_000_000]:
        main(size)
