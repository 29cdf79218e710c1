"""Why did the model say that? Input-gradient saliency (Simonyan et al. 2014, smoothed as in SmoothGrad,
Smilkov et al. 2017) of a trained ``nd`` classifier, drawn where people look at the data.

``saliency(model, x)`` is ``|d logit_c / d x|`` for the predicted class c, averaged over a few copies of x
with small Gaussian noise and summed over input channels, scaled to [0, 1]: the samples (or voxels) whose
change would move the decision most. For a signal it is drawn as a heat band under the ECG trace; for a
volume as three orthogonal slices through the most salient voxel with the saliency over the grey values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from convapps.errors import InvalidInputError
from convapps.nd.bundle import load_bundle
from convapps.nd.predict import ModelInputs, Prediction, classify, model_inputs

NOISE_COPIES = 16
"""Noisy copies averaged per saliency map (SmoothGrad)."""
NOISE_LEVEL = 0.1
"""Standard deviation of the noise, as a fraction of the input's own standard deviation."""


def saliency(model: nn.Module, x: torch.Tensor, target: int | None = None, *, seed: int = 0) -> np.ndarray:
    """Saliency of one sample ``x`` ``(C, *spatial)`` for class ``target`` (default: the predicted one):
    an array of shape ``spatial`` in [0, 1] (all zeros when the gradient vanishes)."""
    if x.ndim < 2:
        raise InvalidInputError(f"a sample must be (channels, *spatial), got shape {tuple(x.shape)}")
    model.eval()
    with torch.no_grad():
        if target is None:
            target = int(model(x[None]).argmax(dim=1))
    generator = torch.Generator().manual_seed(seed)
    sigma = NOISE_LEVEL * float(x.std()) if float(x.std()) > 0 else NOISE_LEVEL
    noise = torch.randn((NOISE_COPIES, *x.shape), generator=generator) * sigma
    noise[0] = 0.0  # the sample itself is one of the copies
    batch = (x[None] + noise).requires_grad_(True)
    model(batch)[:, target].sum().backward()
    assert batch.grad is not None
    grad = batch.grad.abs().mean(dim=0).sum(dim=0).numpy()
    top = float(grad.max())
    return grad / top if top > 0 else grad


def draw_signal(x: np.ndarray, s: np.ndarray, path: Path, *, title: str) -> Path:
    """The signal ``(C, T)`` (each lead a line) over a heat band of its saliency ``(T,)``, as a PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3), dpi=100)
    ax = fig.add_subplot()
    t = np.arange(x.shape[-1])
    low, high = float(x.min()), float(x.max())
    pad = 0.05 * (high - low or 1.0)
    ax.imshow(
        s[None, :],
        aspect="auto",
        cmap="Reds",
        vmin=0,
        vmax=1,
        extent=(-0.5, x.shape[-1] - 0.5, low - pad, high + pad),
        alpha=0.8,
    )
    for lead in x:
        ax.plot(t, lead, color="black", linewidth=1.2)
    ax.set_xlim(-0.5, x.shape[-1] - 0.5)
    ax.set_xlabel("sample")
    ax.set_title(title, fontsize=9)
    fig.colorbar(ax.images[0], ax=ax, label="saliency", fraction=0.04)
    fig.tight_layout()
    fig.savefig(path)
    return path


def draw_volume(v: np.ndarray, s: np.ndarray, path: Path, *, title: str) -> Path:
    """Three orthogonal slices of the volume ``(D, H, W)`` through its most salient voxel, saliency over
    the grey values, as a PNG."""
    from matplotlib.figure import Figure

    d, h, w = (int(i) for i in np.unravel_index(int(np.argmax(s)), s.shape))
    views = (
        (f"axial (depth {d})", v[d], s[d]),
        (f"coronal (row {h})", v[:, h, :], s[:, h, :]),
        (f"sagittal (column {w})", v[:, :, w], s[:, :, w]),
    )
    fig = Figure(figsize=(9, 3.4), dpi=100)
    for i, (name, grey, heat) in enumerate(views, start=1):
        ax = fig.add_subplot(1, 3, i)
        ax.imshow(grey, cmap="gray")
        ax.imshow(heat, cmap="hot", vmin=0, vmax=1, alpha=0.55)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    return path


@dataclass(frozen=True)
class Explanation:
    """One explained item: its prediction and the PNG with its saliency."""

    prediction: Prediction
    path: Path


def explain_file(
    model_path: str | Path, input_path: str | Path, *, split: str = "test", limit: int = 8, out_dir: Path | None = None
) -> list[Explanation]:
    """Saliency PNGs of the first ``limit`` items of ``input_path`` under the model at ``model_path``,
    written to ``out_dir`` (default: ``explain/`` next to the model, i.e. beside its ``report.json``)."""
    if limit < 1:
        raise InvalidInputError(f"limit must be >= 1, got {limit}")
    bundle = load_bundle(model_path)
    inputs = model_inputs(bundle, input_path, split=split)
    inputs = ModelInputs(inputs.x[:limit], inputs.items[:limit], inputs.truth and inputs.truth[:limit], inputs.source)
    model = bundle.build()
    predictions = classify(bundle, inputs, model).predictions
    folder = Path(model_path).parent / "explain" if out_dir is None else out_dir
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(input_path).name.split(".")[0]
    explained = []
    for i, prediction in enumerate(predictions):
        x = torch.from_numpy(np.ascontiguousarray(inputs.x[i], dtype=np.float32))
        s = saliency(model, x, bundle.classes.index(prediction.label))
        truth = "" if prediction.truth is None else f", true {prediction.truth}"
        title = (
            f"{stem} {prediction.item}: {prediction.label} (p={prediction.probabilities[prediction.label]:.2f}{truth})"
        )
        path = folder / f"{stem}_{i + 1:03d}.png"
        if bundle.task == "ecg":
            draw_signal(inputs.x[i], s, path, title=title)
        else:
            draw_volume(inputs.x[i][0], s, path, title=title)
        explained.append(Explanation(prediction, path))
    return explained
