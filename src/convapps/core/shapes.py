"""The lecture's convolution arithmetic for 1D, 2D and 3D inputs.

Per spatial dimension, an input of size n convolved with an f-sized filter, padding p and stride s gives

    output = floor((n + 2p - f) / s) + 1

and the number of output channels equals the number of filters (the filter's own channel count must
match the input's). The lecture's examples: a 14x1 EKG signal and 16 filters of size 5 give 10x16; a
14x14x14x1 volume and 16 filters 5x5x5 give 10x10x10x16.

Shapes are written channels-last like the lecture, ``"14x14x14x1"`` = 14x14x14 voxels, 1 channel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from convapps.core.receptive_field import INPUT_FIELD, ReceptiveField, Window1d, next_receptive_field
from convapps.errors import InvalidInputError, ShapeError

PaddingMode = Literal["same", "valid"]
Padding = int | tuple[int, ...] | PaddingMode
LayerKind = Literal["conv", "maxpool", "avgpool"]

_SHAPE_RE = re.compile(r"^\d+(x\d+)+$")


def conv_output_size(n: int, f: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length along one dimension: ``floor((n + 2p - f) / s) + 1``.

    With dilation d the filter spans ``f' = d (f - 1) + 1`` inputs and f' replaces f (the lecture's
    formula is the case d = 1). Raises :class:`ShapeError` when the filter is larger than the padded
    input, and :class:`InvalidInputError` for non-positive sizes or strides.
    """
    if n < 1 or f < 1:
        raise InvalidInputError(f"input size ({n}) and filter size ({f}) must be >= 1")
    if stride < 1:
        raise InvalidInputError(f"stride must be >= 1, got {stride}")
    if padding < 0 or dilation < 1:
        raise InvalidInputError(f"padding must be >= 0 and dilation >= 1, got {padding} and {dilation}")
    span = dilation * (f - 1) + 1
    if n + 2 * padding < span:
        raise ShapeError(f"filter of size {span} is larger than the padded input {n} + 2*{padding} = {n + 2 * padding}")
    return (n + 2 * padding - span) // stride + 1


def same_padding(n: int, f: int, *, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Padding (before, after) that makes the output ``ceil(n / s)`` long ("same" padding).

    For stride 1 and odd f this is the lecture's symmetric ``p = (f - 1) / 2``; otherwise the total
    ``max((ceil(n/s) - 1) s + f' - n, 0)`` is split with the extra pixel after (TensorFlow's rule,
    and PyTorch's ``padding="same"`` for stride 1).
    """
    if stride < 1:
        raise InvalidInputError(f"stride must be >= 1, got {stride}")
    span = dilation * (f - 1) + 1
    total = max((math.ceil(n / stride) - 1) * stride + span - n, 0)
    return total // 2, total - total // 2


@dataclass(frozen=True)
class TensorShape:
    """A channels-last shape: spatial sizes (1 to 3 of them) and a channel count."""

    spatial: tuple[int, ...]
    channels: int

    @classmethod
    def parse(cls, text: str) -> TensorShape:
        """Parse ``"14x1"``, ``"32x32x3"`` or ``"14x14x14x1"`` (the last number is the channels)."""
        cleaned = text.strip().lower().replace(" ", "").replace("×", "x")
        if not _SHAPE_RE.match(cleaned):
            raise InvalidInputError(
                f"malformed shape {text!r}: expected sizes joined by 'x' with channels last, e.g. 14x1 or 32x32x3"
            )
        sizes = tuple(int(v) for v in cleaned.split("x"))
        if any(v < 1 for v in sizes):
            raise InvalidInputError(f"malformed shape {text!r}: every size must be >= 1")
        if len(sizes) > 4:
            raise InvalidInputError(f"shape {text!r} has {len(sizes) - 1} spatial dimensions; 1 to 3 supported")
        return cls(spatial=sizes[:-1], channels=sizes[-1])

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions (1 for signals, 2 for images, 3 for volumes)."""
        return len(self.spatial)

    def __str__(self) -> str:
        return "x".join(str(v) for v in (*self.spatial, self.channels))


def _per_dim(value: int | tuple[int, ...], ndim: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * ndim
    if len(value) != ndim:
        raise InvalidInputError(f"{name} {value} has {len(value)} values for a {ndim}D input")
    return tuple(value)


@dataclass(frozen=True)
class ConvLayer:
    """One layer of a stack: a convolution with ``filters`` filters, or a max/avg pooling."""

    kernel: int | tuple[int, ...]
    filters: int | None = None
    """Number of filters (= output channels); ``None`` for pooling, which keeps the channels."""
    stride: int | tuple[int, ...] = 1
    padding: Padding = 0
    dilation: int | tuple[int, ...] = 1
    kind: LayerKind = "conv"

    def __post_init__(self) -> None:
        if self.kind == "conv" and (self.filters is None or self.filters < 1):
            raise InvalidInputError(f"a conv layer needs filters >= 1, got {self.filters}")

    def windows(self, shape: TensorShape) -> tuple[Window1d, ...]:
        """The layer's window along each spatial dimension of ``shape`` (padding resolved)."""
        kernels = _per_dim(self.kernel, shape.ndim, "kernel")
        strides = _per_dim(self.stride, shape.ndim, "stride")
        dilations = _per_dim(self.dilation, shape.ndim, "dilation")
        if any(s < 1 for s in strides):
            raise InvalidInputError(f"stride must be >= 1, got {self.stride}")
        if self.padding == "same":
            pads = tuple(
                same_padding(n, k, stride=s, dilation=d)[0]
                for n, k, s, d in zip(shape.spatial, kernels, strides, dilations, strict=True)
            )
        elif self.padding == "valid":
            pads = (0,) * shape.ndim
        elif isinstance(self.padding, str):
            raise InvalidInputError(f"padding must be an integer, 'same' or 'valid', got {self.padding!r}")
        else:
            pads = _per_dim(self.padding, shape.ndim, "padding")
        return tuple(
            Window1d(kernel=k, stride=s, padding=p, dilation=d)
            for k, s, p, d in zip(kernels, strides, pads, dilations, strict=True)
        )


def conv_output_shape(shape: TensorShape, layer: ConvLayer) -> TensorShape:
    """Shape after one layer: the lecture's formula per spatial dimension; channels = filters."""
    sizes = []
    for n, window in zip(shape.spatial, layer.windows(shape), strict=True):
        if layer.padding == "same":
            sizes.append(math.ceil(n / window.stride))
            continue
        sizes.append(
            conv_output_size(n, window.kernel, stride=window.stride, padding=window.padding, dilation=window.dilation)
        )
    channels = shape.channels if layer.filters is None or layer.kind != "conv" else layer.filters
    return TensorShape(spatial=tuple(sizes), channels=channels)


def conv_parameter_count(in_channels: int, layer: ConvLayer, ndim: int) -> int:
    """Weights and biases of a conv layer: ``(prod(f) * n_C_in + 1) * n_filters``; 0 for pooling."""
    if layer.kind != "conv" or layer.filters is None:
        return 0
    return (math.prod(_per_dim(layer.kernel, ndim, "kernel")) * in_channels + 1) * layer.filters


@dataclass(frozen=True)
class LayerReport:
    """One row of a layer-stack report."""

    index: int
    layer: ConvLayer
    input: TensorShape
    output: TensorShape
    parameters: int
    receptive_field: tuple[ReceptiveField, ...]


def layer_stack(shape: TensorShape, layers: Sequence[ConvLayer]) -> list[LayerReport]:
    """Output shape, parameter count and receptive field after each layer of a stack."""
    reports: list[LayerReport] = []
    fields = tuple(INPUT_FIELD for _ in shape.spatial)
    current = shape
    for index, layer in enumerate(layers, start=1):
        try:
            output = conv_output_shape(current, layer)
        except ShapeError as err:
            raise ShapeError(f"layer {index} on input {current}: {err}") from err
        fields = tuple(next_receptive_field(f, w) for f, w in zip(fields, layer.windows(current), strict=True))
        reports.append(
            LayerReport(
                index=index,
                layer=layer,
                input=current,
                output=output,
                parameters=conv_parameter_count(current.channels, layer, current.ndim),
                receptive_field=fields,
            )
        )
        current = output
    return reports
