"""Lazy re-exports for package front doors whose modules import torch (seconds) on first use.

    __getattr__, __dir__ = lazy_exports(__name__, {"stylize": "convapps.style.transfer"})

``from convapps import style`` stays cheap; ``style.stylize`` imports its module when first touched.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` serving ``name -> module`` re-exports on demand."""

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def dir_() -> list[str]:
        return sorted(exports)

    return getattr_, dir_
