"""InceptionTime for signals (Ismail Fawaz et al. 2020): Inception modules, residual shortcuts, global
average pooling.

An Inception module looks at the same input at several time scales at once: a 1x1 "bottleneck" conv
cuts the channels (the lecture's 1x1 convolution), then three convs of long, medium and short kernels
(k, about k/2, about k/4, all odd, "same" padding) and a max-pool -> 1x1 conv branch run side by side and
their outputs are concatenated (4 x filters channels), batch-normalised and rectified. Every third
module adds a shortcut from the input of the group (a 1x1 conv + batch norm where channels differ).
"""

from __future__ import annotations

import torch
from torch import nn

from convapps.errors import InvalidInputError
from convapps.nn.convnet import ConvNetConfig


def branch_kernels(longest: int) -> tuple[int, int, int]:
    """Odd kernel sizes of the three conv branches: ``longest``, about half and about a quarter of it."""

    def odd(k: int) -> int:
        return max(1, k if k % 2 else k - 1)

    return odd(longest), odd(longest // 2), odd(longest // 4)


class InceptionModule(nn.Module):
    """Bottleneck 1x1 conv, three parallel convs of different lengths and a pool branch, concatenated."""

    def __init__(self, in_channels: int, filters: int, longest_kernel: int) -> None:
        super().__init__()
        self.bottleneck: nn.Module = (
            nn.Conv1d(in_channels, filters, 1, bias=False) if in_channels > 1 else nn.Identity()
        )
        width = filters if in_channels > 1 else in_channels
        self.branches = nn.ModuleList(
            nn.Conv1d(width, filters, k, padding=k // 2, bias=False) for k in branch_kernels(longest_kernel)
        )
        self.pool_branch = nn.Sequential(
            nn.MaxPool1d(3, stride=1, padding=1), nn.Conv1d(in_channels, filters, 1, bias=False)
        )
        self.bn = nn.BatchNorm1d(4 * filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.bottleneck(x)
        out = torch.cat([branch(z) for branch in self.branches] + [self.pool_branch(x)], dim=1)
        return torch.relu(self.bn(out))


class InceptionTime(nn.Module):
    """``(B, C, T)`` -> logits ``(B, num_classes)``: ``len(config.channels)`` Inception modules with a
    residual shortcut around every group of three, global average pooling, dropout, one linear layer."""

    def __init__(self, config: ConvNetConfig) -> None:
        super().__init__()
        if config.arch != "inception":
            raise InvalidInputError(f"InceptionTime builds arch 'inception', got {config.arch!r}")
        self.config = config
        self.blocks = nn.ModuleList()
        self.shortcuts = nn.ModuleList()
        channels = group_in = config.in_channels
        for i, (filters, kernel) in enumerate(zip(config.channels, config.kernels, strict=True)):
            self.blocks.append(InceptionModule(channels, filters, kernel))
            channels = 4 * filters
            if i % 3 == 2:
                self.shortcuts.append(
                    nn.Sequential(nn.Conv1d(group_in, channels, 1, bias=False), nn.BatchNorm1d(channels))
                )
                group_in = channels
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(channels, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` of ``x`` ``(B, C, T)``."""
        if x.ndim != 3 or x.shape[1] != self.config.in_channels:
            raise InvalidInputError(
                f"input of shape {tuple(x.shape)}: expected 3 dims (B, {self.config.in_channels}, T)"
            )
        group_input = x
        for i, module in enumerate(self.blocks):
            x = module(x)
            if i % 3 == 2:
                x = torch.relu(x + self.shortcuts[i // 3](group_input))
                group_input = x
        return self.fc(self.dropout(x.mean(dim=-1)))
