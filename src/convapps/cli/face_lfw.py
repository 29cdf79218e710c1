"""``convapps face evaluate-lfw``: the official LFW verification protocol."""

from __future__ import annotations

import json
from pathlib import Path

import click

from convapps.cli.face_options import build_config, pipeline_options


@click.command("evaluate-lfw")
@click.option(
    "--pairs",
    "pairs_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="LFW pairs file: pairs.txt (View 2, 10 folds) or pairsDevTrain/DevTest.txt (View 1).",
)
@click.option(
    "--root",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of LFW images (NAME/NAME_0001.jpg), e.g. lfw-deepfunneled/.",
)
@click.option(
    "--tau", type=click.FloatRange(min=0), help="Fixed threshold (squared L2) to report (default: the model's)."
)
@click.option("--roc", type=click.Path(dir_okay=False, path_type=Path), help="Save the ROC curve as a PNG.")
@click.option("--limit", type=click.IntRange(min=1), help="Use only the first N same + N different pairs of each fold.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pipeline_options
def evaluate_lfw(
    pairs_file: Path,
    root: Path,
    tau: float | None,
    roc: Path | None,
    limit: int | None,
    workers: int | None,
    as_json: bool,
    detector: str,
    upsample: str,
    jitters: int,
    flip: bool,
    model: str | None,
) -> None:
    """Verification accuracy on LFW with the official protocol.

    10-fold cross-validation: for each fold the threshold is chosen on the other 9 folds; the result is
    the mean +/- std of the 10 fold accuracies. Also the accuracy at the fixed default tau, the ROC
    curve and its AUC. Images where no face is found still count (the whole image is used) and are
    listed. Choose thresholds on View 1; report on View 2 (pairs.txt).

    \b
    Example:
      convapps face evaluate-lfw --pairs lfw/pairs.txt --root lfw/lfw-deepfunneled --roc roc.png
    """
    from convapps.face.lfw import read_pairs
    from convapps.face.lfw_eval import evaluate_lfw as run_eval
    from convapps.face.lfw_eval import save_roc_png

    pairs = read_pairs(pairs_file, root)
    if limit is not None:
        counts: dict[tuple[int, bool], int] = {}
        kept = []
        for p in pairs:
            key = (p.fold, p.same)
            counts[key] = counts.get(key, 0) + 1
            if counts[key] <= limit:
                kept.append(p)
        pairs = kept
    config = build_config(detector, upsample, jitters, flip, fallback=True)
    report = run_eval(pairs, config=config, model=model, tau=tau, workers=workers)
    if roc is not None:
        save_roc_png({"convapps": (report.fpr, report.tpr, report.auc)}, roc)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
        return
    folds = len(report.cv.fold_accuracies)
    click.echo(f"pairs: {report.n_pairs}   folds: {folds}")
    click.echo(f"{folds}-fold accuracy: {100 * report.cv.mean:.2f}% +/- {100 * report.cv.std:.2f}%")
    click.echo(f"accuracy at tau = {report.tau:.4f} (squared L2): {100 * report.accuracy_at_tau:.2f}%")
    click.echo(f"ROC AUC: {report.auc:.4f}" + (f"   (curve: {roc})" if roc else ""))
    click.echo(f"images without a detected face (whole image used): {len(report.no_face)}")
    for name in report.no_face:
        click.echo(f"  {name}")
