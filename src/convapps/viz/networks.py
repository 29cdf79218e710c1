"""The networks we probe, as the registry (:mod:`convapps.models.registry`) describes them, and which of
their layers is the lecture's "layer 1" ... "layer 5" (a spec's ``stages``).

Every ``features`` network of the registry can be probed: ``vgg16-hed`` (default; ``vgg16`` is an alias),
``vgg19`` (the original ImageNet weights: the units the lecture's layer 1-5 pictures show) and
``efficientnet-lite0``. Any other named layer (``conv4_1``, ``pool3``, ``block7``, ``head``) can be
asked for by name.
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
from convapps.models.registry import DEFAULT_FEATURES_NETWORK, get_network, load_network
from convapps.nn.feature_extractor import FeatureExtractor


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
    batch_size: int = 8
    """Images per forward pass by default (the registry's ``probe_batch_size``)."""

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
                    raise InvalidInputError(f"layer numbers must be within 1-{len(self.stages)}, got {part!r}")
                layers.extend(ProbeLayer(self.stages[i - 1], i) for i in range(lo, hi + 1))
            elif part in self.layer_names:
                stage = self.stages.index(part) + 1 if part in self.stages else None
                layers.append(ProbeLayer(part, stage))
            else:
                close = difflib.get_close_matches(part, self.layer_names, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"use 1-5 or one of {', '.join(self.stages)}"
                raise NotFoundError(f"unknown layer {part!r} for {self.name}: {hint}")
        if not layers:
            raise InvalidInputError(f"no layers in {spec!r}: give stage numbers such as 1-5 or layer names")
        return list(dict.fromkeys(layers))


def _vgg_windows(extractor: FeatureExtractor) -> Callable[[str, tuple[int, int]], list[LayerWindow]]:
    def windows(layer: str, input_hw: tuple[int, int]) -> list[LayerWindow]:
        del input_hw  # VGG's padding does not depend on the input size
        return [LayerWindow(g.name, g.window, g.window) for g in extractor.geometry(layer)]

    return windows


def load_probe_network(name: str = DEFAULT_FEATURES_NETWORK) -> ProbeNetwork:
    """A registered ``features`` network (a name or an alias, e.g. ``"vgg16"``), loaded once per process.

    Raises:
        NotFoundError: unknown name (with "did you mean ...?") or a network of another role.
        ModelNotAvailableError: its weights package is not installed.
    """
    spec = get_network(name, role="features")
    module = load_network(spec.name)
    windows = _vgg_windows(module) if isinstance(module, FeatureExtractor) else module.layer_windows
    return ProbeNetwork(
        name=spec.name,
        model_id=module.model_id,
        module=module,
        stages=spec.stages,
        layer_names=module.layer_names,
        windows=windows,
        batch_size=spec.probe_batch_size or 8,
    )
