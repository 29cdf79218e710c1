"""Training the Siamese logistic head ``y_hat = sigmoid(sum_k w_k x_k + b)`` on pairs of frozen, cached
dlib encodings (``x_k = |f(x_i)_k - f(x_j)_k|`` or the chi-square feature), with the generic fit loop.

Both images of a pair go through the same encoder (the lecture's Siamese network with shared weights);
here that encoder is dlib's pretrained ResNet and only the head is trained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from convapps.core.siamese import siamese_loss
from convapps.face.chip_cache import ChipCache
from convapps.face.lfw import FacePair, pair_index
from convapps.face.metrics import best_threshold
from convapps.nn.siamese_head import SiameseHead
from convapps.training.config import FitConfig, OptimizerConfig
from convapps.training.loop import FitResult, fit


@dataclass(frozen=True)
class SiameseTrainConfig:
    """Settings of :func:`train_siamese_head`: full-batch-ish Adam on cached pair encodings."""

    kind: Literal["abs", "chi2"] = "abs"
    epochs: int = 60
    batch_size: int = 256
    lr: float = 1e-2
    weight_decay: float = 1e-4
    seed: int = 0
    progress: bool = False


def train_siamese_head(
    first: torch.Tensor,
    second: torch.Tensor,
    same: torch.Tensor,
    cfg: SiameseTrainConfig,
    *,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
) -> tuple[SiameseHead, FitResult]:
    """Fit the logistic head on pairs of encodings ``first``, ``second`` ``(M, D)`` with labels ``same`` ``(M,)``."""
    head = SiameseHead(first.shape[1], kind=cfg.kind)
    config = FitConfig(
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        optimizer=OptimizerConfig(name="adam", lr=cfg.lr, weight_decay=cfg.weight_decay, lr_schedule="cosine"),
        seed=cfg.seed,
        monitor="train_loss",
        patience=None,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        progress=cfg.progress,
    )

    def loss(model: torch.nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return siamese_loss(model(batch[0], batch[1]), batch[2])

    result = fit(head, (first, second, same.float()), loss=loss, config=config)
    return head, result


def train_pairs_siamese(
    cache: ChipCache, pairs: Sequence[FacePair], cfg: SiameseTrainConfig
) -> tuple[SiameseHead, float]:
    """Train the head on ``pairs`` (e.g. LFW ``pairsDevTrain.txt``) from cached dlib encodings; returns the
    head and the best-accuracy threshold on ``-logit`` over the same pairs."""
    index = pair_index(pairs)
    cache.ensure_encodings(index.images, progress=cfg.progress)
    enc = torch.from_numpy(cache.encodings(index.images))
    first, second = enc[torch.from_numpy(index.first)], enc[torch.from_numpy(index.second)]
    head, _ = train_siamese_head(first, second, torch.from_numpy(index.same), cfg)
    with torch.no_grad():
        tau = best_threshold(-head(first, second).double().numpy(), index.same)
    return head, tau
