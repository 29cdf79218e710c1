"""Predictions of a saved ``nd`` model on a file: UCR rows, annotated beats or windows of a record,
one volume, or a split of a MedMNIST archive."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from convapps.errors import InvalidInputError
from convapps.io.signals import SignalRecord, UCRDataset, read_signal
from convapps.io.volumes import read_medmnist_npz, read_volume
from convapps.nd.beats import segment_beats
from convapps.nd.bundle import ModelBundle, load_bundle
from convapps.nd.datasets import normalize
from convapps.nd.ecg import windows
from convapps.nd.volume import prepare_volume


@dataclass(frozen=True)
class Prediction:
    """One classified item (``row 3``, ``beat at 1.234 s``, ``volume 17``...)."""

    item: str
    label: str
    probabilities: dict[str, float]
    truth: str | None = None


@dataclass(frozen=True)
class PredictionSet:
    """All predictions on one input file."""

    source: str
    predictions: list[Prediction]

    def summary(self) -> str:
        """Counts per predicted label, and the accuracy when true labels are known."""
        counts = Counter(p.label for p in self.predictions)
        text = f"{len(self.predictions)} item(s) from {self.source}: " + ", ".join(
            f"{label} {n}" for label, n in sorted(counts.items())
        )
        known = [p for p in self.predictions if p.truth is not None]
        if known:
            acc = sum(p.truth == p.label for p in known) / len(known)
            text += f"; accuracy against the file's labels {acc:.3f}"
        return text


@dataclass(frozen=True)
class ModelInputs:
    """What a model reads from one input file: samples ``(N, *input_shape)``, their names and, when the
    file carries labels the model knows, their true classes."""

    x: np.ndarray
    items: list[str]
    truth: list[str] | None
    source: str


def classify(bundle: ModelBundle, inputs: ModelInputs, model: torch.nn.Module | None = None) -> PredictionSet:
    """Class probabilities of every sample of ``inputs`` under ``bundle``'s model (``model``: that model
    already built by ``bundle.build()``, when the caller needs it too)."""
    x, source = inputs.x, inputs.source
    if tuple(x.shape[1:]) != bundle.input_shape:
        raise InvalidInputError(f"{source} gives inputs of shape {x.shape[1:]}, the model reads {bundle.input_shape}")
    model = bundle.build() if model is None else model
    with torch.no_grad():
        batches = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).split(256)
        proba = torch.cat([torch.softmax(model(b), dim=1) for b in batches]).numpy()
    predictions = [
        Prediction(
            item=item,
            label=bundle.classes[int(row.argmax())],
            probabilities={c: round(float(p), 4) for c, p in zip(bundle.classes, row, strict=True)},
            truth=None if inputs.truth is None else inputs.truth[i],
        )
        for i, (item, row) in enumerate(zip(inputs.items, proba, strict=True))
    ]
    return PredictionSet(source=source, predictions=predictions)


def _signal_inputs(bundle: ModelBundle, data: SignalRecord | UCRDataset, source: str) -> ModelInputs:
    channels, length = bundle.input_shape
    if isinstance(data, UCRDataset):
        x = normalize(data.x[:, None, :], "zscore")
        truth = [data.classes[int(v)] for v in data.y] if set(data.classes) <= set(bundle.classes) else None
        return ModelInputs(x, [f"row {i + 1}" for i in range(len(x))], truth, source)
    if data.signal.shape[1] < channels:
        raise InvalidInputError(f"{source} has {data.signal.shape[1]} leads, the model reads {channels}")
    leads = tuple(range(channels))
    if data.annotations is not None and bundle.sample_rate == data.fs:
        mapping = {c: i for i, c in enumerate(bundle.classes)}
        beats = segment_beats(data, labels=mapping, half_width_s=length / 2 / data.fs, leads=leads)
        items = [f"beat at {s / data.fs:.3f} s" for s in beats.sample]
        truth = [beats.classes[int(v)] for v in beats.y]
        return ModelInputs(normalize(beats.x, "zscore"), items, truth, source)
    x = normalize(windows(data.as_tensor()[list(leads)], length), "zscore")
    if len(x) == 0:
        raise InvalidInputError(f"{source} is shorter than one window of {length} samples")
    items = [f"window {i * length / data.fs:.3f}-{(i + 1) * length / data.fs:.3f} s" for i in range(len(x))]
    return ModelInputs(x, items, None, source)


def model_inputs(bundle: ModelBundle, input_path: str | Path, *, split: str = "test") -> ModelInputs:
    """Read ``input_path`` the way ``bundle``'s model expects it (see :func:`predict_file`)."""
    source = str(input_path)
    if bundle.task == "ecg":
        return _signal_inputs(bundle, read_signal(input_path), source)
    if str(input_path).lower().endswith(".npz"):
        splits = read_medmnist_npz(input_path, splits=(split,))
        images = splits[split]
        x = np.concatenate([prepare_volume_array(v, bundle.input_shape) for v in images.images])
        truth = [bundle.classes[int(v)] for v in images.labels]
        return ModelInputs(x, [f"{split} volume {i}" for i in range(len(x))], truth, source)
    return ModelInputs(prepare_volume(read_volume(input_path), bundle.input_shape), ["volume"], None, source)


def predict_file(model_path: str | Path, input_path: str | Path, *, split: str = "test") -> PredictionSet:
    """Classify every item of ``input_path`` with the model bundle at ``model_path``."""
    bundle = load_bundle(model_path)
    return classify(bundle, model_inputs(bundle, input_path, split=split))


def prepare_volume_array(volume: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """A uint8 archive volume ``(D, H, W)`` as ``(1, 1, D, H, W)`` in [0, 1] (resized if needed)."""
    if tuple(volume.shape) == tuple(input_shape[1:]):
        return normalize(volume[None, None], "unit")
    from convapps.io.volumes import Volume

    return prepare_volume(Volume(volume.astype(np.float32), (1.0, 1.0, 1.0), None, "archive"), input_shape)
