"""A frozen VGG-style ConvNet with named layers that returns the activations a[l] you ask for.

Layers follow the VGG paper's naming: ``conv{b}_{i}`` (3x3 convolution, stride 1, padding 1),
``relu{b}_{i}`` and ``pool{b}`` (2x2, stride 2, max or average). ``extractor(x, ["relu4_2"])`` returns
``{"relu4_2": a}`` with ``a`` of shape ``(B, n_C, n_H, n_W)`` and runs the network only up to the deepest
requested layer. The network's weights never receive gradients; the INPUT can (style transfer updates
the pixels of G through it).

Pre-processing lives here too, because it is part of what a set of weights expects: see
:class:`Preprocessing` and :meth:`FeatureExtractor.preprocess`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from convapps.core.receptive_field import ReceptiveField, Window1d, receptive_fields
from convapps.errors import InvalidInputError, NotFoundError

Pooling = Literal["max", "avg"]
LayerKind = Literal["conv", "relu", "pool"]


@dataclass(frozen=True)
class Preprocessing:
    """How an RGB image in [0, 1] becomes the network's input.

    ``x = (rgb[order] * scale - mean) / std`` per channel, where ``order`` is RGB or BGR and ``mean``/``std``
    are given in the network's channel order. Caffe-trained VGG16: BGR, scale 255, the Caffe mean, std 1.
    torchvision VGG: RGB, scale 1, ImageNet mean/std.
    """

    channel_order: Literal["rgb", "bgr"]
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class LayerGeometry:
    """A layer's sliding window (identical along height and width); ReLUs are 1x1, stride 1."""

    name: str
    kind: LayerKind
    kernel: int
    stride: int
    padding: int
    channels: int
    """Number of output channels n_C of the layer."""

    @property
    def window(self) -> Window1d:
        """The window as used by :mod:`convapps.core.receptive_field` (one spatial dimension)."""
        return Window1d(kernel=self.kernel, stride=self.stride, padding=self.padding)


def vgg_layers(config: Sequence[int], *, pooling: Pooling = "max") -> list[tuple[str, nn.Module, LayerGeometry]]:
    """Named layers of a VGG feature stack from its config (channel counts, 0 = a pooling layer).

    VGG16 is ``(64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0)``.
    """
    if pooling not in ("max", "avg"):
        raise InvalidInputError(f"pooling must be 'max' or 'avg', got {pooling!r}")
    layers: list[tuple[str, nn.Module, LayerGeometry]] = []
    block, index, channels = 1, 1, 3
    for width in config:
        if width == 0:
            pool: nn.Module = nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2)
            layers.append((f"pool{block}", pool, LayerGeometry(f"pool{block}", "pool", 2, 2, 0, channels)))
            block, index = block + 1, 1
            continue
        conv_name, relu_name = f"conv{block}_{index}", f"relu{block}_{index}"
        layers.append(
            (conv_name, nn.Conv2d(channels, width, 3, padding=1), LayerGeometry(conv_name, "conv", 3, 1, 1, width))
        )
        layers.append((relu_name, nn.ReLU(inplace=False), LayerGeometry(relu_name, "relu", 1, 1, 0, width)))
        channels, index = width, index + 1
    return layers


class FeatureExtractor(nn.Module):
    """Frozen ConvNet with named layers; ``forward(x, layers)`` returns ``{name: a[l]}``.

    Args:
        layers: ``(name, module, geometry)`` triples in forward order (see :func:`vgg_layers`).
        preprocessing: what the weights expect (see :class:`Preprocessing`).
        model_id: a short id of the weights, e.g. ``"vgg16-hed-bsds500"``.
    """

    _order: torch.Tensor
    _mean: torch.Tensor
    _std: torch.Tensor

    def __init__(
        self,
        layers: Sequence[tuple[str, nn.Module, LayerGeometry]],
        *,
        preprocessing: Preprocessing,
        model_id: str,
    ) -> None:
        super().__init__()
        self.model_id = model_id
        self.preprocessing = preprocessing
        self.body = nn.ModuleDict({name: module for name, module, _ in layers})
        self._geometry = tuple(geometry for _, _, geometry in layers)
        order = [2, 1, 0] if preprocessing.channel_order == "bgr" else [0, 1, 2]
        self.register_buffer("_order", torch.tensor(order), persistent=False)
        self.register_buffer("_mean", torch.tensor(preprocessing.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_std", torch.tensor(preprocessing.std).view(1, 3, 1, 1), persistent=False)
        self.freeze()

    def freeze(self) -> FeatureExtractor:
        """Eval mode and ``requires_grad=False`` on every weight (gradients still flow to the input)."""
        self.eval()
        for param in self.parameters():
            param.requires_grad_(False)
        return self

    @property
    def layer_names(self) -> tuple[str, ...]:
        """All layer names in forward order: ``conv1_1, relu1_1, conv1_2, ..., pool5``."""
        return tuple(g.name for g in self._geometry)

    def geometry(self, up_to: str | None = None) -> tuple[LayerGeometry, ...]:
        """(kernel, stride, padding, channels) of each layer, up to and including ``up_to``."""
        if up_to is None:
            return self._geometry
        return self._geometry[: self._index(up_to) + 1]

    def receptive_field(self, layer: str) -> ReceptiveField:
        """Receptive field of ``layer``'s units in input pixels (same along height and width)."""
        return receptive_fields([g.window for g in self.geometry(layer)])[-1]

    def channels(self, layer: str) -> int:
        """Number of channels n_C of ``layer``'s activation."""
        return self._geometry[self._index(layer)].channels

    def _index(self, name: str) -> int:
        names = self.layer_names
        if name in names:
            return names.index(name)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; layers are {names[0]} ... {names[-1]}"
        raise NotFoundError(f"unknown layer {name!r} in {self.model_id}{hint}")

    def check_layers(self, names: Iterable[str]) -> None:
        """Raise :class:`NotFoundError` (with a suggestion) for any unknown layer name."""
        for name in names:
            self._index(name)

    def normalize(self, rgb: torch.Tensor) -> torch.Tensor:
        """Differentiable pre-processing of an RGB batch in [0, 1], ``(B, 3, H, W)`` -> network input."""
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise InvalidInputError(f"expected an RGB batch (B, 3, H, W), got shape {tuple(rgb.shape)}")
        x = rgb.index_select(1, self._order) * self.preprocessing.scale
        return (x - self._mean) / self._std

    def preprocess(self, image: NDArray[np.uint8] | torch.Tensor) -> torch.Tensor:
        """Network input from an RGB uint8 ``(H, W, 3)`` image or a float RGB batch ``(B, 3, H, W)`` in [0, 1].

        Returns a float32 tensor ``(B, 3, H, W)`` on the extractor's device.
        """
        if isinstance(image, np.ndarray):
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise InvalidInputError(f"expected an RGB uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
            batch = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0
        else:
            batch = image.float()
        return self.normalize(batch.to(self._mean.device))

    def forward(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Activations ``{name: (B, n_C, n_H, n_W)}`` of ``layers`` for a PRE-PROCESSED input ``x``.

        Runs only up to the deepest requested layer.
        """
        wanted = set(layers)
        if not wanted:
            return {}
        deepest = max(self._index(name) for name in wanted)
        out: dict[str, torch.Tensor] = {}
        for index, (name, module) in enumerate(self.body.items()):
            x = module(x)
            if name in wanted:
                out[name] = x
            if index == deepest:
                break
        return out
