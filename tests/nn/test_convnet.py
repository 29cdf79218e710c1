"""The 1D and 3D ConvNets: output shapes, config validation, and every layer's shape by the lecture's
formula against torch."""

from __future__ import annotations

import pytest
import torch

from convapps.core.shapes import TensorShape
from convapps.errors import InvalidInputError, ShapeError
from convapps.nd.model_shapes import model_layer_shapes
from convapps.nn.conv1d import convnet1d
from convapps.nn.conv3d import convnet3d
from convapps.nn.convnet import ConvNet, ConvNetConfig


@pytest.mark.parametrize("length", [96, 140, 252, 7])
@pytest.mark.parametrize("leads", [1, 2, 12])
def test_conv1d_every_layer_matches_torch(length: int, leads: int) -> None:
    model = convnet1d(in_channels=leads, num_classes=5)
    rows = model_layer_shapes(model, TensorShape(spatial=(length,), channels=leads))
    assert [r.name for r in rows][:4] == ["conv1", "bn1", "relu1", "pool1"]
    assert all(r.predicted == r.torch for r in rows)
    assert rows[0].predicted == f"{length}x64"  # "same" padding keeps the length
    assert rows[3].predicted == f"{length // 2}x64"  # pool 2: floor((n - 2) / 2) + 1
    assert rows[-1].torch == "5"
    assert model(torch.zeros(3, leads, length)).shape == (3, 5)


@pytest.mark.parametrize("side", [28, 33, 9])
def test_conv3d_every_layer_matches_torch(side: int) -> None:
    model = convnet3d()
    rows = model_layer_shapes(model, TensorShape(spatial=(side, side, side), channels=1))
    assert all(r.predicted == r.torch for r in rows)
    by_name = {r.name: r.torch for r in rows}
    half, quarter = side // 2, side // 4
    assert by_name["conv1"] == f"{side}x{side}x{side}x8"
    assert by_name["pool2"] == f"{quarter}x{quarter}x{quarter}x16"
    assert by_name["pool1"] == f"{half}x{half}x{half}x8"
    assert by_name["gap"] == "1x1x1x64"
    assert model(torch.zeros(2, 1, side, side, side)).shape == (2, 2)


def test_lecture_example_shapes_with_valid_conv() -> None:
    """The lecture's 14x1 EKG with 16 filters of 5 (no padding would give 10x16); ours pads 'same'."""
    model = ConvNet(ConvNetConfig(ndim=1, channels=(16,), kernels=(5,)))
    rows = model_layer_shapes(model, TensorShape.parse("14x1"))
    assert rows[0].torch == "14x16"
    assert rows[0].parameters == 5 * 1 * 16  # conv without bias (batch norm follows)


def test_parameter_count_matches_torch() -> None:
    model = convnet3d()
    rows = model_layer_shapes(model, TensorShape.parse("28x28x28x1"))
    assert sum(r.parameters for r in rows) == sum(p.numel() for p in model.parameters())


def test_wrong_inputs_are_clear_errors() -> None:
    with pytest.raises(ShapeError, match="reads 1D inputs with 1 channel"):
        model_layer_shapes(convnet1d(), TensorShape.parse("28x28x1"))
    with pytest.raises(InvalidInputError, match=r"expected 5 dims"):
        convnet3d()(torch.zeros(1, 28, 28, 28))
    with pytest.raises(InvalidInputError, match="odd"):
        ConvNetConfig(kernels=(4, 3, 3))
    with pytest.raises(InvalidInputError, match="same"):
        ConvNetConfig(channels=(8, 16), kernels=(3,))


def test_config_round_trip() -> None:
    config = ConvNetConfig(ndim=3, in_channels=2, num_classes=4, channels=(4, 8), kernels=(3, 5), pool=1)
    assert ConvNetConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InvalidInputError, match="unknown"):
        ConvNetConfig.from_dict({"depth": 3})
