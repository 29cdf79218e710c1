"""``convapps face evaluate`` (and its hidden alias ``evaluate-lfw``): face verification figures on LFW pairs
for dlib's pretrained pipeline, a trained model or a Siamese head, all through the same evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from convapps.cli.face_options import build_config, pipeline_options

if TYPE_CHECKING:
    from convapps.face.evaluation import LfwReport

LFW_HELP = "LFW folder holding lfw-deepfunneled/ and the pairs*.txt protocol files."


def _echo_summary(report: LfwReport) -> None:
    f = report.figures
    folds = 1 if report.cv is None else len(report.cv.fold_accuracies)
    click.echo(f"scorer: {report.scorer}   protocol: {report.protocol}")
    click.echo(f"pairs: {report.n_pairs}   folds: {folds}   (same {f.n_same} / different {f.n_different})")
    if report.cv is not None:
        click.echo(f"{folds}-fold accuracy: {100 * report.cv.mean:.2f}% +/- {100 * report.cv.std:.2f}%")
    click.echo(f"accuracy at tau = {f.tau:.4f} ({report.tau_source}): {100 * f.accuracy:.2f}%")
    click.echo(f"ROC AUC: {f.auc:.4f}   EER: {f.eer:.4f}   TAR at FAR = {f.far_target:g}: {f.tar_at_far:.4f}")
    click.echo(f"images without a detected face (whole image used): {len(report.no_face)}")
    for name in report.no_face:
        click.echo(f"  {name}")


@click.command("evaluate")
@click.option("--lfw", "lfw", type=click.Path(file_okay=False, path_type=Path), default=None, help=LFW_HELP)
@click.option(
    "--protocol",
    type=click.Choice(["view1", "view2"]),
    default="view1",
    show_default=True,
    help="view1: tau chosen on pairsDevTrain, figures on pairsDevTest. view2: 10-fold cross-validation on "
    "pairs.txt, figures at the model's own tau.",
)
@click.option(
    "--pairs",
    "pairs_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Any LFW pairs file instead of --protocol: k-fold over its folds, figures at the model's own tau.",
)
@click.option(
    "--images",
    "--root",
    "images",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the images NAME/NAME_0001.jpg (default: LFW/lfw-deepfunneled).",
)
@click.option(
    "--siamese",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Score pairs with a Siamese head file (convapps face train-siamese) on dlib encodings.",
)
@click.option("--tau", type=float, default=None, help="Threshold to report (default: see --protocol).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write a report folder: report.md, metrics.json, roc.png, distances.png.",
)
@click.option("--roc", type=click.Path(dir_okay=False, path_type=Path), help="Save the ROC curve as a PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--limit", type=click.IntRange(min=1), help="Use only the first N same + N different pairs of each fold.")
@click.option(
    "--cache",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep aligned chips (and dlib encodings) in this folder, e.g. the one of 'face train' (default: none).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@pipeline_options
def evaluate(
    lfw: Path | None, protocol: str, pairs_file: Path | None, images: Path | None, siamese: Path | None,
    tau: float | None, out: Path | None, roc: Path | None, as_json: bool, limit: int | None, cache: Path | None,
    workers: int | None, quiet: bool, detector: str, upsample: str, jitters: int, flip: bool, model: str | None,
) -> None:  # fmt: skip
    """Face verification figures on LFW pairs: accuracy, ROC curve and AUC, EER, TAR at FAR = 1e-3.

    The same evaluation for dlib's pretrained pipeline (default), a model trained with 'convapps face
    train' (--model) and a Siamese head (--siamese). Every image is detected, aligned and encoded with
    the pipeline options (mirror averaging by default); images where no face is found still count (the
    whole image is used) and are listed. Choose thresholds on View 1; report on View 2 (pairs.txt).
    With --no-flip a trained model gets the figures 'face train' reports; --cache with the cache folder
    of 'face train' reuses its aligned chips.

    \b
    Examples:
      convapps face evaluate --lfw data/lfw --model runs/cnn/model.pt --out report/
      convapps face evaluate --lfw data/lfw --protocol view2 --roc roc.png
      convapps face evaluate --pairs lfw/pairs.txt --root lfw/lfw-deepfunneled --json
    """
    from convapps.face.evaluation import evaluate_lfw
    from convapps.face.evaluation_report import save_roc_png, write_report
    from convapps.face.lfw import IMAGES_DIR, check_lfw_root
    from convapps.face.scoring import make_scorer

    if lfw is None and (pairs_file is None or images is None):
        raise click.UsageError("give --lfw DIR, or --pairs FILE with --images DIR")
    if images is None:
        images = check_lfw_root(lfw) / IMAGES_DIR  # type: ignore[arg-type]  # lfw is given (checked above)
    config = build_config(detector, upsample, jitters, flip, fallback=True)
    scorer = make_scorer(images, config=config, model=model, siamese=siamese, cache=cache, workers=workers,
                         progress=not quiet)  # fmt: skip
    report = evaluate_lfw(scorer, root=lfw, protocol=protocol, pairs_file=pairs_file, tau=tau, limit=limit)  # type: ignore[arg-type]
    if roc is not None:
        save_roc_png({report.scorer: (report.far, report.tar, report.figures.auc)}, roc)
    path = write_report(out, report) if out is not None else None
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        _echo_summary(report)
        if roc is not None:
            click.echo(f"ROC curve: {roc}")
        if path is not None:
            click.echo(f"report: {path}")


evaluate_lfw = click.Command(
    "evaluate-lfw",
    params=evaluate.params,
    callback=evaluate.callback,
    help=evaluate.help,
    short_help="Alias of 'evaluate' (older scripts).",
    hidden=True,
)
"""``convapps face evaluate-lfw --pairs FILE --root DIR ...``: the name older scripts use; same command."""
