"""Torch files that carry a format tag: checkpoints, trained face models, Siamese heads, nd model bundles.

Every such file is a ``dict`` saved with :func:`torch.save` whose ``"format"`` entry names what it holds
(``"convapps-nd-model-v1"`` ...). Reading uses ``torch.load(weights_only=True)``, so no pickled code
runs; a missing, truncated or foreign file is one :class:`~convapps.errors.CheckpointError` naming the
file and what it should have been.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convapps.errors import CheckpointError, ConvappsError


def save_tagged(path: str | Path, fmt: str, payload: dict[str, Any]) -> Path:
    """Write ``{"format": fmt, **payload}`` atomically (a temporary file renamed over ``path``)."""
    import torch

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    torch.save({"format": fmt, **payload}, tmp)
    tmp.replace(target)
    return target


def load_tagged(
    path: str | Path,
    fmt: str,
    *,
    what: str,
    missing: type[ConvappsError] = CheckpointError,
) -> dict[str, Any]:
    """The dictionary of a file written with format tag ``fmt``.

    Args:
        path: the file.
        fmt: the expected ``"format"`` tag.
        what: what the file should be, for messages ("a convapps nd model").
        missing: the error raised when the file does not exist (default :class:`CheckpointError`).

    Raises:
        CheckpointError: the file is truncated, not a torch file, or carries another format tag.
    """
    import torch

    file = Path(path)
    if not file.is_file():
        raise missing(f"{file} does not exist (expected {what})")
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError... on bad files
        raise CheckpointError(f"{file} is truncated or not a torch file ({type(err).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise CheckpointError(f"{file} is not {what} (format tag {fmt!r} missing)")
    return state
