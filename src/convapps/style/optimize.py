"""Gradient descent on the PIXELS of G with a frozen network: J(G) = alpha J_content + beta J_style + w_tv TV(G).

The targets a[l](C) and the style matrices G[l](S) are computed once per scale; each step runs the network
once forward and once backward, up to the deepest layer needed, and updates only G (``(1, 3, H, W)``, RGB
in [0, 1]; the optimiser works unconstrained and G is clipped to [0, 1] between scales and at the end).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import torch

from convapps.core.style import content_cost, gram_matrix, layered_style_cost, total_cost, total_variation
from convapps.nn.feature_extractor import FeatureExtractor
from convapps.style.config import StyleConfig


def use_bfloat16(precision: str, device: torch.device) -> bool:
    """Whether ``precision`` (``auto``/``float32``/``bfloat16``) means bfloat16 autocast on ``device``.

    ``auto`` picks bfloat16 only on a CPU whose oneDNN has native bfloat16 kernels (elsewhere emulated
    bfloat16 is slower than float32).
    """
    if precision == "bfloat16":
        return True
    if precision == "float32" or device.type != "cpu":
        return False
    return _cpu_has_bfloat16()


@functools.cache
def _cpu_has_bfloat16() -> bool:
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - torch builds without these ops
        return False


@dataclass(frozen=True)
class Costs:
    """The parts of J(G) at one point (plain floats)."""

    total: float
    content: float
    style: float
    tv: float


@dataclass(frozen=True)
class StepInfo:
    """What the progress callback receives after each step."""

    scale: int
    step: int
    steps: int
    size: tuple[int, int]
    costs: Costs


StepCallback = Callable[[StepInfo], None]
SnapshotCallback = Callable[[int, int, torch.Tensor], None]
"""Called with (scale, step, G) every ``snapshot_every`` steps; G is a detached (1, 3, H, W) copy in [0, 1]."""


@dataclass(frozen=True)
class Targets:
    """What G is compared to at one scale: a[l](C) and the blended per-position style matrices."""

    content: torch.Tensor
    grams: dict[str, torch.Tensor]
    content_scale: float = 1.0
    """J_content of an all-zero activation, ``||a_C||^2 / (4 n_H n_W n_C)`` (for ``auto_weights``)."""
    style_scales: dict[str, float] = field(default_factory=dict)
    """Per layer, J_style[l] of an all-zero activation, ``||G_S / (n_H n_W)||^2 / (4 n_C^2)``."""

    def weights(self, config: StyleConfig) -> tuple[float, dict[str, float]]:
        """Effective (alpha, {layer: lambda[l]}): with ``auto_weights`` divided by the scales above."""
        if not config.auto_weights:
            return config.alpha, dict(config.style_layers)
        alpha = config.alpha / max(self.content_scale, 1e-12)
        return alpha, {name: lam / max(self.style_scales[name], 1e-12) for name, lam in config.style_layers}


class Objective:
    """``J(G)`` for fixed targets; call it on G to get the scalar cost and its parts."""

    def __init__(self, extractor: FeatureExtractor, targets: Targets, config: StyleConfig) -> None:
        self.extractor = extractor
        self.targets = targets
        self.config = config
        self.alpha, self.style_weights = targets.weights(config)
        self.layers = [config.content_layer, *self.style_weights]

    def __call__(self, g: torch.Tensor, *, exact: bool = False) -> tuple[torch.Tensor, Costs]:
        """J(G) and its parts; ``exact`` forces float32 (otherwise ``config.precision`` decides)."""
        low = not exact and use_bfloat16(self.config.precision, g.device)
        # in bfloat16 the convolutions AND the style matrices run in bfloat16 (each Gram product accumulates in
        # float32; the differences to the float32 targets and all sums are float32)
        with torch.autocast(g.device.type, dtype=torch.bfloat16, enabled=low):
            acts = self.extractor(self.extractor.normalize(g), self.layers)
            j_content = content_cost(
                self.targets.content, acts[self.config.content_layer], normalization=self.config.content_normalization
            )
            j_style = layered_style_cost(self.targets.grams, acts, self.style_weights)
        j_tv = total_variation(g)
        j = total_cost(
            j_content, j_style, alpha=self.alpha, beta=self.config.beta, j_tv=j_tv, tv_weight=self.config.tv_weight
        )
        costs = Costs(j.item(), j_content.item(), j_style.item(), j_tv.item())
        return j, costs


def compute_targets(
    extractor: FeatureExtractor,
    content: torch.Tensor,
    styles: list[torch.Tensor],
    blend: list[float],
    config: StyleConfig,
) -> Targets:
    """a[l](C) at the content layer and ``sum_s w_s G[l](S_s) / (n_H n_W)`` at each style layer.

    Blending the style matrices is exact up to a constant: for weights summing to 1,
    ``sum_s w_s ||G_s - G||^2 = ||sum_s w_s G_s - G||^2 + const``, so the gradient is that of the weighted
    sum of the per-style costs.
    """
    style_layers = [name for name, _ in config.style_layers]
    with torch.no_grad():
        a_c = extractor(extractor.normalize(content), [config.content_layer])[config.content_layer]
        grams: dict[str, torch.Tensor] = {}
        for weight, style in zip(blend, styles, strict=True):
            acts = extractor(extractor.normalize(style), style_layers)
            for name in style_layers:
                gram = weight * gram_matrix(acts[name], per_position=True)
                grams[name] = grams[name] + gram if name in grams else gram
    zero = torch.zeros_like(a_c)
    content_scale = float(content_cost(a_c, zero, normalization=config.content_normalization))
    style_scales = {name: float(g.pow(2).sum()) / (4.0 * g.shape[-1] ** 2) for name, g in grams.items()}
    return Targets(content=a_c, grams=grams, content_scale=content_scale, style_scales=style_scales)


def optimize_pixels(
    g0: torch.Tensor,
    objective: Objective,
    *,
    steps: int,
    scale: int = 0,
    on_step: StepCallback | None = None,
    on_snapshot: SnapshotCallback | None = None,
) -> tuple[torch.Tensor, list[Costs]]:
    """Run ``steps`` optimiser steps (one forward + backward each) from ``g0``; returns (G, costs per step)."""
    config = objective.config
    g = g0.detach().clone().requires_grad_(True)
    history: list[Costs] = []
    size = (int(g.shape[2]), int(g.shape[3]))
    if config.optimizer == "lbfgs":
        optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
            [g], lr=1.0, max_iter=1, history_size=config.lbfgs_history, tolerance_grad=0.0, tolerance_change=0.0
        )
    else:
        optimizer = torch.optim.Adam([g], lr=config.learning_rate)

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        j, costs = objective(g)
        j.backward()
        history.append(costs)
        return j

    for step in range(1, steps + 1):
        optimizer.step(cast(Callable[[], float], closure))  # torch types it float; both accept the loss tensor
        with torch.no_grad():
            g.clamp_(0.0, 1.0)  # keep G a valid image (as the tutorial does); L-BFGS tolerates the projection
        if on_step is not None:
            on_step(StepInfo(scale=scale, step=step, steps=steps, size=size, costs=history[-1]))
        if on_snapshot is not None and config.snapshot_every and step % config.snapshot_every == 0:
            on_snapshot(scale, step, g.detach().clamp(0, 1).clone())
    return g.detach(), history
