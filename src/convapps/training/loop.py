"""The one fit loop of the project: epochs of mini-batch gradient descent with validation, early
stopping, checkpoints + resume, seeds and a progress bar. Task-agnostic: the caller says how a batch
turns into a loss (``loss(model, batch) -> scalar``), so classification and triplet training share it.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from tqdm import tqdm

from convapps.errors import CheckpointError, InvalidInputError
from convapps.training.checkpoint import BEST, LAST, load_checkpoint, load_weights, save_checkpoint
from convapps.training.config import FitConfig, make_optimizer, make_scheduler
from convapps.training.data import Batch, Batches, as_batches, move_batch, seed_everything

BatchLoss = Callable[[torch.nn.Module, tuple[torch.Tensor, ...]], torch.Tensor]
"""``loss(model, batch)``: the scalar loss of one batch (the model is in train or eval mode already)."""
ValMetrics = Callable[[torch.nn.Module, Iterable[Batch]], dict[str, float]]
"""``metrics(model, val_batches)``: extra validation figures, keys prefixed ``val_`` when not already."""
Callback = Callable[["EpochLog", torch.nn.Module], bool | None]
"""Called after every epoch; return ``True`` to stop training."""


@dataclass(frozen=True)
class EpochLog:
    """What happened in one epoch."""

    epoch: int
    train_loss: float
    metrics: dict[str, float] = field(default_factory=dict)
    """Validation figures: ``val_loss`` and whatever ``val_metrics`` returned."""
    lr: float = 0.0
    seconds: float = 0.0

    def value(self, key: str) -> float:
        """``train_loss`` or a validation figure by name."""
        if key == "train_loss":
            return self.train_loss
        if key not in self.metrics:
            raise InvalidInputError(f"monitor {key!r} is not among {['train_loss', *self.metrics]}")
        return self.metrics[key]


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit`; the model passed in holds the best (or last) weights."""

    history: list[EpochLog]
    best_epoch: int
    best_score: float
    monitor: str
    stopped_early: bool
    seconds: float
    resumed_from: int | None = None


def supervised_loss(criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> BatchLoss:
    """The usual ``criterion(model(x), y)`` for batches ``(x, y)``."""

    def loss(model: torch.nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return criterion(model(batch[0]), batch[1])

    return loss


def _evaluate(model: torch.nn.Module, loss: BatchLoss, batches: Iterable[Batch], device: torch.device) -> float:
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in batches:
            moved = move_batch(batch, device)
            total += float(loss(model, moved)) * len(moved[0])
            count += len(moved[0])
    return total / max(count, 1)


def _train_epoch(
    model: torch.nn.Module,
    loss: BatchLoss,
    batches: Iterable[Batch],
    optimizer: torch.optim.Optimizer,
    config: FitConfig,
    device: torch.device,
) -> float:
    model.train()
    total, count = 0.0, 0
    for batch in batches:
        moved = move_batch(batch, device)
        optimizer.zero_grad(set_to_none=True)
        value = loss(model, moved)
        if not torch.isfinite(value):
            raise InvalidInputError(f"the loss became {float(value.detach())}; lower the learning rate")
        value.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        total += float(value.detach()) * len(moved[0])
        count += len(moved[0])
    return total / max(count, 1)


def _improved(score: float, best: float, config: FitConfig) -> bool:
    if math.isnan(best):
        return True
    return score < best - config.min_delta if config.mode == "min" else score > best + config.min_delta


def fit(
    model: torch.nn.Module,
    train: Batches,
    *,
    loss: BatchLoss,
    config: FitConfig,
    val: Batches | None = None,
    val_metrics: ValMetrics | None = None,
    callbacks: Sequence[Callback] = (),
) -> FitResult:
    """Train ``model`` on ``train`` and return the history; see ``docs/dev/training-api.md``.

    Each epoch: one pass of mini-batch updates over ``train`` (shuffled with a generator seeded by
    ``config.seed``), then, when ``val`` is given, ``val_loss`` (mean of ``loss`` over ``val``, eval mode,
    no gradients) and ``val_metrics``. The monitored value drives early stopping, ``best.pt`` and
    ``restore_best``. Raises :class:`InvalidInputError` for bad settings or a diverging loss and
    :class:`CheckpointError` when ``resume`` meets an unusable checkpoint.
    """
    previous_threads = torch.get_num_threads()
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    try:
        return _fit(model, train, loss=loss, config=config, val=val, val_metrics=val_metrics, callbacks=callbacks)
    finally:
        torch.set_num_threads(previous_threads)


@dataclass
class _State:
    """Mutable bookkeeping of a run (what ``last.pt`` stores besides the weights)."""

    history: list[EpochLog] = field(default_factory=list)
    best_score: float = math.nan
    best_epoch: int = 0
    bad_epochs: int = 0
    start: int = 1
    resumed_from: int | None = None


def _resume(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: object,
    generator: torch.Generator,
    ckpt_dir: Path,
) -> tuple[_State, dict[str, torch.Tensor]]:
    state = load_checkpoint(ckpt_dir / LAST)
    load_weights(model, state["model"], ckpt_dir / LAST)
    try:
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])  # type: ignore[attr-defined]
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        run = _State(
            history=[EpochLog(**h) for h in state["history"]],
            best_score=state["best_score"],
            best_epoch=state["best_epoch"],
            bad_epochs=state["bad_epochs"],
            start=state["epoch"] + 1,
            resumed_from=state["epoch"] + 1,
        )
    except (ValueError, KeyError, TypeError, RuntimeError) as err:
        raise CheckpointError(f"{ckpt_dir / LAST} cannot resume this run: {err}") from None
    best = (
        load_checkpoint(ckpt_dir / BEST)["model"] if (ckpt_dir / BEST).is_file() else copy.deepcopy(model.state_dict())
    )
    return run, best


def _fit(
    model: torch.nn.Module,
    train: Batches,
    *,
    loss: BatchLoss,
    config: FitConfig,
    val: Batches | None,
    val_metrics: ValMetrics | None,
    callbacks: Sequence[Callback],
) -> FitResult:
    generator = seed_everything(config.seed)
    device = torch.device(config.device)
    model.to(device)
    train_batches = as_batches(
        train, batch_size=config.batch_size, shuffle=config.shuffle, generator=generator, drop_last=config.drop_last
    )
    val_batches = None if val is None else as_batches(val, batch_size=config.batch_size, shuffle=False, generator=None)
    if val_batches is None and config.monitor != "train_loss":
        config = replace(config, monitor="train_loss", mode="min")
    monitor = config.monitor
    optimizer = make_optimizer(model.parameters(), config.optimizer)
    scheduler = make_scheduler(optimizer, config)
    run, best_state = _State(), copy.deepcopy(model.state_dict())
    ckpt_dir = config.checkpoint_dir
    if config.resume and ckpt_dir is not None and (ckpt_dir / LAST).is_file():
        run, best_state = _resume(model, optimizer, scheduler, generator, ckpt_dir)
    started = time.perf_counter()
    stopped_early = config.patience is not None and run.bad_epochs >= config.patience
    bar = tqdm(
        range(run.start, config.epochs + 1),
        initial=run.start - 1,
        total=config.epochs,
        desc="fit",
        unit="epoch",
        file=sys.stderr,
        disable=not config.progress or stopped_early,
        dynamic_ncols=True,
    )
    for epoch in bar if not stopped_early else ():
        tick = time.perf_counter()
        train_loss = _train_epoch(model, loss, train_batches, optimizer, config, device)
        metrics: dict[str, float] = {}
        if val_batches is not None:
            model.eval()
            metrics["val_loss"] = _evaluate(model, loss, val_batches, device)
            if val_metrics is not None:
                extra = val_metrics(model, val_batches)
                metrics.update({k if k.startswith("val_") else f"val_{k}": float(v) for k, v in extra.items()})
        log = EpochLog(epoch, train_loss, metrics, optimizer.param_groups[0]["lr"], time.perf_counter() - tick)
        run.history.append(log)
        score = log.value(monitor)
        if _improved(score, run.best_score, config):
            run.best_score, run.best_epoch, run.bad_epochs = score, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
            if ckpt_dir is not None:
                save_checkpoint(
                    ckpt_dir / BEST, {"epoch": epoch, "score": score, "monitor": monitor, "model": best_state}
                )
        else:
            run.bad_epochs += 1
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(score)
        elif scheduler is not None:
            scheduler.step()
        if ckpt_dir is not None:
            _save_last(ckpt_dir, epoch, model, optimizer, scheduler, generator, run)
        bar.set_postfix({"loss": f"{train_loss:.4f}", monitor: f"{score:.4f}", "best": run.best_epoch})
        stop_requested = any([bool(cb(log, model)) for cb in callbacks])
        if stop_requested or (config.patience is not None and run.bad_epochs >= config.patience):
            stopped_early = epoch < config.epochs
            break
    bar.close()
    if config.restore_best and run.best_epoch > 0:
        model.load_state_dict(best_state)
    model.eval()
    return FitResult(
        run.history,
        run.best_epoch,
        run.best_score,
        monitor,
        stopped_early,
        time.perf_counter() - started,
        run.resumed_from,
    )


def _save_last(
    ckpt_dir: Path,
    epoch: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: object,
    generator: torch.Generator,
    run: _State,
) -> None:
    save_checkpoint(
        ckpt_dir / LAST,
        {
            "epoch": epoch,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),  # type: ignore[attr-defined]
            "history": [asdict(h) for h in run.history],
            "best_score": run.best_score,
            "best_epoch": run.best_epoch,
            "bad_epochs": run.bad_epochs,
            "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
        },
    )
