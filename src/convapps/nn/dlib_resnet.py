"""dlib's face-recognition ResNet as a torch module (same weights, same numbers, several times faster).

dlib's network (``dnn_face_recognition_ex.cpp``), input an aligned 150x150 RGB chip x, output f(x) in R^128:

    x' = (x - mean_rgb) / 256
    conv 7x7/2 (32) -> affine -> relu -> max pool 3x3/2
    3 x res(32), res_down(64) + 3 x res(64), res_down(128) + 2 x res(128),
    res_down(256) + 2 x res(256), res_down(256)
    average over all positions (256) -> fully connected without bias (128)

``res(N)``: ``relu(x + affine(conv3x3(relu(affine(conv3x3(x))))))``; ``res_down``: the first conv has
stride 2 and the shortcut is a 2x2/2 average pool. Strided convolutions and pools have no padding (dlib's
default), so the two branches can differ by one row/column (8 -> 3 vs 4): dlib's ``add_prev`` then adds
them top-left aligned and zero-fills the rest (and the extra channels when the width grows), which
:func:`add_prev` reproduces. ``affine`` is the inference form of batch normalisation (``gamma x + beta``
per channel). Shapes: ``(B, 150, 150, 3)`` uint8 in, ``(B, 128)`` float32 out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

STAGES: tuple[tuple[int, bool], ...] = (
    (32, False),
    (32, False),
    (32, False),
    (64, True),
    (64, False),
    (64, False),
    (64, False),
    (128, True),
    (128, False),
    (128, False),
    (256, True),
    (256, False),
    (256, False),
    (256, True),
)
"""(channels, downsample) of the 14 residual blocks, input to output."""


@dataclass(frozen=True)
class ConvWeights:
    """One convolution: weight ``(C_out, C_in, kH, kW)``, bias ``(C_out,)``, stride, padding."""

    weight: Tensor
    bias: Tensor
    stride: int
    padding: int


def add_prev(a: Tensor, b: Tensor) -> Tensor:
    """dlib's ``add_prev``: sum of two ``(B, C, H, W)`` tensors of possibly different C, H, W, aligned at
    channel 0 and the top-left corner; missing values count as 0. Output ``(B, max C, max H, max W)``."""
    c, h, w = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def grow(t: Tensor) -> Tensor:
        return F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))

    return grow(a) + grow(b)


class _ConvAffine(nn.Module):
    weight: Tensor
    bias: Tensor

    def __init__(self, conv: ConvWeights, affine: tuple[Tensor, Tensor]) -> None:
        super().__init__()
        # fold the affine (gamma, beta) into the convolution: gamma (W x + b) + beta
        gamma, beta = affine
        self.register_buffer("weight", conv.weight * gamma.view(-1, 1, 1, 1))
        self.register_buffer("bias", conv.bias * gamma + beta)
        self.stride, self.padding = conv.stride, conv.padding

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)


class DlibResNet(nn.Module):
    """The 29-conv-layer ResNet of ``dlib_face_recognition_resnet_model_v1`` (inference only)."""

    fc: Tensor
    mean: Tensor

    def __init__(
        self,
        convs: Sequence[ConvWeights],
        affines: Sequence[tuple[Tensor, Tensor]],
        fc: Tensor,
        mean_rgb: tuple[float, float, float],
    ) -> None:
        super().__init__()
        if len(convs) != 1 + 2 * len(STAGES) or len(affines) != len(convs):
            raise ValueError(f"expected {1 + 2 * len(STAGES)} conv and affine layers, got {len(convs)}, {len(affines)}")
        self.layers = nn.ModuleList(_ConvAffine(c, a) for c, a in zip(convs, affines, strict=True))
        self.register_buffer("fc", fc)  # (256, 128): f = pooled @ fc
        self.register_buffer("mean", torch.tensor(mean_rgb, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, chips: Tensor) -> Tensor:
        """``(B, 150, 150, 3)`` uint8 RGB chips -> ``(B, 128)`` encodings."""
        x = (chips.permute(0, 3, 1, 2).float() - self.mean) / 256.0
        x = F.max_pool2d(F.relu(self.layers[0](x)), 3, 2)
        for i, (_, down) in enumerate(STAGES):
            first, second = self.layers[1 + 2 * i], self.layers[2 + 2 * i]
            y = second(F.relu(first(x)))
            x = F.relu(add_prev(y, F.avg_pool2d(x, 2, 2) if down else x))
        return x.mean(dim=(2, 3)) @ self.fc
