"""The style-transfer use case on tiny images with the real VGG16 (a few seconds each)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from convapps.errors import ImageError, InvalidInputError, NotFoundError
from convapps.style.config import StyleConfig
from convapps.style.optimize import StepInfo
from convapps.style.transfer import scale_schedule, stylize

TINY = StyleConfig(size=64, scales=2, iterations=(12, 6), threads=2, init="noise", beta=20.0)


def painting(height: int = 80, width: int = 80) -> np.ndarray:
    """A synthetic 'painting': saturated diagonal strokes and swirls (no data files needed)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 0.5 + 0.5 * np.sin((x + y) / 3.0)
    g = 0.5 + 0.5 * np.sin(x / 4.0 + 2.0 * np.cos(y / 6.0))
    b = 0.5 + 0.5 * np.cos((x - 2 * y) / 5.0)
    return (np.stack([r, g, b], axis=2) * 255).astype(np.uint8)


def astronaut(size: int = 64) -> np.ndarray:
    """scikit-image's astronaut (square), shrunk to size x size."""
    img = Image.fromarray(data.astronaut())
    img.thumbnail((size, size))
    return np.asarray(img)


def test_style_cost_falls_and_result_is_reproducible() -> None:
    steps: list[StepInfo] = []
    result = stylize(astronaut(), [painting()], TINY, on_step=steps.append)
    assert result.image.shape == (64, 64, 3) and result.image.dtype == np.uint8
    assert result.scale_sizes == [(32, 32), (64, 64)]
    assert len(steps) == 18 and [s.scale for s in steps] == [0] * 12 + [1] * 6
    assert result.final.style < result.initial.style / 5
    assert result.final.total < result.initial.total
    again = stylize(astronaut(), [painting()], TINY)
    assert np.array_equal(again.image, result.image)
    other_seed = stylize(astronaut(), [painting()], TINY.replace(seed=1))
    assert not np.array_equal(other_seed.image, result.image)


@pytest.mark.parametrize("init", ["content", "blend"])
def test_content_and_blend_init_and_adam(init: str) -> None:
    config = TINY.replace(init=init, scales=1, iterations=(8,), optimizer="adam", learning_rate=0.05)
    result = stylize(astronaut(), [painting()], config)
    assert result.final.style < result.initial.style
    if init == "content":  # starting at C: J_content is 0 at init
        assert result.initial.content == pytest.approx(0.0, abs=1e-6)
    assert not any("--scales 3" in note for note in result.notes)


def test_noise_start_at_one_scale_says_how_to_add_scales() -> None:
    result = stylize(astronaut(), [painting()], TINY.replace(scales=1, iterations=(2,)))
    assert any("noise start at one scale" in note and "--scales 3" in note for note in result.notes)


def test_several_styles_blend_and_colour_modes() -> None:
    stripes = np.zeros((64, 64, 3), dtype=np.uint8)
    stripes[:, ::8] = (255, 0, 0)
    result = stylize(astronaut(), [painting(), stripes], TINY.replace(style_blend=(0.8, 0.2), color="histogram"))
    assert result.final.style < result.initial.style
    lum = stylize(astronaut(), [painting()], TINY.replace(color="luminance", iterations=(3, 2)))
    with pytest.raises(InvalidInputError, match="2 style blend weights for 1"):
        stylize(astronaut(), [painting()], TINY.replace(style_blend=(0.5, 0.5)))
    assert lum.image.shape == (64, 64, 3)


def test_snapshots_are_taken_every_n_steps() -> None:
    shots: list[tuple[int, int, tuple[int, ...]]] = []
    stylize(
        astronaut(),
        [painting()],
        TINY.replace(iterations=(4, 4), snapshot_every=2),
        on_snapshot=lambda s, n, g: shots.append((s, n, tuple(g.shape))),
    )
    assert [(s, n) for s, n, _ in shots] == [(0, 2), (0, 4), (1, 2), (1, 4)]
    assert shots[-1][2] == (1, 3, 64, 64)


def test_bad_inputs_are_refused_clearly() -> None:
    with pytest.raises(ImageError, match="too small"):
        stylize(np.zeros((20, 100, 3), dtype=np.uint8), [painting()], TINY)
    with pytest.raises(ImageError, match="elongated"):
        stylize(np.zeros((40, 400, 3), dtype=np.uint8), [painting()], TINY)
    with pytest.raises(InvalidInputError, match="at least one style"):
        stylize(astronaut(), [], TINY)
    with pytest.raises(InvalidInputError, match="RGB uint8"):
        stylize(astronaut().astype(np.float32), [painting()], TINY)
    with pytest.raises(NotFoundError, match="did you mean"):
        stylize(astronaut(), [painting()], TINY.replace(content_layer="relu4-2"))


def test_schedule_drops_scales_that_would_be_too_small() -> None:
    notes: list[str] = []
    sizes = scale_schedule(300, 400, StyleConfig(size=128, scales=4, iterations=(1,)), notes)
    assert sizes == [(24, 32), (48, 64), (96, 128)]
    assert notes and "dropped 1" in notes[0]


def test_grayscale_content_and_other_aspect_ratio_are_noted() -> None:
    gray = np.repeat(astronaut()[..., :1], 3, axis=2)
    result = stylize(gray, [painting(40, 120)], TINY.replace(iterations=(2, 1)))
    assert any("grayscale" in note for note in result.notes)
    assert any("another aspect ratio" in note and "120x40" in note for note in result.notes)
    assert torch.get_num_threads() == 2
