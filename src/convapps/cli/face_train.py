"""``convapps face train`` and ``train-siamese``: learning the similarity function (evaluate the result with
``convapps face evaluate``, :mod:`convapps.cli.face_evaluate`).

Heavy libraries (torch, dlib) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import click

LFW_HELP = "LFW folder holding lfw-deepfunneled/ and the people*.txt / pairs*.txt protocol files."
CACHE_HELP = "Folder caching aligned chips and dlib encodings (default: the user cache folder)."


def _cache(cache: Path | None) -> Path:
    if cache is not None:
        return cache
    import platformdirs

    return Path(platformdirs.user_cache_dir("convapps")) / "lfw-chips"


@click.command("train")
@click.option("--lfw", "lfw", type=click.Path(path_type=Path, file_okay=False), required=True, help=LFW_HELP)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Run folder: model.pt (use it with --model), train.json, checkpoints/.",
)
@click.option(
    "--arch",
    type=click.Choice(["cnn", "projection"]),
    default="cnn",
    show_default=True,
    help="cnn: compact ConvNet from scratch on 64x64 chips; projection: head on frozen dlib encodings.",
)
@click.option("--loss", type=click.Choice(["triplet", "contrastive"]), default="triplet", show_default=True)
@click.option(
    "--mining",
    type=click.Choice(["semi-hard", "hard", "all", "random"]),
    default="semi-hard",
    show_default=True,
    help="Online triplet mining inside each P x K batch (batch-hard can collapse a network trained from "
    "scratch: all encodings at one point, the loss stuck at alpha).",
)
@click.option("--margin", type=float, default=0.2, show_default=True, help="alpha of the triplet loss.")
@click.option("--p", "p", type=int, default=16, show_default=True, help="Identities per batch.")
@click.option("--k", "k", type=int, default=4, show_default=True, help="Images per identity per batch.")
@click.option("--epochs", type=int, default=30, show_default=True)
@click.option("--steps-per-epoch", type=int, default=None, help="Batches per epoch (default: every identity once).")
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Learning rate (AdamW, cosine schedule).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--time-budget", type=float, default=None, help="Stop after the epoch that passes this many minutes.")
@click.option("--max-people", type=int, default=None, help="Train on a deterministic subset of people (quick runs).")
@click.option("--no-eval", is_flag=True, help="Skip pairsDevTrain/DevTest; tau from the validation identities.")
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoints/last.pt.")
@click.option("--threads", type=int, default=None, help="torch threads (default: torch's choice).")
@click.option("--cache", type=click.Path(path_type=Path, file_okay=False), default=None, help=CACHE_HELP)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def train(
    lfw: Path, out: Path, arch: str, loss: str, mining: str, margin: float, p: int, k: int, epochs: int,
    steps_per_epoch: int | None, lr: float, seed: int, time_budget: float | None, max_people: int | None,
    no_eval: bool, resume: bool, threads: int | None, cache: Path | None, quiet: bool,
) -> None:  # fmt: skip
    """Train a face encoder f(x) with the triplet loss on LFW View 1 training people.

    L(A, P, N) = max(||f(A) - f(P)||^2 - ||f(A) - f(N)||^2 + alpha, 0), with "hard" triplets (by default
    FaceNet's semi-hard ones) mined online in batches of P identities x K images (split by identity; no
    DevTest person is ever trained on).
    The threshold tau is chosen on pairsDevTrain.txt and the accuracy reported on pairsDevTest.txt.

    \b
    Example:
      convapps face train --lfw data/lfw --out runs/cnn --epochs 30
      convapps face identify --model runs/cnn/model.pt ...
    """
    from convapps.face.training.encoder_run import train_face_model
    from convapps.face.training.triplet import TripletTrainConfig

    cfg = TripletTrainConfig(
        loss=loss, mining=mining, margin=margin, p=p, k=k, epochs=epochs,  # type: ignore[arg-type]
        steps_per_epoch=steps_per_epoch, lr=lr, seed=seed,
        time_budget_s=None if time_budget is None else time_budget * 60, num_threads=threads, progress=not quiet,
    )  # fmt: skip
    outcome = train_face_model(
        lfw,
        _cache(cache),
        out,
        cfg,
        arch=arch,  # type: ignore[arg-type]  # a click.Choice of the Arch literals
        max_people=max_people,
        resume=resume,
        evaluate=not no_eval,
    )
    last = outcome.fit.history[-1] if outcome.fit.history else None
    click.echo(f"model: {outcome.model_path} ({outcome.model_id})")
    click.echo(f"tau: {outcome.tau:.4f} ({outcome.tau_source})")
    if last is not None:
        click.echo(
            f"epochs: {len(outcome.fit.history)}, best {outcome.fit.best_epoch} "
            f"({outcome.fit.monitor} {outcome.fit.best_score:.4f}), active triplets last epoch "
            f"{last.metrics.get('val_train_active', float('nan')):.3f}"
        )
    if outcome.dev_test is not None:
        click.echo(f"DevTest accuracy: {outcome.dev_test.accuracy:.4f}  AUC: {outcome.dev_test.auc:.4f}")


@click.command("train-siamese")
@click.option("--lfw", "lfw", type=click.Path(path_type=Path, file_okay=False), required=True, help=LFW_HELP)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="Head file to write.")
@click.option(
    "--kind",
    type=click.Choice(["abs", "chi2"]),
    default="abs",
    show_default=True,
    help="abs: |f_i - f_j|; chi2: (f_i - f_j)^2 / (|f_i| + |f_j|).",
)
@click.option("--epochs", type=int, default=60, show_default=True)
@click.option("--lr", type=float, default=1e-2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--cache", type=click.Path(path_type=Path, file_okay=False), default=None, help=CACHE_HELP)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def train_siamese(
    lfw: Path, out: Path, kind: str, epochs: int, lr: float, seed: int, cache: Path | None, quiet: bool
) -> None:
    """Train the Siamese logistic head y_hat = sigmoid(sum_k w_k |f(x_i)_k - f(x_j)_k| + b).

    Both images of a pair go through the same (frozen, pretrained dlib) encoder; the encodings are cached.
    Trained on the pairs of LFW pairsDevTrain.txt; tau on -logit is chosen on the same pairs.
    Evaluate with: convapps face evaluate --siamese OUT --no-flip
    """
    from convapps.face.chip_cache import ChipCache
    from convapps.face.lfw import read_pairs
    from convapps.face.trained_encoder import save_siamese_head
    from convapps.face.training.siamese import SiameseTrainConfig, train_pairs_siamese

    chip_cache = ChipCache.for_lfw(lfw, _cache(cache))
    cfg = SiameseTrainConfig(kind=kind, epochs=epochs, lr=lr, seed=seed, progress=not quiet)  # type: ignore[arg-type]
    head, tau = train_pairs_siamese(chip_cache, read_pairs(lfw / "pairsDevTrain.txt"), cfg)
    save_siamese_head(out, head, tau=tau, meta={"kind": kind, "epochs": epochs, "lr": lr, "seed": seed})
    click.echo(f"Siamese head ({kind}) written to {out}; tau on -logit: {tau:.4f}")
