"""Where the browser UI's files live (inside the installed package, shipped as package data)."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
