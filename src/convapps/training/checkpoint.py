"""Checkpoints of the fit loop: ``last.pt`` (everything needed to resume) and ``best.pt`` (best weights).

Files are tagged torch files (:mod:`convapps.io.tagged_files`): dictionaries of tensors, numbers and
strings with the format tag ``convapps-fit-v1``, written atomically and read back with
``torch.load(weights_only=True)`` (no pickled code).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from convapps.errors import CheckpointError
from convapps.io.tagged_files import load_tagged, save_tagged

FORMAT = "convapps-fit-v1"
LAST = "last.pt"
BEST = "best.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (with the format tag) atomically: a temporary file renamed over ``path``."""
    save_tagged(path, FORMAT, state)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; raises :class:`CheckpointError` if unusable."""
    return load_tagged(path, FORMAT, what="a convapps training checkpoint")


def load_weights(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], source: Path | str) -> None:
    """Load ``state_dict`` into ``model``; a mismatch (another architecture) is a :class:`CheckpointError`."""
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "mismatch"
        raise CheckpointError(f"weights in {source} do not fit this model: {first}") from None
