"""The named signal classifiers ``nd train-ecg --arch`` offers, ours and the anchor, with their settings."""

from __future__ import annotations

from convapps.nn.convnet import ConvNetConfig

ECG_NETS: dict[str, ConvNetConfig] = {
    "conv1d": ConvNetConfig(ndim=1, channels=(64, 128, 128), kernels=(7, 5, 3)),
    "fcn": ConvNetConfig(ndim=1, channels=(128, 256, 128), kernels=(7, 5, 3), pool=1, dropout=0.0),
    "inception": ConvNetConfig(arch="inception", ndim=1, channels=(16, 16, 16), kernels=(39, 39, 39), dropout=0.0),
}
"""Our 1D ConvNets: ``conv1d`` (conv-BN-ReLU-pool x 3, global average pooling), ``fcn`` (Wang et al. 2017's
fully convolutional net: 128/256/128 filters, no pooling; its kernel 8 made odd, 7) and ``inception``
(InceptionTime, Ismail Fawaz et al. 2020, cut to 3 modules of 16 filters per branch, kernels 39/19/9, for
small training sets on a CPU)."""

ECG_ARCHS: tuple[str, ...] = ("minirocket", "conv1d", "fcn", "inception", "hybrid")
"""Every ``--arch``: MiniRocket + ridge (the anchor, :mod:`convapps.nd.anchors`), our nets, and ``hybrid``:
one of our nets and MiniRocket voting with equal weights (:mod:`convapps.nd.training.hybrid`)."""

HYBRID_NET = "inception"
"""The net of ``--arch hybrid`` unless ``--hybrid-net`` says otherwise."""


def ecg_net(arch: str, *, in_channels: int, num_classes: int) -> ConvNetConfig:
    """The config of net ``arch`` for signals with ``in_channels`` leads and ``num_classes`` classes."""
    base = ECG_NETS[arch]
    return ConvNetConfig(**{**base.__dict__, "in_channels": in_channels, "num_classes": num_classes})
