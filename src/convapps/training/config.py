"""Configuration of the fit loop: optimiser and run settings as frozen dataclasses with documented defaults."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from convapps.errors import InvalidInputError

OptimizerName = Literal["adam", "adamw", "sgd"]
MonitorMode = Literal["min", "max"]


@dataclass(frozen=True)
class OptimizerConfig:
    """Which optimiser and its hyper-parameters.

    ``lr`` 1e-3 and Adam suit the small nets of this project; ``momentum`` is used by SGD only.
    ``lr_schedule="plateau"`` halves the learning rate when the monitored value stalls for
    ``patience // 2`` epochs (needs a validation split); ``"cosine"`` anneals it to 0 over ``epochs``.
    """

    name: OptimizerName = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    lr_schedule: Literal["none", "plateau", "cosine"] = "none"

    def __post_init__(self) -> None:
        if self.lr <= 0 or self.weight_decay < 0:
            raise InvalidInputError(f"lr must be > 0 and weight_decay >= 0, got {self.lr} and {self.weight_decay}")


@dataclass(frozen=True)
class FitConfig:
    """Settings of one :func:`convapps.training.fit` run.

    Early stopping watches ``monitor`` (``"val_loss"`` or any key returned by the validation metrics,
    e.g. ``"val_accuracy"``) in direction ``mode``; it stops after ``patience`` epochs without an
    improvement larger than ``min_delta`` (``patience=None``: never stop early). Without a validation
    split the monitor falls back to ``train_loss``. With ``checkpoint_dir`` the loop writes ``last.pt``
    after every epoch (everything needed to resume) and ``best.pt`` when the monitor improves;
    ``resume=True`` continues from ``last.pt`` when it exists.
    """

    epochs: int = 50
    batch_size: int = 32
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    seed: int = 0
    monitor: str = "val_loss"
    mode: MonitorMode = "min"
    patience: int | None = 10
    min_delta: float = 0.0
    restore_best: bool = True
    """At the end, load the weights of the best epoch back into the model."""
    checkpoint_dir: Path | None = None
    resume: bool = False
    grad_clip: float | None = None
    """Clip the global gradient norm to this value (``None``: no clipping)."""
    num_threads: int | None = None
    """``torch.set_num_threads`` for the run (``None``: leave torch's setting)."""
    device: str = "cpu"
    progress: bool = True
    """Show a tqdm bar on stderr (one step per epoch, loss and monitor in the postfix)."""
    shuffle: bool = True
    drop_last: bool = False

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise InvalidInputError(f"epochs and batch_size must be >= 1, got {self.epochs} and {self.batch_size}")
        if self.patience is not None and self.patience < 1:
            raise InvalidInputError(f"patience must be >= 1 or None, got {self.patience}")
        if self.mode not in ("min", "max"):
            raise InvalidInputError(f"mode must be 'min' or 'max', got {self.mode!r}")


def make_optimizer(params: Iterable[torch.nn.Parameter], config: OptimizerConfig) -> torch.optim.Optimizer:
    """The optimiser named by ``config`` over ``params``."""
    if config.name == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.name == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.name == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    raise InvalidInputError(f"unknown optimizer {config.name!r}: use 'adam', 'adamw' or 'sgd'")


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: FitConfig
) -> torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau | None:
    """The learning-rate schedule of ``config.optimizer.lr_schedule`` (``None`` for ``"none"``)."""
    schedule = config.optimizer.lr_schedule
    if schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=config.mode, factor=0.5, patience=max((config.patience or 10) // 2, 1)
        )
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if schedule == "none":
        return None
    raise InvalidInputError(f"unknown lr_schedule {schedule!r}: use 'none', 'plateau' or 'cosine'")
