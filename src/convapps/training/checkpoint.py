"""Checkpoints of the fit loop: ``last.pt`` (everything needed to resume) and ``best.pt`` (best weights).

Files are plain ``torch.save`` dictionaries of tensors, numbers and strings, read back with
``torch.load(weights_only=True)`` (no pickled code).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from convapps.errors import CheckpointError

FORMAT = "convapps-fit-v1"
LAST = "last.pt"
BEST = "best.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (with the format tag) atomically: a temporary file renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"format": FORMAT, **state}, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; raises :class:`CheckpointError` if unusable."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError... for bad files
        raise CheckpointError(f"checkpoint {path} is truncated or not a torch file ({type(err).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a convapps training checkpoint (format tag {FORMAT!r} missing)")
    return state


def load_weights(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], source: Path | str) -> None:
    """Load ``state_dict`` into ``model``; a mismatch (another architecture) is a :class:`CheckpointError`."""
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "mismatch"
        raise CheckpointError(f"weights in {source} do not fit this model: {first}") from None
