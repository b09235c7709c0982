"""Peak memory of parsing a large stream (``python -m benchmarks.memory``).

Feeds a ~100 MB stream (1,000 events of ~100 KB, the largest 400 KB) in
4 KiB chunks and reports tracemalloc's peak against the largest event: the
target is under 2x the largest event plus a constant.
"""

from __future__ import annotations

import random
import tracemalloc

from sseadapt import SSEParser


def main() -> None:
    rng = random.Random(9)
    sizes = [rng.randint(50_000, 150_000) for _ in range(999)] + [400_000]
    rng.shuffle(sizes)
    largest = max(sizes)
    total = 0
    tracemalloc.start()
    parser = SSEParser()
    events = 0
    for size in sizes:
        event = b"event: blob\ndata: " + b"y" * size + b"\n\n"
        total += len(event)
        for i in range(0, len(event), 4096):
            parser.receive_data(event[i : i + 4096])
            for _ in parser.events():
                events += 1
    parser.receive_data(b"")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"stream {total / 1e6:.1f} MB, {events} events, largest event {largest:,} B")
    print(f"peak traced memory {peak:,} B = {peak / largest:.2f}x the largest event")


if __name__ == "__main__":
    main()
