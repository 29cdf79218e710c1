"""Neural style transfer, the use case: ``stylize(content, styles, config) -> StyleResult``.

G starts from noise (the lecture), the content, or a blend, at the coarsest scale of a coarse-to-fine
schedule (size / 2^(k-1), ..., size): each scale's result, upsampled, starts the next one. Coarse scales
are cheap (a quarter of the pixels per halving) and fix the large structures, so a noise start works as
well as a content start and the full-resolution scale only refines.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from PIL import Image

from convapps.errors import ImageError, InvalidInputError
from convapps.models.vgg import load_registered_vgg, load_vgg
from convapps.nn.feature_extractor import FeatureExtractor
from convapps.style.color import combine_luminance, luminance_image, match_color_histogram, match_luminance
from convapps.style.config import StyleConfig
from convapps.style.limits import MAX_ASPECT, MIN_SCALE_SIDE, MIN_SIDE
from convapps.style.optimize import (
    Costs,
    Objective,
    SnapshotCallback,
    StepCallback,
    compute_targets,
    optimize_pixels,
)


@dataclass
class StyleResult:
    """Output of :func:`stylize`."""

    image: NDArray[np.uint8]
    """G as RGB uint8 ``(H, W, 3)``."""
    final: Costs
    """J and its parts for the returned image, at full resolution."""
    initial: Costs
    """J and its parts for the initial image of the chosen kind generated at full resolution."""
    scale_sizes: list[tuple[int, int]]
    scale_seconds: list[float]
    seconds: float
    history: list[list[Costs]] = field(default_factory=list)
    """Costs at each step, one list per scale."""
    notes: list[str] = field(default_factory=list)
    model_id: str = ""
    effective_weights: dict[str, float] = field(default_factory=dict)
    """alpha and lambda[l] actually used at full resolution (differ from the config with auto_weights)."""


def fit_size(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(H, W) with the longer side = ``long_side`` and the aspect ratio kept."""
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def to_float(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    """RGB uint8 -> float32 in [0, 1]."""
    return image.astype(np.float32) / 255.0


def resize(image: NDArray[np.float32], size: tuple[int, int]) -> torch.Tensor:
    """Float RGB ``(H, W, 3)`` resized (Lanczos) to ``size`` = (H, W) -> ``(1, 3, H, W)`` tensor."""
    pil = Image.fromarray(np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8))
    if pil.size != (size[1], size[0]):
        pil = pil.resize((size[1], size[0]), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(pil, dtype=np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


def check_image(image: NDArray[np.uint8], role: str) -> None:
    """Refuse images that cannot be stylised sensibly (wrong array type, too small, too elongated)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidInputError(f"{role} must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ImageError(f"{role} image is {w}x{h}: too small, both sides must be at least {MIN_SIDE} pixels")
    if max(h, w) / min(h, w) > MAX_ASPECT:
        raise ImageError(f"{role} image is {w}x{h}: more elongated than {MAX_ASPECT:.0f}:1, crop it first")


def scale_schedule(height: int, width: int, config: StyleConfig, notes: list[str]) -> list[tuple[int, int]]:
    """(H, W) of G at each scale, coarsest first; coarse scales with a side < MIN_SCALE_SIDE are dropped."""
    sizes = []
    for level in range(config.scales):
        long_side = round(config.size / 2 ** (config.scales - 1 - level))
        sizes.append(fit_size(height, width, long_side))
    kept = [s for s in sizes[:-1] if min(s) >= MIN_SCALE_SIDE] + [sizes[-1]]
    if min(kept[-1]) < MIN_SIDE:
        raise ImageError(
            f"at size {config.size} the content becomes {kept[-1][1]}x{kept[-1][0]}: raise the size so the short "
            f"side is at least {MIN_SIDE} pixels"
        )
    if len(kept) < len(sizes):
        notes.append(f"dropped {len(sizes) - len(kept)} coarse scale(s) smaller than {MIN_SCALE_SIDE} px")
    return kept


def initial_image(
    kind: str,
    content: torch.Tensor,
    blend: float,
    generator: torch.Generator,
    recoloured: torch.Tensor | None = None,
) -> torch.Tensor:
    """G0: uniform noise in [0, 1] (the lecture's random start), the content, a blend of both, or
    (``palette``) ``recoloured``: the content with the painting's colour mean and covariance."""
    noise = torch.rand(content.shape, generator=generator)
    if kind == "noise":
        return noise
    if kind == "content":
        return content.clone()
    if kind == "palette":
        if recoloured is None:
            raise InvalidInputError("init 'palette' needs the recoloured content")
        return recoloured.clone()
    return blend * content + (1.0 - blend) * noise


def palette_content(
    content: NDArray[np.float32], styles: list[NDArray[np.float32]], blend: list[float]
) -> NDArray[np.float32]:
    """The content recoloured to the RGB mean and covariance of the most heavily weighted painting."""
    main = max(range(len(styles)), key=lambda i: blend[i])
    return match_color_histogram(content, styles[main])


def _prepare(
    content: NDArray[np.uint8], styles: Sequence[NDArray[np.uint8]], config: StyleConfig, notes: list[str]
) -> tuple[NDArray[np.float32], list[NDArray[np.float32]], list[float]]:
    if not styles:
        raise InvalidInputError("give at least one style image")
    check_image(content, "content")
    for index, style in enumerate(styles, start=1):
        check_image(style, f"style #{index}")
    blend = list(config.style_blend) or [1.0] * len(styles)
    if len(blend) != len(styles):
        raise InvalidInputError(f"{len(blend)} style blend weights for {len(styles)} style images")
    blend = [w / sum(blend) for w in blend]
    if np.array_equal(content[..., 0], content[..., 1]) and np.array_equal(content[..., 1], content[..., 2]):
        notes.append("content is grayscale: G takes the painting's colours (--color luminance keeps it gray)")
    aspect = content.shape[1] / content.shape[0]
    for index, style in enumerate(styles, start=1):
        ratio = (style.shape[1] / style.shape[0]) / aspect
        if not 2 / 3 <= ratio <= 3 / 2:
            notes.append(
                f"style #{index} ({style.shape[1]}x{style.shape[0]}) has another aspect ratio than the content "
                f"({content.shape[1]}x{content.shape[0]}): it is used whole at its own aspect, not stretched "
                "(style matrices do not depend on positions)"
            )
    c = to_float(content)
    s = [to_float(style) for style in styles]
    if config.color == "luminance":
        s = [match_luminance(style, c) for style in s]
        c = luminance_image(c)
    elif config.color == "histogram":
        s = [match_color_histogram(style, c) for style in s]
    return c, s, blend


def style_size(style: NDArray[np.float32], g_size: tuple[int, int], config: StyleConfig) -> tuple[int, int]:
    """(H, W) of a style image for G of size ``g_size``: long side = style_scale x G's, at least MIN_SIDE."""
    long_side = max(round(config.style_scale * max(g_size)), MIN_SIDE)
    h, w = fit_size(style.shape[0], style.shape[1], long_side)
    if min(h, w) < MIN_SIDE:
        h, w = fit_size(style.shape[0], style.shape[1], round(long_side * MIN_SIDE / min(h, w)))
    return h, w


def network_for(config: StyleConfig) -> FeatureExtractor:
    """The frozen VGG a config's costs are measured with: its ``weights`` file, else its registered
    ``network``, with its ``pooling`` (loaded once per process)."""
    if config.weights is not None:
        return load_vgg(config.weights, pooling=config.pooling)
    return load_registered_vgg(config.network, pooling=config.pooling)


def stylize(
    content: NDArray[np.uint8],
    styles: Sequence[NDArray[np.uint8]],
    config: StyleConfig | None = None,
    *,
    extractor: FeatureExtractor | None = None,
    on_step: StepCallback | None = None,
    on_snapshot: SnapshotCallback | None = None,
) -> StyleResult:
    """Generate G with the content of ``content`` and the style of ``styles`` (RGB uint8 arrays).

    Args:
        content: the photo C, RGB uint8 ``(H, W, 3)``.
        styles: one or more paintings S (blended with ``config.style_blend``).
        config: settings (default: the ``default`` preset).
        extractor: a frozen feature extractor (default: ``config.weights`` if given, else the registered
            ``config.network`` with ``config.pooling``).
        on_step: called after every optimiser step with the step's costs (progress bars).
        on_snapshot: called every ``config.snapshot_every`` steps with the current G.
    """
    config = config or StyleConfig()
    start = time.perf_counter()
    if config.threads:
        torch.set_num_threads(config.threads)
    net = extractor or network_for(config)
    net.check_layers([config.content_layer, *(name for name, _ in config.style_layers)])
    notes: list[str] = []
    c, s, blend = _prepare(content, styles, config, notes)
    sizes = scale_schedule(c.shape[0], c.shape[1], config, notes)
    steps = config.steps_per_scale()[-len(sizes) :]
    if config.init == "noise" and len(sizes) == 1:
        notes.append("noise start at one scale converges slowly: add --scales 3 --iterations 160,80,25")
    generator = torch.Generator().manual_seed(config.seed)
    recoloured = palette_content(c, s, blend) if config.init == "palette" else None

    def start_image(size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        palette = resize(recoloured, size) if recoloured is not None else None
        return initial_image(config.init, resize(c, size), config.init_blend, generator, palette)

    torch.manual_seed(config.seed)
    g: torch.Tensor | None = None
    history: list[list[Costs]] = []
    seconds: list[float] = []
    for level, (size, n_steps) in enumerate(zip(sizes, steps, strict=True)):
        t0 = time.perf_counter()
        c_t = resize(c, size)
        targets = compute_targets(net, c_t, [resize(x, style_size(x, size, config)) for x in s], blend, config)
        g = start_image(size, generator) if g is None else _upsample(g, size)
        objective = Objective(net, targets, config)
        g, costs = optimize_pixels(g, objective, steps=n_steps, scale=level, on_step=on_step, on_snapshot=on_snapshot)
        check_finite(g)
        g = g.clamp(0.0, 1.0)
        history.append(costs)
        seconds.append(time.perf_counter() - t0)
    if g is None:  # pragma: no cover - scale_schedule always keeps one scale
        raise InvalidInputError("no scale to optimise")
    with torch.no_grad():
        final = objective(g, exact=True)[1]
        initial = objective(start_image(size, torch.Generator().manual_seed(config.seed)), exact=True)[1]
    out = g[0].permute(1, 2, 0).numpy()
    if config.color == "luminance":
        full = Image.fromarray(content).resize((size[1], size[0]), Image.Resampling.LANCZOS)
        out = combine_luminance(out, to_float(np.asarray(full)))
    image = np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
    check_not_flat(image, final)
    return StyleResult(
        image=image,
        final=final,
        initial=initial,
        scale_sizes=sizes,
        scale_seconds=seconds,
        seconds=time.perf_counter() - start,
        history=history,
        notes=notes,
        model_id=net.model_id,
        effective_weights={"alpha": objective.alpha, **objective.style_weights},
    )


def check_finite(g: torch.Tensor) -> None:
    """Refuse a G with NaN or infinite pixels: the optimisation diverged (e.g. a huge beta)."""
    if not bool(torch.isfinite(g).all()):
        raise InvalidInputError(
            "style transfer diverged (the image holds NaN or infinite values): the cost weights are out of "
            "balance; lower the style weight beta"
        )


def check_not_flat(image: NDArray[np.uint8], final: Costs) -> None:
    """Refuse a degenerate result: one flat colour, or a cost J that is not finite."""
    if not np.isfinite([final.total, final.content, final.style, final.tv]).all():
        raise InvalidInputError("style transfer diverged (its cost is not finite); lower the style weight beta")
    if image.size and (image == image.reshape(-1, image.shape[-1])[0]).all():
        r, g, b = (int(v) for v in image.reshape(-1, image.shape[-1])[0])
        raise InvalidInputError(
            f"style transfer produced one flat colour (RGB {r}, {g}, {b}): the cost weights are out of balance; "
            "lower the style weight beta"
        )


def _upsample(g: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(g, size=size, mode="bilinear", align_corners=False).clamp(0.0, 1.0)
