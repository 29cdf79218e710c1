"""Training a face encoder f(x) with the triplet loss on top of the generic fit loop.

:func:`train_triplet_encoder`: a face encoder (compact CNN on chips, or a projection head on cached
pretrained encodings) trained with the triplet loss and online mining (or the contrastive loss) on
P x K batches; a per-step progress bar shows the loss and the fraction of active triplets.

It calls :func:`convapps.training.fit`: seeds, checkpoints (``last.pt``/``best.pt``), ``resume`` and
early stopping come from there. The mean fraction of active triplets of each epoch is stored in the
epoch's metrics as ``val_train_active`` (and ``val_train_active_all``: the share of *all* valid triplets
of the batch with non-zero loss, the strategy-independent yardstick), so it survives a resume.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from tqdm import tqdm

from convapps.core.triplet import Mining, batch_all_triplet_loss, mined_triplet_loss, pairwise_squared_distances
from convapps.face.metrics import auc, roc_curve
from convapps.face.training.sampler import PKSampler
from convapps.nn.face_encoder import augment_batch
from convapps.training.config import FitConfig, OptimizerConfig
from convapps.training.loop import EpochLog, FitResult, fit


@dataclass(frozen=True)
class TripletTrainConfig:
    """Settings of :func:`train_triplet_encoder` (defaults: semi-hard mining, alpha = 0.2, 16 x 4 batches).

    Batch-hard mining collapsed the from-scratch CNN in the mining study (``benchmarks/RESULTS.md``), hence
    FaceNet's semi-hard negatives by default."""

    loss: Literal["triplet", "contrastive"] = "triplet"
    mining: Mining = "semi-hard"
    margin: float = 0.2
    p: int = 16
    k: int = 4
    epochs: int = 30
    steps_per_epoch: int | None = None
    lr: float = 1e-3
    weight_decay: float = 5e-4
    seed: int = 0
    augment: bool = True
    time_budget_s: float | None = None
    """Stop after the first epoch that ends past this many seconds of training (``None``: no limit)."""
    patience: int | None = None
    num_threads: int | None = None
    progress: bool = True


class _Tracker:
    """Running means of the loss and active fractions of the current epoch (training batches only)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.n, self.loss, self.active, self.active_all = 0, 0.0, 0.0, 0.0

    def update(self, loss: float, active: float, active_all: float) -> None:
        self.n += 1
        self.loss += loss
        self.active += active
        self.active_all += active_all

    def means(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {"loss": self.loss / n, "active": self.active / n, "active_all": self.active_all / n}


class PKBatches:
    """Re-iterable P x K batches ``(x, labels)`` of tensors, with a per-step progress bar."""

    def __init__(self, x: torch.Tensor, labels: torch.Tensor, sampler: PKSampler, tracker: _Tracker, progress: bool):
        self.x, self.labels, self.sampler, self.tracker, self.progress = x, labels, sampler, tracker, progress

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.tracker.reset()
        bar = tqdm(
            total=len(self.sampler),
            desc="batches",
            unit="step",
            file=sys.stderr,
            leave=False,
            disable=not self.progress,
            dynamic_ncols=True,
        )
        for step, idx in enumerate(self.sampler):
            index = torch.from_numpy(idx)
            yield self.x[index], self.labels[index]
            bar.update(1)
            if step % 5 == 0:
                m = self.tracker.means()
                bar.set_postfix(loss=f"{m['loss']:.4f}", active=f"{m['active']:.2f}")
        bar.close()


def _triplet_batch_loss(cfg: TripletTrainConfig, tracker: _Tracker, augment: bool):
    def loss(model: torch.nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x, y = batch[0], batch[1]
        if model.training and augment:
            x = augment_batch(x)
        emb = model(x)
        if cfg.loss == "contrastive":
            d2 = pairwise_squared_distances(emb)
            i, j = torch.triu_indices(len(y), len(y), offset=1)
            same = (y[i] == y[j]).float()
            d = torch.sqrt(d2[i, j] + 1e-12)
            per_pair = same * d2[i, j] + (1 - same) * torch.clamp(cfg.margin - d, min=0).pow(2)
            value, active = per_pair.mean(), float((per_pair > 0).float().mean())
        else:
            mined = mined_triplet_loss(emb, y, mining=cfg.mining, margin=cfg.margin)
            value, active = mined.loss, mined.active_fraction
        if model.training:
            with torch.no_grad():
                active_all = batch_all_triplet_loss(emb.detach(), y, margin=cfg.margin).active_fraction
            tracker.update(float(value.detach()), active, active_all)
        return value

    return loss


def embed(model: torch.nn.Module, x: torch.Tensor, *, batch_size: int = 512) -> torch.Tensor:
    """Encodings of inputs ``x`` in eval mode without gradients, ``(N, D)``."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def identity_auc(emb: torch.Tensor, labels: torch.Tensor) -> float:
    """ROC AUC of all pairs of a labelled set (distance as the score), a threshold-free validation figure."""
    d = pairwise_squared_distances(emb)
    i, j = torch.triu_indices(len(labels), len(labels), offset=1)
    same = (labels[i] == labels[j]).numpy()
    far, tar, _ = roc_curve(d[i, j].numpy(), same)
    return auc(far, tar)


def train_triplet_encoder(
    model: torch.nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor] | None,
    cfg: TripletTrainConfig,
    *,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
) -> FitResult:
    """Train ``model`` on ``train = (x, labels)`` with P x K batches; early stopping / ``best.pt`` watch the
    validation AUC of all pairs of ``val`` (or the training loss without ``val``)."""
    tracker = _Tracker()
    sampler = PKSampler(train[1].numpy(), p=cfg.p, k=cfg.k, steps_per_epoch=cfg.steps_per_epoch)
    batches = PKBatches(train[0], train[1], sampler, tracker, cfg.progress)
    augment = cfg.augment and train[0].ndim == 4

    def val_metrics(model: torch.nn.Module, _batches: object) -> dict[str, float]:
        means = tracker.means()
        figures = {"train_active": means["active"], "train_active_all": means["active_all"]}
        if val is not None:
            figures["auc"] = identity_auc(embed(model, val[0]), val[1])
        return figures

    started = time.perf_counter()

    def budget(log: EpochLog, _model: torch.nn.Module) -> bool:
        return cfg.time_budget_s is not None and time.perf_counter() - started >= cfg.time_budget_s

    config = FitConfig(
        epochs=cfg.epochs,
        batch_size=cfg.p * cfg.k,
        optimizer=OptimizerConfig(name="adamw", lr=cfg.lr, weight_decay=cfg.weight_decay, lr_schedule="cosine"),
        seed=cfg.seed,
        monitor="val_auc" if val is not None else "train_loss",
        mode="max" if val is not None else "min",
        patience=cfg.patience,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        num_threads=cfg.num_threads,
        progress=cfg.progress,
    )
    # the fit loop computes val_loss over ``val``: small P x K-ordered batches of the held-out identities
    val_data = None if val is None else _sorted_batches(val)
    loss = _triplet_batch_loss(cfg, tracker, augment)
    return fit(
        model,
        batches,
        loss=loss,
        config=config,
        val=val_data or [(train[0][:2], train[1][:2])],
        val_metrics=val_metrics,
        callbacks=[budget],
    )


def _sorted_batches(val: tuple[torch.Tensor, torch.Tensor], size: int = 64) -> list[tuple[torch.Tensor, torch.Tensor]]:
    order = torch.argsort(val[1], stable=True)
    x, y = val[0][order], val[1][order]
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(y), size)]


def active_history(result: FitResult) -> np.ndarray:
    """``(epochs, 2)``: mean active fraction of the mined triplets and of all valid triplets per epoch."""
    return np.asarray(
        [
            [h.metrics.get("val_train_active", np.nan), h.metrics.get("val_train_active_all", np.nan)]
            for h in result.history
        ]
    )


__all__ = [
    "PKBatches",
    "TripletTrainConfig",
    "active_history",
    "embed",
    "identity_auc",
    "train_triplet_encoder",
]
