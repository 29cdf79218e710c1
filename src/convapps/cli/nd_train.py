"""``convapps nd train-ecg``, ``train-volume`` and ``predict``. Heavy imports (torch, wfdb...) happen
inside the commands, never when the CLI starts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from convapps.cli.nd_models import TRAIN_HINT, block_kernels, parse_ints
from convapps.errors import CheckpointError, InvalidInputError

if TYPE_CHECKING:
    from convapps.nn.convnet import Ndim

_PATH = click.Path(path_type=Path)


def _fit_options(epochs: int, batch: int, lr: float, patience: int, monitor: str, threads: int) -> Any:
    def decorate(func: Any) -> Any:
        options = [
            click.option(
                "--out", type=_PATH, required=True, help="Folder for model.pt, report.json, PNGs, checkpoints."
            ),
            click.option("--epochs", type=int, default=epochs, show_default=True, help="Maximum epochs."),
            click.option("--batch-size", type=int, default=batch, show_default=True),
            click.option("--lr", type=float, default=lr, show_default=True, help="Adam learning rate."),
            click.option("--weight-decay", type=float, default=1e-4, show_default=True),
            click.option(
                "--patience",
                type=int,
                default=patience,
                show_default=True,
                help="Early stopping: epochs without a better validation figure.",
            ),
            click.option(
                "--monitor",
                type=click.Choice(["val_loss", "val_accuracy", "val_auc"]),
                default=monitor,
                show_default=True,
                help="Validation figure that picks the best epoch.",
            ),
            click.option("--filters", help="Filters per conv block, e.g. 64,128,128 (default: the model's)."),
            click.option("--kernel", help="Odd kernel size per block, e.g. 7,5,3 (default: the model's)."),
            click.option("--seed", type=int, default=0, show_default=True, help="Seed of weights, shuffling, splits."),
            click.option("--threads", type=int, default=threads, show_default=True, help="torch CPU threads."),
            click.option("--resume", is_flag=True, help="Continue from OUT/checkpoints/last.pt if present."),
            click.option("--quiet", is_flag=True, help="No progress bar."),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _configs(ndim: Ndim, in_channels: int, classes: int, o: dict[str, Any], arch: str = "conv1d") -> tuple[Any, Any]:
    from convapps.nd.architectures import ECG_NETS
    from convapps.nn.conv3d import convnet3d
    from convapps.nn.convnet import ConvNetConfig
    from convapps.training import FitConfig, OptimizerConfig

    base = ECG_NETS[arch] if ndim == 1 else convnet3d().config
    channels = parse_ints(o["filters"], "--filters") or base.channels
    kernels = block_kernels(parse_ints(o["kernel"], "--kernel"), base.kernels, len(channels))
    model = ConvNetConfig(
        arch=base.arch,
        ndim=ndim,
        in_channels=in_channels,
        num_classes=classes,
        channels=channels,
        kernels=kernels,
        pool=base.pool,
        dropout=base.dropout,
    )
    fit = FitConfig(
        epochs=o["epochs"],
        batch_size=o["batch_size"],
        seed=o["seed"],
        patience=o["patience"],
        monitor=o["monitor"],
        mode="min" if o["monitor"] == "val_loss" else "max",
        resume=o["resume"],
        num_threads=o["threads"],
        progress=not o["quiet"],
        optimizer=OptimizerConfig(lr=o["lr"], weight_decay=o["weight_decay"]),
    )
    return model, fit


def _echo_run(summary: Any) -> None:
    from convapps.nd.training.report import summary_line

    outcome = summary.outcome
    click.echo(f"best epoch {outcome.fit.best_epoch} of {len(outcome.fit.history)} ({summary.seconds:.1f} s)")
    click.echo(summary_line("val", outcome.val))
    if outcome.test is not None:
        click.echo(summary_line("test", outcome.test))
    click.echo("wrote " + ", ".join(str(p) for p in summary.files))


def _anchor_run(data: Any, arch: str, o: dict[str, Any], title: str) -> None:
    from convapps.nd.training.anchor_runs import anchor_train_and_report
    from convapps.nd.training.report import summary_line

    if data.x_test is None:
        raise InvalidInputError(f"--arch {arch} is reported on a test split: give --test (or --folds)")
    run = anchor_train_and_report(data, arch, out_dir=o["out"], title=f"{title} ({arch})", seed=o["seed"])
    click.echo(f"{arch} fitted on {len(data.y_train) + len(data.y_val)} signals ({run.seconds:.1f} s)")
    click.echo(summary_line("test", run.test))
    click.echo("wrote " + ", ".join(str(p) for p in run.files) + f" (no model.pt: {arch} is the anchor, not a net)")


def _hybrid_run(data: Any, net: str, o: dict[str, Any], title: str) -> None:
    from convapps.nd.training.hybrid import hybrid_train_and_report
    from convapps.nd.training.report import summary_line

    if data.x_test is None:
        raise InvalidInputError("--arch hybrid is reported on a test split: give --test (or --folds)")
    model, fit = _configs(1, data.x_train.shape[1], len(data.classes), o, net)
    title = f"{title} ({net} + minirocket)"
    result, files = hybrid_train_and_report(
        data, model_config=model, fit_config=fit, out_dir=o["out"], title=title, seed=o["seed"]
    )
    click.echo(f"{net} and minirocket fitted ({result.seconds:.1f} s); their probabilities averaged")
    click.echo(summary_line(f"test, {net} alone", result.net))
    click.echo(summary_line("test, minirocket alone", result.anchor))
    click.echo(summary_line("test, hybrid", result.hybrid))
    click.echo("wrote " + ", ".join(str(p) for p in files) + " (no model.pt: the hybrid is reported, not saved)")


def _write_cv(out: Path, cv: Any) -> None:
    import json

    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "accuracy": cv.accuracy,
        "accuracy_std": cv.accuracy_std,
        "macro_auc": cv.macro_auc,
        "seconds": round(cv.seconds, 1),
        "folds": [r.to_dict() for r in cv.folds],
    }
    (out / "cv.json").write_text(json.dumps(payload, indent=2))
    click.echo(f"wrote {out / 'cv.json'}")


@click.command("train-ecg")
@click.option("--train", "train_path", type=_PATH, help="UCR training file (label first, one series per row).")
@click.option("--test", "test_path", type=_PATH, help="UCR test file, evaluated once after training.")
@click.option("--folds", type=int, help="Cross-validate the --train file with this many folds instead.")
@click.option("--record", type=_PATH, help="Annotated WFDB record (e.g. MIT-BIH 100): train on its N vs A beats.")
@click.option("--val-fraction", type=float, default=0.2, show_default=True, help="Validation share of training data.")
@click.option(
    "--arch",
    type=click.Choice(["minirocket", "conv1d", "fcn", "inception", "hybrid"]),
    default="conv1d",
    show_default=True,
    help="conv1d / fcn / inception: our 1D ConvNets; minirocket: the anchor (MiniRocket + ridge, from aeon), "
    "fitted on train + validation data, reported the same way (no model.pt); hybrid: --hybrid-net and "
    "MiniRocket, probabilities averaged (reported, no model.pt).",
)
@click.option(
    "--hybrid-net",
    type=click.Choice(["conv1d", "fcn", "inception"]),
    default="inception",
    show_default=True,
    help="The net of --arch hybrid.",
)
@_fit_options(epochs=200, batch=16, lr=1e-3, patience=40, monitor="val_loss", threads=1)
def train_ecg(
    train_path: Path | None,
    test_path: Path | None,
    folds: int | None,
    record: Path | None,
    val_fraction: float,
    arch: str,
    hybrid_net: str,
    **o: Any,
) -> None:
    """Train a 1D ConvNet (or the MiniRocket anchor) on ECG beats; write model.pt, report.json and
    confusion PNGs to --out.

    \b
    Examples:
      convapps nd train-ecg --train ECG200_TRAIN.txt --test ECG200_TEST.txt --out out/ecg200
      convapps nd train-ecg --arch minirocket --train ECG200_TRAIN.txt --test ECG200_TEST.txt --out out/mr
      convapps nd train-ecg --arch hybrid --train ECG200_TRAIN.txt --test ECG200_TEST.txt --out out/hy
      convapps nd train-ecg --train ECG5000_TRAIN.txt --folds 5 --out out/ecg5000
      convapps nd train-ecg --record mitdb/100 --out out/mitbih100     # beats N vs A, class-weighted
    """
    from convapps.nd.ecg import ecg_from_record, ecg_from_ucr, ucr_folds
    from convapps.nd.training.runs import cross_validate, train_and_report

    if (train_path is None) == (record is None):
        raise InvalidInputError("give either --train (a UCR file) or --record (an annotated WFDB record)")
    if folds is not None:
        if train_path is None:
            raise InvalidInputError("--folds cross-validates a --train file")
        data_iter = ucr_folds(train_path, folds=folds, seed=o["seed"])
        if arch == "minirocket":
            from convapps.nd.training.anchor_runs import cross_validate_anchor

            cv = cross_validate_anchor(data_iter, arch, seed=o["seed"])
        elif arch == "hybrid":
            from convapps.nd.training.hybrid import cross_validate_hybrid

            first = next(ucr_folds(train_path, folds=folds, seed=o["seed"]))
            model, fit = _configs(1, first.x_train.shape[1], len(first.classes), o, hybrid_net)
            cv = cross_validate_hybrid(data_iter, model_config=model, fit_config=fit, seed=o["seed"])
        else:
            first = next(ucr_folds(train_path, folds=folds, seed=o["seed"]))
            model, fit = _configs(1, first.x_train.shape[1], len(first.classes), o, arch)
            cv = cross_validate(data_iter, model_config=model, fit_config=fit)
        for i, r in enumerate(cv.folds, start=1):
            click.echo(f"fold {i}: accuracy {r.accuracy:.3f}  macro AUC {r.macro_auc:.3f}  (n={r.n})")
        click.echo(
            f"{folds}-fold CV accuracy {cv.accuracy:.3f} ± {cv.accuracy_std:.3f}  macro AUC "
            f"{cv.macro_auc:.3f}  ({cv.seconds:.1f} s)"
        )
        _write_cv(o["out"], cv)
        return
    sample_rate = None
    if record is not None:
        data, sample_rate = ecg_from_record(record, val_fraction=val_fraction, seed=o["seed"])
        title = f"beats of {record.name} ({' vs '.join(data.classes)})"
    else:
        data = ecg_from_ucr(train_path, test_path, val_fraction=val_fraction, seed=o["seed"])  # type: ignore[arg-type]
        title = Path(train_path).stem  # type: ignore[arg-type]
    if arch == "minirocket":
        _anchor_run(data, arch, o, title)
        return
    if arch == "hybrid":
        _hybrid_run(data, hybrid_net, o, title)
        return
    model, fit = _configs(1, data.x_train.shape[1], len(data.classes), o, arch)
    summary = train_and_report(
        data,
        task="ecg",
        model_config=model,
        fit_config=fit,
        out_dir=o["out"],
        title=title,
        normalize="zscore",
        balanced=record is not None,
        sample_rate=sample_rate,
    )
    _echo_run(summary)


@click.command("train-volume")
@click.option(
    "--data",
    "data_path",
    type=_PATH,
    required=True,
    help="MedMNIST 3D .npz (train/val/test images and labels), e.g. adrenalmnist3d.npz.",
)
@click.option("--limit", type=int, help="Use at most this many volumes per split (a quick run).")
@click.option("--flips/--no-flips", default=True, show_default=True, help="Random flips of training volumes.")
@_fit_options(epochs=30, batch=32, lr=1e-3, patience=10, monitor="val_auc", threads=1)
def train_volume(data_path: Path, limit: int | None, flips: bool, **o: Any) -> None:
    """Train the 3D ConvNet on labelled volumes; early stopping on the official validation split.

    \b
    Example:
      convapps nd train-volume --data adrenalmnist3d.npz --out out/adrenal
    """
    from convapps.nd.training.runs import train_and_report
    from convapps.nd.volume import volume_from_npz

    data = volume_from_npz(data_path, limit=limit, seed=o["seed"])
    model, fit = _configs(3, data.x_train.shape[1], len(data.classes), o)
    summary = train_and_report(
        data,
        task="volume",
        model_config=model,
        fit_config=fit,
        out_dir=o["out"],
        title=data_path.stem,
        normalize="unit",
        flips=flips,
    )
    _echo_run(summary)


@click.command("predict")
@click.argument("model_path", metavar="MODEL", type=_PATH)
@click.argument("input_path", metavar="INPUT", type=_PATH)
@click.option("--split", default="test", show_default=True, help="Split of a MedMNIST .npz to classify.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per prediction.")
@click.option(
    "--explain",
    is_flag=True,
    help="Also draw the saliency of the first --explain-items items (ECG: over the trace; volume: three "
    "orthogonal slices) into explain/ next to the model's report.json.",
)
@click.option("--explain-items", type=int, default=8, show_default=True, help="How many items --explain draws.")
def predict(model_path: Path, input_path: Path, split: str, as_json: bool, explain: bool, explain_items: int) -> None:
    """Classify a record or a volume with a model.pt written by train-ecg / train-volume.

    \b
    INPUT for an ECG model: a UCR file (every row), an annotated WFDB record (every N/A beat) or
    any WFDB/DICOM record (consecutive windows of the model's length). For a volume model: a .nii,
    .nii.gz or .npy volume (resized to the model's input) or a MedMNIST .npz (--split).
    \b
    Examples:
      convapps nd predict out/ecg200/model.pt ECG200_TEST.txt
      convapps nd predict out/adrenal/model.pt scan.nii.gz
      convapps nd predict out/ecg200/model.pt ECG200_TEST.txt --explain   # + out/ecg200/explain/*.png
    """
    import json

    from convapps.nd.predict import predict_file

    try:
        result = predict_file(model_path, input_path, split=split)
    except CheckpointError as err:
        if model_path.exists():
            raise
        raise CheckpointError(f"{err}; {TRAIN_HINT}") from None
    for p in result.predictions:
        if as_json:
            click.echo(json.dumps({"item": p.item, "label": p.label, "probabilities": p.probabilities}))
        else:
            truth = "" if p.truth is None else f"  (true {p.truth})"
            click.echo(f"{p.item}\t{p.label}\tp={max(p.probabilities.values()):.3f}{truth}")
    if not as_json:
        click.echo(result.summary())
    if explain:
        from convapps.nd.explain import explain_file

        explained = explain_file(model_path, input_path, split=split, limit=explain_items)
        click.echo(f"saliency of {len(explained)} item(s) in {explained[0].path.parent}", err=as_json)
