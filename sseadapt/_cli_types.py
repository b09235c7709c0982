"""argparse types shared by the CLI's commands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["number"]


def number(kind: Callable[[str], float], *, zero_ok: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number above 0 (or at least 0), of ``kind`` (int or float)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number: {text!r}")
        if not (value >= 0 if zero_ok else value > 0):
            raise argparse.ArgumentTypeError(f"must be {'0 or more' if zero_ok else 'more than 0'}: {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse
