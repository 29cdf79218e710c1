"""Saliency: a model that only reads part of its input gets saliency only there; PNGs are written next
to the model for a signal model and for a volume model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from convapps.nd.bundle import ModelBundle, save_bundle
from convapps.nd.explain import draw_volume, explain_file, saliency
from convapps.nn.convnet import ConvNet, ConvNetConfig


class WindowReader(nn.Module):
    """Logit 1 = sum of x[..., 10:20]; logit 0 = 0: only samples 10..19 matter."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = x[..., 10:20].sum(dim=(1, 2))
        return torch.stack([torch.zeros_like(score), score], dim=1)


def test_saliency_is_where_the_model_looks() -> None:
    x = torch.randn(2, 40)
    s = saliency(WindowReader(), x, target=1)
    assert s.shape == (40,) and s.max() == 1.0
    assert np.all(s[10:20] == 1.0) and np.all(s[:10] == 0.0) and np.all(s[20:] == 0.0)
    assert np.all(saliency(WindowReader(), x, target=0) == 0.0)  # a constant logit: no saliency at all


def test_volume_saliency_drawing(tmp_path: Path) -> None:
    v = np.zeros((8, 9, 10), dtype=np.float32)
    s = np.zeros_like(v)
    s[2, 3, 4] = 1.0
    path = draw_volume(v, s, tmp_path / "v.png", title="test")
    assert Image.open(path).size == (900, 340)


def _bundle(tmp_path: Path, task: str, config: ConvNetConfig, shape: tuple[int, ...]) -> Path:
    torch.manual_seed(0)
    model = ConvNet(config)
    bundle = ModelBundle(
        task=task,  # type: ignore[arg-type]
        config=config,
        classes=("a", "b"),
        input_shape=shape,
        normalize="zscore" if task == "ecg" else "unit",
        state_dict=model.state_dict(),
    )
    path = tmp_path / task / "model.pt"
    save_bundle(path, bundle)
    return path


def test_explain_file_writes_next_to_the_model(tmp_path: Path) -> None:
    ecg = _bundle(tmp_path, "ecg", ConvNetConfig(ndim=1, channels=(4,), kernels=(3,)), (1, 30))
    rows = tmp_path / "rows.txt"
    rng = np.random.default_rng(0)
    rows.write_text("\n".join(f"{k % 2} " + " ".join(f"{v:.3f}" for v in rng.normal(size=30)) for k in range(5)))
    explained = explain_file(ecg, rows, limit=3)
    assert [e.path.name for e in explained] == ["rows_001.png", "rows_002.png", "rows_003.png"]
    assert all(e.path.parent == ecg.parent / "explain" and e.path.stat().st_size > 5000 for e in explained)
    volume = _bundle(tmp_path, "volume", ConvNetConfig(ndim=3, channels=(2,), kernels=(3,)), (1, 6, 6, 6))
    npy = tmp_path / "scan.npy"
    np.save(npy, rng.random((6, 6, 6)).astype(np.float32))
    (shown,) = explain_file(volume, npy, limit=5)
    assert shown.path == volume.parent / "explain" / "scan_001.png" and shown.prediction.label in ("a", "b")
