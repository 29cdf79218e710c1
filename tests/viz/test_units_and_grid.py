"""--units parsing and selection, layer resolution, crops with padding, grid geometry, square images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convapps.core.receptive_field import PixelBox
from convapps.errors import InvalidInputError, NotFoundError
from convapps.viz.grid import BACKGROUND, PAD_COLOUR, GridLayout, crop_box, crop_tile, render_grid, to_tile
from convapps.viz.networks import load_probe_network
from convapps.viz.tracking import square_image
from convapps.viz.units import UnitSelection


def test_parse_units() -> None:
    assert UnitSelection.parse("3, 17,42") == UnitSelection(mode="indices", count=3, indices=(3, 17, 42))
    assert UnitSelection.parse("random:8") == UnitSelection(mode="random", count=8)
    assert UnitSelection.parse("TOP:5") == UnitSelection(mode="top", count=5)
    for bad in ("", "rand:3", "top:0", "1,,2", "-1"):
        with pytest.raises(InvalidInputError):
            UnitSelection.parse(bad)


def test_select_units() -> None:
    mean = torch.tensor([0.5, 3.0, 1.0, 2.0, -1.0])
    peak = torch.tensor([1.0, 5.0, 0.0, 4.0, 2.0])  # unit 2 never fires
    assert UnitSelection.parse("top:2").select(5, mean, seed=0, layer="l", peak=peak) == [1, 3]
    assert UnitSelection.parse("top:9").select(5, mean, seed=0, layer="l", peak=peak) == [1, 3, 0, 4]
    drawn = UnitSelection.parse("random:3").select(5, mean, seed=0, layer="l", peak=peak)
    assert len(drawn) == 3 and 2 not in drawn and drawn == sorted(drawn)
    assert drawn == UnitSelection.parse("random:3").select(5, mean, seed=0, layer="l", peak=peak)
    assert UnitSelection.parse("2,0").select(5, mean, seed=0, layer="l", peak=peak) == [2, 0]
    with pytest.raises(InvalidInputError, match="has 5 units"):
        UnitSelection.parse("7").select(5, mean, seed=0, layer="l")


def test_resolve_layers_of_both_networks() -> None:
    vgg = load_probe_network("vgg16")  # the old name, an alias of vgg16-hed
    assert (vgg.name, vgg.model_id, vgg.batch_size) == ("vgg16-hed", "vgg16-hed-bsds500", 1)
    assert load_probe_network().module is vgg.module  # the default, loaded once
    names = [layer.name for layer in vgg.resolve_layers("1-5")]
    assert names == ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"]
    assert [layer.label for layer in vgg.resolve_layers("2, conv4_1")] == ["layer 2 (relu2_2)", "conv4_1"]
    with pytest.raises(NotFoundError, match="did you mean 'relu4_3'"):
        vgg.resolve_layers("relu4_4")
    with pytest.raises(InvalidInputError, match="1-5"):
        vgg.resolve_layers("0-6")
    lite = load_probe_network("efficientnet-lite0")
    assert lite.stages == ("block0", "block2", "block4", "block10", "block15") and lite.batch_size == 16
    assert [layer.name for layer in lite.resolve_layers("1,5")] == ["block0", "block15"]
    assert lite.channels("block15") == 320
    with pytest.raises(NotFoundError, match="unknown network 'resnet50'"):
        load_probe_network("resnet50")
    with pytest.raises(NotFoundError, match="face-encoder network, not features"):
        load_probe_network("dlib-resnet")


def test_crop_box_pads_outside_the_image() -> None:
    image = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    crop = crop_box(image, PixelBox(top=-2, left=3, bottom=3, right=8))
    assert crop.shape == (5, 5, 3)
    assert (crop[:2] == PAD_COLOUR).all()
    assert (crop[:, 3:] == PAD_COLOUR).all()
    np.testing.assert_array_equal(crop[2:, :3], image[0:3, 3:6])


def test_tiles_and_grid_geometry() -> None:
    tile = to_tile(np.zeros((5, 5, 3), dtype=np.uint8) + 9, 20)
    assert tile.shape == (20, 20, 3) and (tile == 9).all()
    layout = GridLayout(rows=2, columns=3, tile=20, gap=2, label_width=30)
    red = np.zeros((20, 20, 3), dtype=np.uint8)
    red[..., 0] = 255
    grid = render_grid([[red, None, red], [red, red, red]], ["u1", "u2"], layout)
    assert grid.shape == (2 * 22 + 2, 30 + 3 * 22 + 2, 3)
    x, y = layout.origin(1, 2)
    assert (x, y) == (30 + 2 + 44, 2 + 22)
    assert (grid[y : y + 20, x : x + 20] == red).all()
    x, y = layout.origin(0, 1)
    assert (grid[y : y + 20, x : x + 20] == BACKGROUND).all()  # empty slot stays background


def test_square_image_scales_the_shorter_side_and_centre_crops() -> None:
    image = np.zeros((100, 300, 3), dtype=np.uint8)
    image[:, 140:160] = 255
    out = square_image(image, 50)
    assert out.shape == (50, 50, 3)
    assert out[25, 25].tolist() == [255, 255, 255] and out[25, 5].tolist() == [0, 0, 0]


def test_crop_tile_shrinks_large_boxes_like_the_padded_crop() -> None:
    yy, xx = np.mgrid[0:224, 0:224]
    image = np.stack([yy, xx, (yy + xx) // 2], axis=2).astype(np.uint8)  # smooth ramps
    for box in (PixelBox(-394, -394, 457, 457), PixelBox(-90, 10, 106, 206), PixelBox(3, 3, 8, 8)):
        fast, slow = crop_tile(image, box, 64), to_tile(crop_box(image, box), 64)
        assert fast.shape == (64, 64, 3)
        assert np.abs(fast.astype(int) - slow.astype(int)).mean() < 2.0
    tile = crop_tile(image, PixelBox(-394, -394, 457, 457), 64)
    assert (tile[:20] == PAD_COLOUR).all() and not (tile[32, 32] == PAD_COLOUR).all()
