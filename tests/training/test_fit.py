"""The fit loop: learning, early stopping, best-weight restore, checkpoints and resume, callbacks,
generic batches (a triplet-style loss), and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from convapps.errors import CheckpointError, InvalidInputError
from convapps.training import FitConfig, OptimizerConfig, classification_metrics, fit, supervised_loss
from convapps.training.checkpoint import BEST, LAST, load_checkpoint


def _blobs(n: int = 240, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) + 2.0 * y[:, None].float()
    return x, y


def _model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))


CE = supervised_loss(F.cross_entropy)


def test_fit_learns_and_reports_validation_metrics() -> None:
    x, y = _blobs()
    model = _model()
    config = FitConfig(epochs=15, batch_size=32, progress=False, optimizer=OptimizerConfig(lr=0.05))
    result = fit(
        model, (x[:200], y[:200]), val=(x[200:], y[200:]), loss=CE, config=config, val_metrics=classification_metrics
    )
    assert result.history[-1].train_loss < result.history[0].train_loss
    assert set(result.history[0].metrics) == {"val_loss", "val_accuracy", "val_auc"}
    best = result.history[result.best_epoch - 1]
    assert best.metrics["val_loss"] == result.best_score == min(h.metrics["val_loss"] for h in result.history)
    assert best.metrics["val_accuracy"] > 0.85 and best.metrics["val_auc"] > 0.9


def test_early_stopping_and_best_weights_are_restored() -> None:
    x, y = _blobs()
    model = _model()
    seen: list[float] = []

    def record(log, net) -> None:  # type: ignore[no-untyped-def]
        with torch.no_grad():
            seen.append(float(CE(net.eval(), (x[200:], y[200:]))))
        net.train()

    # a huge learning rate makes validation worsen after a few epochs
    config = FitConfig(epochs=60, batch_size=8, patience=3, progress=False, optimizer=OptimizerConfig(lr=2.0))
    result = fit(model, (x[:200], y[:200]), val=(x[200:], y[200:]), loss=CE, config=config, callbacks=[record])
    assert result.stopped_early and len(result.history) == result.best_epoch + 3 < 60
    with torch.no_grad():
        final = float(CE(model.eval(), (x[200:], y[200:])))
    assert final == pytest.approx(seen[result.best_epoch - 1], rel=1e-6)


def test_resume_continues_like_an_uninterrupted_run(tmp_path: Path) -> None:
    x, y = _blobs()
    data, val = (x[:200], y[:200]), (x[200:], y[200:])
    base = FitConfig(epochs=6, batch_size=32, progress=False, patience=None, restore_best=False, seed=3)
    straight = _model()
    fit(straight, data, val=val, loss=CE, config=base)
    first = _model()
    fit(first, data, val=val, loss=CE, config=FitConfig(**{**base.__dict__, "epochs": 3, "checkpoint_dir": tmp_path}))
    assert load_checkpoint(tmp_path / LAST)["epoch"] == 3 and (tmp_path / BEST).is_file()
    resumed = _model(seed=99)  # different init: everything must come from the checkpoint
    result = fit(
        resumed,
        data,
        val=val,
        loss=CE,
        config=FitConfig(**{**base.__dict__, "checkpoint_dir": tmp_path, "resume": True}),
    )
    assert result.resumed_from == 4 and [h.epoch for h in result.history] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_generic_batches_triplet_style_loss() -> None:
    """The loop does not assume (x, y): a margin loss over (anchor, positive, negative) batches."""
    g = torch.Generator().manual_seed(0)
    anchor = torch.randn(64, 4, generator=g)
    positive = anchor + 0.1 * torch.randn(64, 4, generator=g)
    negative = torch.randn(64, 4, generator=g)
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)

    def triplet(model: torch.nn.Module, b: tuple[torch.Tensor, ...]) -> torch.Tensor:
        a, p, n = (model(t) for t in b)
        return F.relu((a - p).pow(2).sum(1) - (a - n).pow(2).sum(1) + 1.0).mean()

    result = fit(
        net,
        (anchor, positive, negative),
        loss=triplet,
        config=FitConfig(epochs=20, batch_size=16, progress=False, optimizer=OptimizerConfig(lr=0.05)),
    )
    assert result.monitor == "train_loss"  # no validation split: falls back to the training loss
    assert result.history[-1].train_loss < 0.5 * result.history[0].train_loss


def test_callback_can_stop_and_errors_are_clear(tmp_path: Path) -> None:
    x, y = _blobs(64)
    result = fit(
        _model(),
        (x, y),
        loss=CE,
        config=FitConfig(epochs=10, progress=False),
        callbacks=[lambda log, net: log.epoch == 2],
    )
    assert len(result.history) == 2 and result.stopped_early
    with pytest.raises(InvalidInputError, match="different lengths"):
        fit(_model(), (x, y[:10]), loss=CE, config=FitConfig(epochs=1, progress=False))
    with pytest.raises(InvalidInputError, match="lower the learning rate"):
        fit(
            _model(),
            (x * 1e30, y),
            loss=CE,
            config=FitConfig(epochs=3, progress=False, optimizer=OptimizerConfig(lr=1e10)),
        )
    with pytest.raises(InvalidInputError, match="monitor 'val_f1'"):
        fit(_model(), (x, y), val=(x, y), loss=CE, config=FitConfig(epochs=1, progress=False, monitor="val_f1"))
    (tmp_path / LAST).write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="truncated or not a torch file"):
        fit(_model(), (x, y), loss=CE, config=FitConfig(epochs=1, progress=False, checkpoint_dir=tmp_path, resume=True))


def test_threads_are_restored() -> None:
    before = torch.get_num_threads()
    x, y = _blobs(32)
    fit(_model(), (x, y), loss=CE, config=FitConfig(epochs=1, progress=False, num_threads=1))
    assert torch.get_num_threads() == before
