"""Receptive-field arithmetic: hand-computed values, known networks, and an empirical gradient check.

The gradient check: the input pixels whose gradient d a[c, i, j] / d x is non-zero are exactly those the
unit (i, j) sees, so their bounding box must equal the computed box (clipped to the image).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convapps.core.receptive_field import (
    LayerWindow,
    PixelBox,
    ReceptiveField,
    ReceptiveField2d,
    Window1d,
    receptive_field_stack,
    receptive_fields,
)
from convapps.errors import InvalidInputError


def vgg16_windows() -> list[LayerWindow]:
    layers = []
    for block, count in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, count + 1):
            layers.append(LayerWindow.square(f"conv{block}_{i}", 3, padding=1))
        layers.append(LayerWindow.square(f"pool{block}", 2, stride=2))
    return layers


def test_existing_1d_api_still_works() -> None:
    fields = receptive_fields([Window1d(3), Window1d(2, stride=2), Window1d(3, padding=1)])
    assert fields == [
        ReceptiveField(size=3, jump=1, start=0),
        ReceptiveField(size=4, jump=2, start=0),
        ReceptiveField(size=8, jump=2, start=-2),
    ]
    assert fields[-1].box(3) == (4, 12)


def test_vgg16_known_values() -> None:
    fields = dict(receptive_field_stack(vgg16_windows()))
    sizes = {name: f.rows.size for name, f in fields.items()}
    assert sizes["conv1_2"] == 5
    assert sizes["conv2_2"] == 14
    assert sizes["conv3_3"] == 40
    assert sizes["conv4_3"] == 92
    assert sizes["conv5_3"] == 196  # the classic VGG16 value
    assert sizes["pool5"] == 212
    conv5_3 = fields["conv5_3"]
    assert (conv5_3.rows.jump, conv5_3.rows.start) == (16, -90)
    assert conv5_3.box(6, 7) == PixelBox(top=6, left=22, bottom=202, right=218)
    assert conv5_3.rows.first_unit_inside() == 6


def test_alexnet_pool5_is_195() -> None:
    stack = [
        LayerWindow.square("conv1", 11, stride=4, padding=2),
        LayerWindow.square("pool1", 3, stride=2),
        LayerWindow.square("conv2", 5, padding=2),
        LayerWindow.square("pool2", 3, stride=2),
        LayerWindow.square("conv3", 3, padding=1),
        LayerWindow.square("conv4", 3, padding=1),
        LayerWindow.square("conv5", 3, padding=1),
        LayerWindow.square("pool5", 3, stride=2),
    ]
    name, field = receptive_field_stack(stack)[-1]
    assert (name, field.rows.size, field.rows.jump) == ("pool5", 195, 32)


def test_dilation_and_non_square_windows() -> None:
    stack = [
        LayerWindow("a", rows=Window1d(3, dilation=2, padding=2), cols=Window1d(1)),
        LayerWindow("b", rows=Window1d(2, stride=2), cols=Window1d(5, stride=3, padding=1)),
    ]
    (_, a), (_, b) = receptive_field_stack(stack)
    assert (a.rows.size, a.cols.size) == (5, 1)
    assert b.rows == ReceptiveField(size=6, jump=2, start=-2)
    assert b.cols == ReceptiveField(size=5, jump=3, start=-1)
    assert b.box(2, 1) == PixelBox(top=2, left=2, bottom=8, right=7)


def test_pixel_box_clip_and_inside() -> None:
    box = PixelBox(top=-3, left=5, bottom=10, right=30)
    assert (box.height, box.width) == (13, 25)
    assert not box.inside(20, 20)
    assert box.clip(20, 20) == PixelBox(top=0, left=5, bottom=10, right=20)
    assert PixelBox(2, 2, 5, 5).inside(5, 5)
    assert PixelBox(-9, -9, -1, -1).clip(4, 4).height == 0


def test_invalid_window_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        LayerWindow.square("bad", 0)


def nonzero_grad_box(net: nn.Module, x: torch.Tensor, channel: int, i: int, j: int) -> PixelBox:
    x = x.clone().requires_grad_(True)
    net(x)[0, channel, i, j].backward()
    assert x.grad is not None
    nz = (x.grad[0].abs().sum(0) > 0).nonzero()
    return PixelBox(int(nz[:, 0].min()), int(nz[:, 1].min()), int(nz[:, 0].max()) + 1, int(nz[:, 1].max()) + 1)


def test_gradient_check_on_a_random_stack() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.AvgPool2d(2, 2),
        nn.Conv2d(4, 4, (5, 3), stride=(2, 1), padding=(2, 0)),
        nn.Conv2d(4, 4, 3, dilation=2, padding=1),
        nn.AvgPool2d(3, 2, padding=1),
        nn.Conv2d(4, 3, 3, stride=2, padding=1),
    ).double()
    stack = [
        LayerWindow.square("c1", 3, padding=1),
        LayerWindow.square("p1", 2, stride=2),
        LayerWindow("c2", rows=Window1d(5, stride=2, padding=2), cols=Window1d(3)),
        LayerWindow.square("c3", 3, dilation=2, padding=1),
        LayerWindow.square("p2", 3, stride=2, padding=1),
        LayerWindow.square("c4", 3, stride=2, padding=1),
    ]
    field = receptive_field_stack(stack)[-1][1]
    x = torch.rand(1, 3, 97, 83, dtype=torch.float64) + 0.5
    out_h, out_w = net(x).shape[-2:]
    for i, j in [(0, 0), (1, 2), (out_h // 2, out_w // 2), (out_h - 1, out_w - 1)]:
        assert nonzero_grad_box(net, x, 1, i, j) == field.box(i, j).clip(97, 83)


def test_gradient_check_on_vgg16_relu3_3() -> None:
    from convapps.models.vgg import load_vgg16

    fe = load_vgg16()
    torch.manual_seed(1)
    x = fe.preprocess(torch.rand(1, 3, 64, 64))
    field = ReceptiveField2d(fe.receptive_field("relu3_3"), fe.receptive_field("relu3_3"))

    class Tap(nn.Module):
        def forward(self, inp: torch.Tensor) -> torch.Tensor:
            return fe(inp, ["conv3_3"])["conv3_3"]  # pre-ReLU: no dead unit cuts the gradient

    for i, j in [(0, 0), (8, 5), (15, 15)]:
        found = nonzero_grad_box(Tap(), x, 7, i, j)
        expected = field.box(i, j).clip(64, 64)
        # max pooling routes the gradient to one pixel of each 2x2 window: at most 1 px less per side
        assert found.clip(64, 64) == found
        assert expected.top <= found.top <= expected.top + 1 and expected.bottom - 1 <= found.bottom <= expected.bottom
        assert expected.left <= found.left <= expected.left + 1 and expected.right - 1 <= found.right <= expected.right


@pytest.mark.parametrize("size", [(64, 64), (67, 61)])
def test_gradient_check_on_efficientnet_same_padding(size: tuple[int, int]) -> None:
    from convapps.models.efficientnet import load_efficientnet_lite0

    net = load_efficientnet_lite0()
    field = receptive_field_stack(net.layer_windows("block4", size))[-1][1]
    torch.manual_seed(2)
    x = torch.rand(1, 3, *size) * 0.5 - 0.25

    class Tap(nn.Module):
        def forward(self, inp: torch.Tensor) -> torch.Tensor:
            return net(inp, ["block4"])["block4"]

    out_h, out_w = Tap()(x).shape[-2:]
    assert (out_h, out_w) == (-(-size[0] // 8), -(-size[1] // 8))
    for i, j in [(0, 0), (3, 4), (out_h - 1, out_w - 1)]:
        assert nonzero_grad_box(Tap(), x, 3, i, j) == field.box(i, j).clip(*size)
