"""The lecture's conv arithmetic, checked by hand and against real torch.nn.Conv1d/2d/3d layers."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from convapps.core.shapes import (
    ConvLayer,
    TensorShape,
    conv_output_shape,
    conv_output_size,
    conv_parameter_count,
    layer_stack,
    same_padding,
)
from convapps.errors import InvalidInputError, ShapeError

CONV = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "expected"),
    [(14, 5, 1, 0, 10), (10, 5, 1, 0, 6), (6, 3, 1, 0, 4), (7, 3, 2, 0, 3), (7, 3, 2, 1, 4), (64, 4, 2, 0, 31)],
)
def test_conv_output_size_matches_the_formula(n: int, f: int, s: int, p: int, expected: int) -> None:
    assert conv_output_size(n, f, stride=s, padding=p) == expected


@pytest.mark.parametrize(
    ("text", "layers", "expected"),
    [
        ("14x1", [16], ["10x16"]),
        ("14x1", [16, 32], ["10x16", "6x32"]),
        ("14x14x14x1", [16, 32], ["10x10x10x16", "6x6x6x32"]),
    ],
)
def test_lecture_examples(text: str, layers: list[int], expected: list[str]) -> None:
    reports = layer_stack(TensorShape.parse(text), [ConvLayer(filters=n, kernel=5) for n in layers])
    assert [str(r.output) for r in reports] == expected


def test_3d_examples_from_the_issue() -> None:
    out = conv_output_shape(TensorShape.parse("32x32x32x16"), ConvLayer(filters=32, kernel=3))
    assert str(out) == "30x30x30x32"
    out = conv_output_shape(TensorShape.parse("64x64x64x3"), ConvLayer(filters=16, kernel=4, stride=2))
    assert str(out) == "31x31x31x16"


def _torch_output(shape: TensorShape, layer: ConvLayer) -> tuple[int, ...]:
    x = torch.zeros(1, shape.channels, *shape.spatial)
    windows = layer.windows(shape)
    if layer.padding == "same":
        pads: list[int] = []
        for n, w in zip(reversed(shape.spatial), reversed(windows), strict=True):
            before, after = same_padding(n, w.kernel, stride=w.stride, dilation=w.dilation)
            pads += [before, after]
        x = F.pad(x, pads)
        torch_padding: tuple[int, ...] = (0,) * shape.ndim
    else:
        torch_padding = tuple(w.padding for w in windows)
    if layer.kind == "maxpool":
        y = POOL[shape.ndim](
            x,
            kernel_size=tuple(w.kernel for w in windows),
            stride=tuple(w.stride for w in windows),
            padding=torch_padding,
        )
    else:
        conv = CONV[shape.ndim](
            shape.channels,
            layer.filters or 1,
            kernel_size=tuple(w.kernel for w in windows),
            stride=tuple(w.stride for w in windows),
            padding=torch_padding,
            dilation=tuple(w.dilation for w in windows),
        )
        y = conv(x)
        assert sum(p.numel() for p in conv.parameters()) == conv_parameter_count(shape.channels, layer, shape.ndim)
    return (*y.shape[2:], y.shape[1])


@pytest.mark.parametrize(
    ("spatial", "kernel", "stride", "padding", "dilation"),
    [
        (sp, k, s, p, d)
        for sp, (k, s, p, d) in itertools.product(
            [(14,), (17,), (9, 12), (7, 8, 9)],
            [
                (5, 1, 0, 1),
                (3, 2, 1, 1),
                (4, 2, 0, 1),
                (3, 1, "same", 1),
                (4, 3, "same", 1),
                (3, 1, 2, 2),
                (2, 2, "valid", 1),
            ],
        )
    ],
)
def test_every_shape_matches_torch(
    spatial: tuple[int, ...], kernel: int, stride: int, padding: int | str, dilation: int
) -> None:
    shape = TensorShape(spatial=spatial, channels=3)
    layer = ConvLayer(filters=4, kernel=kernel, stride=stride, padding=padding, dilation=dilation)  # type: ignore[arg-type]
    assert (*conv_output_shape(shape, layer).spatial, 4) == _torch_output(shape, layer)


@pytest.mark.parametrize("spatial", [(16,), (15, 16), (9, 10, 11)])
def test_pooling_keeps_channels_and_matches_torch(spatial: tuple[int, ...]) -> None:
    shape = TensorShape(spatial=spatial, channels=5)
    layer = ConvLayer(kind="maxpool", kernel=2, stride=2)
    out = conv_output_shape(shape, layer)
    assert out.channels == 5
    assert (*out.spatial, 5) == _torch_output(shape, layer)


def test_same_padding_keeps_size_at_stride_1_and_ceil_divides_otherwise() -> None:
    assert same_padding(14, 5) == (2, 2)  # the lecture's p = (f - 1) / 2
    assert same_padding(14, 4) == (1, 2)
    shape = TensorShape(spatial=(15, 15), channels=3)
    assert conv_output_shape(shape, ConvLayer(filters=8, kernel=3, stride=2, padding="same")).spatial == (8, 8)


def test_parameter_count_and_receptive_field_of_a_stack() -> None:
    reports = layer_stack(TensorShape.parse("14x1"), [ConvLayer(filters=16, kernel=5), ConvLayer(filters=32, kernel=5)])
    assert [r.parameters for r in reports] == [(5 * 1 + 1) * 16, (5 * 16 + 1) * 32]
    assert [r.receptive_field[0].size for r in reports] == [5, 9]


def test_vgg16_conv5_3_receptive_field_is_196() -> None:
    layers: list[ConvLayer] = []
    for block, convs in enumerate([2, 2, 3, 3, 3]):
        layers += [ConvLayer(filters=64, kernel=3, padding=1)] * convs
        if block < 4:
            layers.append(ConvLayer(kind="maxpool", kernel=2, stride=2))
    reports = layer_stack(TensorShape.parse("224x224x3"), layers)
    last = reports[-1]
    assert str(last.output) == "14x14x64"
    assert last.receptive_field[0].size == 196
    assert last.receptive_field[0].jump == 16


@pytest.mark.parametrize("text", ["14x", "x14", "14", "14xx1", "axb", "0x1", "1x2x3x4x5", ""])
def test_malformed_shapes_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError):
        TensorShape.parse(text)


def test_kernel_larger_than_padded_input_is_a_shape_error() -> None:
    with pytest.raises(ShapeError, match="larger than the padded input"):
        conv_output_size(4, 5)
    assert conv_output_size(4, 5, padding=1) == 2


@pytest.mark.parametrize("kwargs", [{"stride": 0}, {"stride": -1}, {"padding": -1}, {"dilation": 0}])
def test_invalid_hyper_parameters_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(InvalidInputError):
        conv_output_size(14, 3, **kwargs)


def test_conv_layer_needs_filters() -> None:
    with pytest.raises(InvalidInputError):
        ConvLayer(kernel=3)
    with pytest.raises(InvalidInputError, match="2 values for a 3D input"):
        conv_output_shape(TensorShape.parse("8x8x8x1"), ConvLayer(filters=2, kernel=(3, 3)))
