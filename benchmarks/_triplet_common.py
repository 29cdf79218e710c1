"""Shared set-up of the three triplet benchmarks (LFW location, cache folder, machine load line)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "faces" / "lfw"
OUT = REPO / "benchmarks" / "out"
CACHE = OUT / "cache"


def machine_line(threads: int) -> str:
    """Cores, torch threads and the 1-minute load average, for RESULTS.md."""
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, torch threads {threads}, load average {load:.2f} at the end"


def check_data() -> None:
    if not (LFW / "lfw-deepfunneled").is_dir():
        sys.exit(f"LFW not found at {LFW}")
