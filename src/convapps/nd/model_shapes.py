"""Shape of every layer of a :class:`~convapps.nn.convnet.ConvNet`, predicted with the lecture's
formula (``convapps.core.shapes``) and checked against what torch actually produces.

Conv and pooling layers go through :func:`~convapps.core.shapes.conv_output_shape`
(``floor((n + 2p - f) / s) + 1``, channels = filters); batch norm, ReLU and dropout keep the shape;
global average pooling gives ``1`` per spatial dimension; flatten and the linear layer give vectors.
A disagreement with the forward pass raises :class:`~convapps.errors.ShapeError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from convapps.core.shapes import ConvLayer, Padding, TensorShape, conv_output_shape
from convapps.errors import InvalidInputError, ShapeError
from convapps.nn.convnet import ConvNet


@dataclass(frozen=True)
class LayerShape:
    """One layer: its name, kind, predicted and torch output shapes (channels-last, like the lecture)."""

    name: str
    kind: str
    predicted: str
    torch: str
    parameters: int


def _as_core_layer(module: nn.Module) -> ConvLayer | None:
    if isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        padding: Padding = module.padding if module.padding in ("same", "valid") else tuple(module.padding)  # type: ignore[assignment,arg-type]
        return ConvLayer(
            kernel=tuple(module.kernel_size),
            filters=module.out_channels,
            stride=tuple(module.stride),
            padding=padding,
            dilation=tuple(module.dilation),
        )
    if isinstance(module, nn.MaxPool1d | nn.MaxPool2d | nn.MaxPool3d | nn.AvgPool1d | nn.AvgPool2d | nn.AvgPool3d):
        kind = "maxpool" if "Max" in type(module).__name__ else "avgpool"
        return ConvLayer(kernel=module.kernel_size, stride=module.stride, padding=module.padding, kind=kind)  # type: ignore[arg-type]
    return None


def _predict(module: nn.Module, shape: TensorShape | int) -> TensorShape | int:
    layer = _as_core_layer(module)
    if layer is not None and isinstance(shape, TensorShape):
        return conv_output_shape(shape, layer)
    if isinstance(module, nn.AdaptiveAvgPool1d | nn.AdaptiveAvgPool2d | nn.AdaptiveAvgPool3d) and isinstance(
        shape, TensorShape
    ):
        return TensorShape(spatial=tuple(1 for _ in shape.spatial), channels=shape.channels)
    if isinstance(module, nn.Flatten) and isinstance(shape, TensorShape):
        return shape.channels * int(torch.tensor(shape.spatial).prod())
    if isinstance(module, nn.Linear):
        return module.out_features
    return shape  # batch norm, ReLU, dropout


def _channels_last(t: torch.Tensor) -> str:
    dims = tuple(t.shape[1:])
    return str(dims[0]) if len(dims) == 1 else "x".join(str(v) for v in (*dims[1:], dims[0]))


def model_layer_shapes(model: nn.Module, input_shape: TensorShape) -> list[LayerShape]:
    """Run one zero input ``(1, C, *spatial)`` through ``model.features`` layer by layer and compare each
    output with the formula's prediction. Raises :class:`ShapeError` on the first disagreement or when
    the input does not fit the model, :class:`InvalidInputError` for a model that is not a plain ConvNet."""
    if not isinstance(model, ConvNet):
        arch = getattr(getattr(model, "config", None), "arch", type(model).__name__)
        raise InvalidInputError(f"the layer table covers plain conv nets (conv1d, conv3d); this model is {arch}")
    cfg = model.config
    if input_shape.ndim != cfg.ndim or input_shape.channels != cfg.in_channels:
        raise ShapeError(
            f"the model reads {cfg.ndim}D inputs with {cfg.in_channels} channel(s); {input_shape} has "
            f"{input_shape.ndim} spatial dimension(s) and {input_shape.channels} channel(s)"
        )
    predicted: TensorShape | int = input_shape
    x = torch.zeros((1, input_shape.channels, *input_shape.spatial))
    rows = []
    model.eval()
    with torch.no_grad():
        for name, module in model.features.named_children():
            predicted = _predict(module, predicted)
            x = module(x)
            actual = _channels_last(x)
            if str(predicted) != actual:
                raise ShapeError(f"layer {name}: the formula gives {predicted} but torch gives {actual}")
            params = sum(p.numel() for p in module.parameters())
            rows.append(LayerShape(name, type(module).__name__, str(predicted), actual, params))
    return rows
