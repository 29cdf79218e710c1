"""End to end on package-shipped images + ../shared/data/style: every crop is its unit's argmax region.

Two re-runs per patch:
* blanked: the image with every pixel OUTSIDE the crop box set to 0, same input size (so the padding is
  the same): the unit at (i, j) must give the recorded activation, for border crops too;
* crop alone: for boxes inside the image, the crop by itself (on a zero canvas just large enough to put
  it on the unit grid: at most jump - 1 px of margin before it) must give the recorded activation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from convapps.viz.networks import ProbeNetwork, load_probe_network
from convapps.viz.patches import LayerPatches
from convapps.viz.samples import package_images
from convapps.viz.top_patch_run import TopPatchesConfig, TopPatchesReport, top_patches
from convapps.viz.tracking import load_square

SIZE = 224


@pytest.fixture(scope="module")
def image_files(shared_data: Path) -> list[Path]:
    style = sorted(p for p in (shared_data / "style").rglob("*") if p.is_file())  # includes SOURCES.md
    return package_images() + style


def run(network: str, files: list[Path], out: Path) -> TopPatchesReport:
    torch.manual_seed(0)
    config = TopPatchesConfig(network=network, layers="1-5", units="random:2", size=SIZE, batch_size=8)
    return top_patches(files, out, config=config)


@pytest.fixture(scope="module")
def vgg_report(image_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> TopPatchesReport:
    return run("vgg16", image_files, tmp_path_factory.mktemp("vgg"))


@pytest.fixture(scope="module")
def lite_report(image_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> TopPatchesReport:
    return run("efficientnet-lite0", image_files, tmp_path_factory.mktemp("lite"))


def unit_values(
    net: ProbeNetwork, layer: str, unit: int, images: np.ndarray, positions: list[tuple[int, int]]
) -> list[float]:
    acts = net.activations(images, [layer])[layer][:, unit]
    return [float(acts[b, i, j]) for b, (i, j) in enumerate(positions)]


def aligned_canvas(net: ProbeNetwork, layer: str, crop: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The crop on the smallest zero canvas where one unit's field is exactly the crop, and that unit.

    The field is recomputed for each canvas size: EfficientNet's "same" padding depends on it.
    """
    size = crop.shape[0]
    for n in range(size, size + 64):
        field = net.receptive_field(layer, (n, n)).rows
        q = field.first_unit_inside()
        top = field.start + q * field.jump
        if top + size <= n:
            canvas = np.zeros((n, n, 3), dtype=np.uint8)
            canvas[top : top + size, top : top + size] = crop
            return canvas, (q, q)
    raise AssertionError("no aligned canvas found")


def check_layer(net: ProbeNetwork, layer: LayerPatches) -> int:
    """Assert both re-runs for every patch of the layer; returns how many crops lay inside the image."""
    inside = 0
    name = layer.layer.name
    for unit in layer.units:
        blanked, positions, recorded = [], [], []
        for patch in unit.patches:
            image = load_square(patch.image, SIZE)
            box = patch.box.clip(SIZE, SIZE)
            canvas = np.zeros_like(image)
            canvas[box.top : box.bottom, box.left : box.right] = image[box.top : box.bottom, box.left : box.right]
            blanked.append(canvas)
            positions.append((patch.row, patch.col))
            recorded.append(patch.value)
            if patch.box.inside(SIZE, SIZE):
                inside += 1
                crop = image[patch.box.top : patch.box.bottom, patch.box.left : patch.box.right]
                alone, position = aligned_canvas(net, name, crop)
                value = unit_values(net, name, unit.unit, alone[None], [position])[0]
                assert value == pytest.approx(patch.value, rel=1e-3, abs=1e-3), (name, unit.unit, patch)
        again = unit_values(net, name, unit.unit, np.stack(blanked), positions)
        np.testing.assert_allclose(again, recorded, rtol=1e-4, atol=1e-4)
    return inside


@pytest.mark.shared_data
def test_vgg16_every_crop_is_its_units_argmax_region(vgg_report: TopPatchesReport) -> None:
    net = load_probe_network("vgg16")
    assert [layer.layer.name for layer in vgg_report.layers] == ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"]
    assert [layer.field.rows.size for layer in vgg_report.layers] == [5, 14, 40, 92, 196]
    inside = sum(check_layer(net, layer) for layer in vgg_report.layers)
    assert inside >= 18  # layers 1-3 have small fields: most of their crops lie inside the image


@pytest.mark.shared_data
def test_efficientnet_every_crop_is_its_units_argmax_region(lite_report: TopPatchesReport) -> None:
    net = load_probe_network("efficientnet-lite0")
    assert [layer.layer.name for layer in lite_report.layers] == ["block0", "block2", "block4", "block10", "block15"]
    inside = sum(check_layer(net, layer) for layer in lite_report.layers)
    assert inside >= 12


@pytest.mark.shared_data
def test_outputs_grids_html_and_json(vgg_report: TopPatchesReport, image_files: list[Path]) -> None:
    readable = len(image_files) - 1
    assert vgg_report.images_used == readable
    assert [p.name for p, _ in vgg_report.skipped] == ["SOURCES.md"]
    for layer in vgg_report.layers:
        assert len(layer.units) == 2
        for unit in layer.units:
            assert len(unit.patches) == 9
            assert len({p.image for p in unit.patches}) == 9  # one patch per image
            values = [p.value for p in unit.patches]
            assert values == sorted(values, reverse=True)
            assert all(p.box.height == layer.field.rows.size for p in unit.patches)
        assert layer.grid is not None
        with Image.open(layer.grid) as grid:
            assert grid.size == (44 + 9 * 66 + 2, 2 * 66 + 2)
    html = vgg_report.html.read_text()
    meta = json.loads((vgg_report.out_dir / "patches.json").read_text())
    assert meta["images_used"] == readable
    assert (meta["network"], meta["model_id"]) == ("vgg16-hed", "vgg16-hed-bsds500")  # "vgg16" is an alias
    for layer in vgg_report.layers:
        assert layer.layer.label in html
        assert layer.grid is not None and layer.grid.name in html
        for unit in layer.units:
            assert f"unit {unit.unit}<br>" in html
            assert f"<figcaption>{unit.patches[0].value:.4g}</figcaption>" in html
