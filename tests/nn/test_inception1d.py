"""InceptionTime (1D): shapes, branch kernels, shortcuts, and that it learns a multi-scale toy task."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from convapps.errors import InvalidInputError
from convapps.nn.build import build_classifier
from convapps.nn.convnet import ConvNet, ConvNetConfig
from convapps.nn.inception1d import InceptionTime, branch_kernels

CONFIG = ConvNetConfig(arch="inception", ndim=1, in_channels=2, num_classes=3, channels=(8, 8, 8, 8), kernels=(9,) * 4)


def test_branch_kernels_are_odd_long_medium_short() -> None:
    assert branch_kernels(39) == (39, 19, 9)
    assert branch_kernels(40) == (39, 19, 9)
    assert branch_kernels(3) == (3, 1, 1)


def test_shapes_and_shortcuts() -> None:
    model = build_classifier(CONFIG)
    assert isinstance(model, InceptionTime)
    assert len(model.blocks) == 4 and len(model.shortcuts) == 1  # one shortcut per full group of three
    assert model(torch.randn(5, 2, 50)).shape == (5, 3)
    assert model(torch.randn(1, 2, 7)).shape == (1, 3)  # any length: global average pooling
    first = model.blocks[0]
    assert [b.kernel_size[0] for b in first.branches] == [9, 3, 1]
    assert first.bn.num_features == 32  # 4 branches x 8 filters


def test_wrong_input_and_wrong_builder() -> None:
    model = build_classifier(CONFIG)
    with pytest.raises(InvalidInputError, match=r"expected 3 dims \(B, 2, T\)"):
        model(torch.randn(4, 1, 50))
    with pytest.raises(InvalidInputError, match="use build_classifier"):
        ConvNet(CONFIG)
    with pytest.raises(InvalidInputError, match="1D only"):
        ConvNetConfig(arch="inception", ndim=3)
    assert isinstance(build_classifier(ConvNetConfig(ndim=1)), ConvNet)


def test_learns_short_versus_long_bumps() -> None:
    """Class 0: a narrow spike, class 1: a wide bump, anywhere in the signal; only a multi-scale view
    (or pooling over positions) separates them."""
    torch.manual_seed(0)
    n, length = 128, 64
    t = torch.arange(length).float()
    centres = torch.randint(10, length - 10, (n,)).float()
    labels = torch.arange(n) % 2
    widths = torch.where(labels == 0, 1.0, 6.0)
    x = torch.exp(-(((t[None] - centres[:, None]) / widths[:, None]) ** 2))[:, None] + 0.05 * torch.randn(n, 1, length)
    config = ConvNetConfig(arch="inception", ndim=1, channels=(8, 8, 8), kernels=(15,) * 3, dropout=0.0)
    model = build_classifier(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        optimizer.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(x).argmax(1) == labels).float().mean())
    assert accuracy >= 0.95
