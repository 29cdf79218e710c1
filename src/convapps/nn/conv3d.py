"""The 3D ConvNet for volumes (CT masks, MRI, movies as frame stacks): ``(B, C, D, H, W)`` -> logits."""

from __future__ import annotations

from convapps.nn.convnet import ConvNet, ConvNetConfig


def convnet3d(
    *,
    in_channels: int = 1,
    num_classes: int = 2,
    channels: tuple[int, ...] = (8, 16, 32, 64),
    kernels: tuple[int, ...] = (3, 3, 3, 3),
    pool: int = 2,
    dropout: float = 0.3,
) -> ConvNet:
    """Conv3d/BatchNorm3d/ReLU/MaxPool3d blocks and a global-average-pooling head.

    Defaults: 8/16/32/64 filters of 3x3x3 ("same" padding), 2x2x2 max pooling after the first three
    blocks, so a 28^3 volume goes 28 -> 14 -> 7 -> 3 before global pooling (about 20 M multiply-adds
    per 28^3 volume, small enough to train on two shared CPU cores).
    """
    return ConvNet(
        ConvNetConfig(
            ndim=3,
            in_channels=in_channels,
            num_classes=num_classes,
            channels=channels,
            kernels=kernels,
            pool=pool,
            dropout=dropout,
        )
    )
