"""Face trainers on small synthetic encodings: the triplet-trained projection head learns, resume
equals an uninterrupted run, and the Siamese head separates same/different pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from convapps.face.metrics import accuracy_at, best_threshold
from convapps.face.training.datasets import sample_pairs
from convapps.face.training.siamese import SiameseTrainConfig, train_siamese_head
from convapps.face.training.triplet import (
    TripletTrainConfig,
    active_history,
    embed,
    identity_auc,
    train_triplet_encoder,
)
from convapps.nn.face_encoder import ProjectionHead
from convapps.nn.siamese_head import SiameseHead


def _clusters(n_ids: int, per_id: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Identity signal in 8 dimensions, a larger nuisance in the other 120 (a projection can remove it)."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(n_ids, 8, generator=g)
    labels = torch.arange(n_ids).repeat_interleave(per_id)
    signal = centers[labels] + 0.3 * torch.randn(len(labels), 8, generator=g)
    nuisance = 0.6 * torch.randn(len(labels), 120, generator=g)
    return torch.cat([signal, nuisance], dim=1), labels


def test_triplet_training_improves_held_out_identities(tmp_path: Path) -> None:
    train, val = _clusters(40, 4, seed=0), _clusters(12, 4, seed=1)
    torch.manual_seed(0)
    head = ProjectionHead()
    before = identity_auc(embed(head, val[0]), val[1])
    cfg = TripletTrainConfig(mining="semi-hard", p=8, k=4, epochs=6, lr=3e-3, augment=False, progress=False)
    result = train_triplet_encoder(head, train, val, cfg, checkpoint_dir=tmp_path / "ckpt")
    after = identity_auc(embed(head, val[0]), val[1])
    assert after > before + 0.02
    active = active_history(result)
    assert active.shape == (6, 2) and ((active >= 0) & (active <= 1)).all()
    assert (tmp_path / "ckpt" / "last.pt").is_file() and (tmp_path / "ckpt" / "best.pt").is_file()


def test_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    train = _clusters(16, 3, seed=2)
    cfg = TripletTrainConfig(mining="hard", p=4, k=3, epochs=3, lr=1e-3, augment=False, progress=False)
    torch.manual_seed(0)
    straight = ProjectionHead()
    train_triplet_encoder(straight, train, None, cfg, checkpoint_dir=tmp_path / "a")
    torch.manual_seed(0)
    first = ProjectionHead()
    interrupted = TripletTrainConfig(**{**cfg.__dict__, "time_budget_s": 0.0})  # stops after epoch 1
    assert len(train_triplet_encoder(first, train, None, interrupted, checkpoint_dir=tmp_path / "b").history) == 1
    torch.manual_seed(0)
    resumed = ProjectionHead()
    result = train_triplet_encoder(resumed, train, None, cfg, checkpoint_dir=tmp_path / "b", resume=True)
    assert result.resumed_from == 2 and len(result.history) == 3
    last_a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["model"]
    last_b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model"]
    assert all(torch.allclose(last_a[k], last_b[k], atol=1e-6) for k in last_a)


def test_siamese_head_learns_pairs() -> None:
    x, labels = _clusters(30, 4, seed=3)
    first, second, same = sample_pairs(labels.numpy(), n_pairs=600, seed=0)
    for kind in ("abs", "chi2"):
        with torch.no_grad():  # untrained: w = -1, b = 1, i.e. the plain summed feature (~73% here)
            plain = -SiameseHead(128, kind=kind)(x[first], x[second]).numpy()
        cfg = SiameseTrainConfig(kind=kind, epochs=100, lr=3e-2)  # type: ignore[arg-type]
        head, _ = train_siamese_head(x[first], x[second], torch.from_numpy(same), cfg)
        with torch.no_grad():
            score = -head(x[first], x[second]).numpy()
        # the head learns to weight the 8 identity dimensions over the 120 nuisance ones
        assert accuracy_at(plain, same, best_threshold(plain, same)) < 0.8
        assert accuracy_at(score, same, best_threshold(score, same)) > 0.95
        assert np.isfinite(score).all()
