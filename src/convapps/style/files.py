"""Style transfer from and to files: read the images safely, run, write G, its JSON sidecar and snapshots.

The sidecar (``out.json`` next to ``out.png``) records every setting, the inputs, the final and initial
costs, the effective weights, the timing per scale, the model id and torch's thread count, so a run can
be reproduced and compared.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from convapps import __version__
from convapps.io.images import load_image, save_image
from convapps.style.config import StyleConfig
from convapps.style.optimize import SnapshotCallback, StepCallback
from convapps.style.transfer import StyleResult, stylize


def read_inputs(
    content: Path, styles: Sequence[Path], config: StyleConfig
) -> tuple[NDArray[np.uint8], list[NDArray[np.uint8]]]:
    """Content and style images as RGB uint8, decoded no larger than needed (twice the working size)."""
    content_image = load_image(content, max_side=2 * config.size)
    style_side = 2 * max(config.size, math.ceil(config.style_scale * config.size))
    return content_image, [load_image(path, max_side=style_side) for path in styles]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def sidecar(
    result: StyleResult,
    config: StyleConfig,
    *,
    content: Path | str,
    styles: Sequence[Path | str],
    output: Path | str,
    preset: str | None = None,
) -> dict[str, Any]:
    """Everything about a run as a JSON-ready dict."""
    steps = config.steps_per_scale()[-len(result.scale_sizes) :]
    initial, final = dataclasses.asdict(result.initial), dataclasses.asdict(result.final)
    return {
        "convapps": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "preset": preset,
        "settings": _jsonable(dataclasses.asdict(config)),
        "model": result.model_id,
        "inputs": {"content": str(content), "styles": [str(s) for s in styles]},
        "output": {"image": str(output), "height": int(result.image.shape[0]), "width": int(result.image.shape[1])},
        "costs": {
            "final": final,
            "initial": initial,
            "style_reduction": initial["style"] / final["style"] if final["style"] > 0 else None,
            "effective_weights": result.effective_weights,
        },
        "timing": {
            "total_seconds": round(result.seconds, 3),
            "scales": [
                {"height": h, "width": w, "steps": n, "seconds": round(t, 3)}
                for (h, w), n, t in zip(result.scale_sizes, steps, result.scale_seconds, strict=True)
            ],
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "machine": platform.machine(),
        },
        "notes": result.notes,
    }


def snapshot_writer(output: Path) -> SnapshotCallback:
    """A snapshot callback writing ``<stem>.s<scale>.<step>.png`` next to ``output``."""

    def write(scale: int, step: int, g: torch.Tensor) -> None:
        pixels = np.clip(np.rint(g[0].permute(1, 2, 0).numpy() * 255.0), 0, 255).astype(np.uint8)
        save_image(pixels, output.with_name(f"{output.stem}.s{scale}.{step:04d}.png"))

    return write


def stylize_files(
    content: Path,
    styles: Sequence[Path],
    output: Path,
    config: StyleConfig | None = None,
    *,
    preset: str | None = None,
    sidecar_path: Path | None = None,
    on_step: StepCallback | None = None,
) -> tuple[StyleResult, Path]:
    """Stylise ``content`` with ``styles`` and write ``output`` and its JSON sidecar; returns (result, sidecar)."""
    config = config or StyleConfig()
    content_image, style_images = read_inputs(content, styles, config)
    snapshots = snapshot_writer(output) if config.snapshot_every else None
    result = stylize(content_image, style_images, config, on_step=on_step, on_snapshot=snapshots)
    save_image(result.image, output)
    meta = sidecar(result, config, content=content, styles=styles, output=output, preset=preset)
    target = sidecar_path or output.with_suffix(".json")
    target.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return result, target
