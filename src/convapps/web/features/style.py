"""The style studio: neural style transfer runs as background jobs with progress and previews.

Calls :func:`convapps.style.transfer.stylize` (the same call as ``convapps style transfer``) in the job
pool; the request only decodes the uploads and checks the options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from convapps.errors import ConvappsError, InvalidInputError
from convapps.style.config import PRESETS, StyleConfig, beta_for_strength, preset
from convapps.style.limits import MIN_SIDE
from convapps.style.optimize import StepInfo
from convapps.style.transfer import check_image, fit_size, scale_schedule, stylize
from convapps.web.features.images import png_bytes
from convapps.web.jobs import JobResult, Progress, Work
from convapps.web.settings import WebSettings
from convapps.web.state import FeatureHealth
from convapps.web.style_limits import MAX_SIZE, MAX_STEPS, MAX_STYLE_WEIGHT, MIN_SIZE

PREVIEW_EVERY = 10
"""Publish the current image every this many steps."""

PRESET_NOTES = {
    "preview": "Quick look: 256 px, a few seconds to a minute.",
    "default": "Good quality: 512 px, one to two minutes on a laptop CPU.",
    "high": "Best quality: 1024 px, several minutes.",
}


@dataclass(frozen=True)
class StyleOptions:
    """What a client may choose; None means the preset's value."""

    preset: str = "preview"
    size: int | None = None
    steps: int | None = None
    style_weight: float | None = None
    color: str = "none"
    network: str = "vgg19"
    strength: str = "normal"

    def config(self) -> StyleConfig:
        """The run's config: the preset with the client's overrides (validated)."""
        base = preset(self.preset)
        changes: dict[str, object] = {"color": self.color, "network": self.network}
        if self.size is not None:
            if not MIN_SIZE <= self.size <= MAX_SIZE:
                raise InvalidInputError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {self.size}")
            changes["size"] = self.size
        if self.steps is not None:
            if not 1 <= self.steps <= MAX_STEPS:
                raise InvalidInputError(f"steps must be between 1 and {MAX_STEPS}, got {self.steps}")
            changes["iterations"] = (self.steps,)
        if self.style_weight is None:
            changes["beta"] = beta_for_strength(self.strength, base.beta)
        else:
            if not (math.isfinite(self.style_weight) and 0 <= self.style_weight <= MAX_STYLE_WEIGHT):
                raise InvalidInputError(
                    f"style_weight must be a number between 0 and {MAX_STYLE_WEIGHT:g}, got {self.style_weight}"
                )
            changes["beta"] = self.style_weight
        return base.replace(**changes, snapshot_every=PREVIEW_EVERY)


def fit_to_content(config: StyleConfig, content: NDArray[np.uint8]) -> StyleConfig:
    """``config`` with its size (the long side of G) raised where needed so that G's short side is at
    least MIN_SIDE pixels for this content's aspect ratio (e.g. 32 -> 57 for a 16:9 photo)."""
    height, width = content.shape[:2]
    size = max(config.size, math.ceil(MIN_SIDE * max(height, width) / max(1, min(height, width))))
    while min(fit_size(height, width, size)) < MIN_SIDE:  # rounding
        size += 1
    return config if size == config.size else config.replace(size=size)


class StyleStudio:
    """Loads VGG once; builds the job work for each submitted transfer."""

    def __init__(self) -> None:
        self.model_id: str | None = None
        self.problem: str | None = None
        try:
            from convapps.models.registry import load_network
            from convapps.style.config import StyleConfig

            self.model_id = load_network(StyleConfig().network).model_id
        except ConvappsError as err:
            self.problem = f"style transfer unavailable: {err}"

    def health(self) -> FeatureHealth:
        models = [("style", self.model_id, True)] if self.model_id else []
        return FeatureHealth(
            available=self.problem is None, models=models, problems=[self.problem] if self.problem else []
        )

    def close(self) -> None:
        return None

    @staticmethod
    def presets() -> list[dict[str, object]]:
        return [
            {
                "name": name,
                "description": PRESET_NOTES.get(name, ""),
                "size": cfg.size,
                "scales": cfg.scales,
                "iterations": list(cfg.steps_per_scale()),
                "default": name == "preview",
            }
            for name, cfg in PRESETS.items()
        ]

    def work(
        self, content: NDArray[np.uint8], styles: list[NDArray[np.uint8]], config: StyleConfig, label: str
    ) -> Work:
        """The job function: run the transfer, report progress by optimiser work done, return a PNG."""
        if self.problem:
            raise InvalidInputError(self.problem)
        check_image(content, "content")  # refuse unusable images now, in the request, not later in the job
        for index, style in enumerate(styles, start=1):
            check_image(style, f"style #{index}")
        weights = _work_per_step(content, config)

        def run(progress: Progress) -> list[JobResult]:
            done = {"work": 0.0}
            total = sum(weights[i] * n for i, n in enumerate(_steps(config, len(weights))))

            def on_step(info: StepInfo) -> None:
                done["work"] += weights[min(info.scale, len(weights) - 1)]
                progress(
                    done["work"] / total if total else 1.0,
                    f"scale {info.scale + 1}/{len(weights)}, step {info.step}/{info.steps}",
                )

            def on_snapshot(scale: int, step: int, g: torch.Tensor) -> None:
                pixels = np.clip(np.rint(g[0].permute(1, 2, 0).numpy() * 255.0), 0, 255).astype(np.uint8)
                progress.preview(png_bytes(pixels))

            progress(0.0, "preparing")
            result = stylize(content, styles, config, on_step=on_step, on_snapshot=on_snapshot)
            caption = f"{config.size} px, {result.seconds:.0f} s"
            return [JobResult(f"{label}.png", "image/png", png_bytes(result.image), caption=caption)]

        return run


def _steps(config: StyleConfig, n_scales: int) -> tuple[int, ...]:
    return config.steps_per_scale()[-n_scales:]


def _work_per_step(content: NDArray[np.uint8], config: StyleConfig) -> list[float]:
    """Relative cost of one step at each scale (its pixel count), coarsest first."""
    sizes = scale_schedule(content.shape[0], content.shape[1], config, [])
    return [float(h * w) for h, w in sizes]


def build(settings: WebSettings) -> StyleStudio:
    return StyleStudio()
