"""A trained ``nd`` model on disk: weights plus everything ``predict`` needs (architecture, class names,
input shape, normalisation). One format-tagged ``torch.save`` dictionary of tensors, numbers and
strings (:mod:`convapps.io.tagged_files`), read back with ``weights_only=True``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from convapps.errors import CheckpointError, InvalidInputError
from convapps.io.tagged_files import load_tagged, save_tagged
from convapps.nd.datasets import Normalize
from convapps.nn.build import build_classifier
from convapps.nn.convnet import ConvNetConfig

FORMAT = "convapps-nd-model-v1"
Task = Literal["ecg", "volume"]


@dataclass(frozen=True)
class ModelBundle:
    """A trained classifier and how to feed it."""

    task: Task
    config: ConvNetConfig
    classes: tuple[str, ...]
    input_shape: tuple[int, ...]
    """Channels-first input of one sample, ``(C, T)`` or ``(C, D, H, W)``."""
    normalize: Normalize
    state_dict: dict[str, torch.Tensor]
    metrics: dict[str, float] = field(default_factory=dict)
    sample_rate: float | None = None
    """Sampling rate (Hz) of the training signals when known (beats cut from a WFDB record)."""

    def build(self) -> nn.Module:
        """The model with its weights loaded, in eval mode."""
        model = build_classifier(self.config)
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else "mismatch"
            raise CheckpointError(f"the saved weights do not fit the saved architecture: {first}") from None
        return model.eval()


def save_bundle(path: str | Path, bundle: ModelBundle) -> None:
    """Write ``bundle`` to ``path`` (parents created, written atomically)."""
    payload = {
        "task": bundle.task,
        "config": bundle.config.to_dict(),
        "classes": list(bundle.classes),
        "input_shape": list(bundle.input_shape),
        "normalize": bundle.normalize,
        "state_dict": bundle.state_dict,
        "metrics": dict(bundle.metrics),
        "sample_rate": bundle.sample_rate,
    }
    save_tagged(path, FORMAT, payload)


def load_bundle(path: str | Path) -> ModelBundle:
    """Read a bundle written by :func:`save_bundle`; a missing, truncated or foreign file is a
    :class:`CheckpointError`."""
    file = Path(path)
    data = load_tagged(file, FORMAT, what="a convapps nd model")
    try:
        return ModelBundle(
            task=data["task"],
            config=ConvNetConfig.from_dict(data["config"]),
            classes=tuple(data["classes"]),
            input_shape=tuple(int(v) for v in data["input_shape"]),
            normalize=data["normalize"],
            state_dict=data["state_dict"],
            metrics=dict(data.get("metrics", {})),
            sample_rate=data.get("sample_rate"),
        )
    except (KeyError, TypeError, InvalidInputError) as err:
        raise CheckpointError(f"model file {file} is incomplete: {err}") from None
