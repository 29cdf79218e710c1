"""The 1D ConvNet for signals (ECG beats, records): ``(B, leads, T)`` -> class logits."""

from __future__ import annotations

from convapps.nn.convnet import ConvNet, ConvNetConfig


def convnet1d(
    *,
    in_channels: int = 1,
    num_classes: int = 2,
    channels: tuple[int, ...] = (64, 128, 128),
    kernels: tuple[int, ...] = (7, 5, 3),
    pool: int = 2,
    dropout: float = 0.2,
) -> ConvNet:
    """Conv1d/BatchNorm1d/ReLU/MaxPool1d blocks and a global-average-pooling head.

    Defaults follow the fully convolutional baseline for UCR series (Wang et al. 2017: three conv
    blocks, batch norm, ReLU, global average pooling), with odd kernels 7/5/3 and pooling added.
    """
    return ConvNet(
        ConvNetConfig(
            ndim=1,
            in_channels=in_channels,
            num_classes=num_classes,
            channels=channels,
            kernels=kernels,
            pool=pool,
            dropout=dropout,
        )
    )
