"""bfloat16 arithmetic and the palette start of the default preset (real VGG16, tiny images)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from convapps.models.vgg import load_vgg
from convapps.style.config import PRESETS, StyleConfig
from convapps.style.optimize import Objective, compute_targets, use_bfloat16
from convapps.style.transfer import palette_content, resize, stylize, to_float


def astronaut(size: int = 64) -> np.ndarray:
    """scikit-image's astronaut, area-downsampled to size x size."""
    image = data.astronaut()
    step = image.shape[0] // size
    return image[: size * step, : size * step].reshape(size, step, size, step, 3).mean(axis=(1, 3)).astype(np.uint8)


def painting(height: int = 64, width: int = 64) -> np.ndarray:
    """Saturated swirls: a full-rank colour distribution and a texture far from the photo's."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = [np.sin(x / 2.0 + y / 5.0), np.cos(y / 3.0 - x / 7.0), np.sin((x * y) / 40.0)]
    return (np.stack([0.9 - 0.1 * rgb[0], 0.4 + 0.3 * rgb[1], 0.2 + 0.2 * rgb[2]], axis=2) * 255).astype(np.uint8)


def test_precision_modes() -> None:
    cpu = torch.device("cpu")
    assert use_bfloat16("bfloat16", cpu) is True
    assert use_bfloat16("float32", cpu) is False
    assert use_bfloat16("auto", torch.device("meta")) is False  # auto means bfloat16 only on a capable CPU
    with pytest.raises(Exception, match="precision"):
        StyleConfig(precision="float16")  # type: ignore[arg-type]


def test_bfloat16_cost_and_gradient_follow_float32() -> None:
    net = load_vgg()
    config = StyleConfig(size=96, precision="bfloat16")
    c = resize(to_float(astronaut(96)), (96, 96))
    s = resize(to_float(painting(96, 96)), (96, 96))
    objective = Objective(net, compute_targets(net, c, [s], [1.0], config), config)
    grads = []
    for exact in (True, False):
        g = (0.5 * c + 0.25).requires_grad_(True)
        j, costs = objective(g, exact=exact)
        j.backward()
        grads.append((j.item(), g.grad.flatten().clone()))
        assert j.dtype == torch.float32 and costs.total == pytest.approx(j.item())
    (j32, g32), (j16, g16) = grads
    assert j16 == pytest.approx(j32, rel=0.03) and j16 != j32  # really a different arithmetic, same cost
    assert torch.nn.functional.cosine_similarity(g16, g32, dim=0) > 0.99


def test_palette_start_has_the_paintings_colours_and_the_photos_layout() -> None:
    photo, art = to_float(astronaut(64)), to_float(painting(64, 64))
    start = palette_content(photo, [art, photo], [0.8, 0.2])  # the heavier painting gives the palette
    np.testing.assert_allclose(start.reshape(-1, 3).mean(0), art.reshape(-1, 3).mean(0), atol=0.03)
    gray = lambda im: im.mean(axis=2).ravel()  # noqa: E731
    assert np.corrcoef(gray(start), gray(photo))[0, 1] > 0.8


def test_default_preset_from_the_palette_start_lowers_the_style_cost() -> None:
    config = PRESETS["default"].replace(size=64, iterations=(30,), threads=2)
    assert config.init == "palette" and config.scales == 1
    result = stylize(astronaut(), [painting()], config)
    assert result.final.style < result.initial.style / 5
    assert result.final.total < result.initial.total
    assert np.abs(result.image.astype(float) - astronaut().astype(float)).mean() > 5
