"""A plain ConvNet for 1D, 2D or 3D inputs: blocks of conv -> batch norm -> ReLU -> max pool, then a
global average pooling head and one linear layer.

The lecture's generalisation: the same stack slides a 1D filter along time (``Conv1d`` on
``(B, C, T)``) or a 3D filter through a volume (``Conv3d`` on ``(B, C, D, H, W)``); each filter has as
many channels as its input and gives one output channel. With "same" padding ``p = (f - 1) / 2`` (odd
f) a conv keeps the length, a pool of size 2 halves it: ``floor((n + 2p - f) / s) + 1``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from convapps.errors import InvalidInputError

Ndim = Literal[1, 2, 3]
Arch = Literal["convnet", "inception"]
_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_GAP = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}


@dataclass(frozen=True)
class ConvNetConfig:
    """Architecture of :class:`ConvNet`; every field has a documented default.

    ``channels[i]`` filters of size ``kernels[i]`` (odd, "same" padding) in block i; a max pool of size
    and stride ``pool`` follows every block but the last (``pool=1``: no pooling). ``dropout`` applies
    before the final linear layer.

    ``arch="inception"`` (1D only) builds :class:`convapps.nn.inception1d.InceptionTime` instead: block i
    is an Inception module with ``channels[i]`` filters per branch and ``kernels[i]`` its longest kernel
    (``pool`` is not used). Build either with :func:`convapps.nn.build.build_classifier`.
    """

    arch: Arch = "convnet"
    """``convnet``: plain conv-BN-ReLU-pool blocks (:class:`ConvNet`); ``inception``: InceptionTime."""
    ndim: Ndim = 1
    in_channels: int = 1
    num_classes: int = 2
    channels: tuple[int, ...] = (64, 128, 128)
    kernels: tuple[int, ...] = (7, 5, 3)
    pool: int = 2
    dropout: float = 0.2

    def __post_init__(self) -> None:
        if self.ndim not in (1, 2, 3):
            raise InvalidInputError(f"ndim must be 1, 2 or 3, got {self.ndim}")
        if self.arch not in ("convnet", "inception"):
            raise InvalidInputError(f"arch must be 'convnet' or 'inception', got {self.arch!r}")
        if self.arch == "inception" and self.ndim != 1:
            raise InvalidInputError("the inception architecture is 1D only (signals)")
        if not self.channels or len(self.channels) != len(self.kernels):
            raise InvalidInputError(
                f"channels {self.channels} and kernels {self.kernels} need the same (non-zero) number of values"
            )
        if any(k < 1 or k % 2 == 0 for k in self.kernels):
            raise InvalidInputError(f"kernel sizes must be odd (for 'same' padding), got {self.kernels}")
        if min(self.channels) < 1 or self.in_channels < 1 or self.num_classes < 2 or self.pool < 1:
            raise InvalidInputError("channels, in_channels and pool must be >= 1, num_classes >= 2")
        if not 0.0 <= self.dropout < 1.0:
            raise InvalidInputError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (tuples as lists) for saving next to the weights."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvNetConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise InvalidInputError(f"unknown ConvNet config keys {sorted(unknown)}")
        fixed: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**fixed)


class ConvNet(nn.Module):
    """Blocks ``conv{i} -> bn{i} -> relu{i} [-> pool{i}]``, then ``gap -> flatten -> dropout -> fc``.

    Input ``(B, in_channels, *spatial)`` with ``len(spatial) == ndim``; output logits ``(B, num_classes)``.
    ``features`` is a flat ``nn.Sequential`` with those names, so every layer can be inspected.
    """

    def __init__(self, config: ConvNetConfig) -> None:
        super().__init__()
        if config.arch != "convnet":
            raise InvalidInputError(f"ConvNet builds arch 'convnet', got {config.arch!r}: use build_classifier")
        self.config = config
        layers: list[tuple[str, nn.Module]] = []
        in_ch, nd = config.in_channels, config.ndim
        last = len(config.channels)
        for i, (out_ch, k) in enumerate(zip(config.channels, config.kernels, strict=True), start=1):
            layers += [
                (f"conv{i}", _CONV[nd](in_ch, out_ch, kernel_size=k, padding=k // 2, bias=False)),
                (f"bn{i}", _BN[nd](out_ch)),
                (f"relu{i}", nn.ReLU(inplace=True)),
            ]
            if config.pool > 1 and i < last:
                layers.append((f"pool{i}", _POOL[nd](kernel_size=config.pool, stride=config.pool)))
            in_ch = out_ch
        layers += [("gap", _GAP[nd](1)), ("flatten", nn.Flatten()), ("dropout", nn.Dropout(config.dropout))]
        layers.append(("fc", nn.Linear(in_ch, config.num_classes)))
        self.features = nn.Sequential(OrderedDict(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` of ``x`` ``(B, C, *spatial)``."""
        expected = self.config.ndim + 2
        if x.ndim != expected or x.shape[1] != self.config.in_channels:
            raise InvalidInputError(
                f"input of shape {tuple(x.shape)}: expected {expected} dims (B, {self.config.in_channels}, ...)"
            )
        return self.features(x)
