"""One door from an architecture config to a model: :func:`build_classifier`."""

from __future__ import annotations

from torch import nn

from convapps.nn.convnet import ConvNet, ConvNetConfig
from convapps.nn.inception1d import InceptionTime


def build_classifier(config: ConvNetConfig) -> nn.Module:
    """:class:`~convapps.nn.convnet.ConvNet` or :class:`~convapps.nn.inception1d.InceptionTime`, by ``config.arch``."""
    if config.arch == "inception":
        return InceptionTime(config)
    return ConvNet(config)
