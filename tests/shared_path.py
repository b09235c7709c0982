"""Where the project's shared reference material is (this module reads no file).

The fixtures, spec and conformance corpus live in ``../shared`` beside the
checkout, or wherever ``SSEADAPT_SHARED`` points. ``tests/conftest.py`` stops
the run with one clear message when they are missing, before any test module
reads them.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SSEADAPT_SHARED") or ROOT.parent / "shared").resolve()
FIXTURES = SHARED / "fixtures"
