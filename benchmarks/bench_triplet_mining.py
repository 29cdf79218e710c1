"""Benchmark 2 of the triplet study: triplet mining study at a fixed budget of training steps.

The same compact CNN, seed, data and number of P x K batches for three strategies: random triplets,
FaceNet's semi-hard negatives and batch-hard. Records, per epoch, the fraction of the strategy's own
triplets with non-zero loss and the fraction of *all* valid triplets of the batch with non-zero loss,
then the final LFW DevTest accuracy (tau on pairsDevTrain). Plot: benchmarks/out/triplet_mining.png
(and a small copy in docs/triplet/mining.png).

    .venv/bin/python benchmarks/bench_triplet_mining.py [--epochs 20] [--steps 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
from concurrent.futures import ProcessPoolExecutor

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from _triplet_common import CACHE, LFW, OUT, REPO, check_data, machine_line
from convapps.face.training.encoder_run import train_face_model
from convapps.face.training.triplet import TripletTrainConfig

STRATEGIES = ("random", "semi-hard", "hard")


def run_one(job: tuple[str, int, int, int, int, int]) -> dict[str, object]:
    """Train one strategy and return its figures."""
    mining, epochs, steps, p, k, threads = job
    torch.set_num_threads(threads)
    cfg = TripletTrainConfig(mining=mining, margin=0.2, p=p, k=k, epochs=epochs, steps_per_epoch=steps,  # type: ignore[arg-type]
                             lr=2e-3, seed=0, num_threads=threads, progress=False)  # fmt: skip
    outcome = train_face_model(LFW, CACHE, OUT / f"triplet_mining_{mining}", cfg, arch="cnn")
    assert outcome.dev_test is not None
    print(f"{mining}: DevTest accuracy {outcome.dev_test.accuracy:.4f}, {outcome.fit.seconds:.0f} s", flush=True)
    return {
        "dev_test_accuracy": outcome.dev_test.accuracy,
        "auc": outcome.dev_test.auc,
        "active": [a[0] for a in outcome.active],
        "active_all": [a[1] for a in outcome.active],
        "seconds": outcome.fit.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=10, help="P x K batches per epoch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--p", type=int, default=16)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument(
        "--parallel",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the three strategies in parallel processes",
    )
    args = parser.parse_args()
    check_data()
    torch.set_num_threads(args.threads)
    jobs = [(m, args.epochs, args.steps, args.p, args.k, args.threads) for m in STRATEGIES]
    if args.parallel:  # one process per strategy (each with --threads torch threads), same budget in steps
        with ProcessPoolExecutor(max_workers=len(STRATEGIES)) as pool:
            results = dict(zip(STRATEGIES, pool.map(run_one, jobs), strict=True))
    else:
        results = {job[0]: run_one(job) for job in jobs}
    results["machine"] = machine_line(args.threads)  # type: ignore[assignment]
    results["budget"] = f"{args.epochs} epochs x {args.steps} batches of {args.p} x {args.k}"  # type: ignore[assignment]
    (OUT / "triplet_mining.json").write_text(json.dumps(results, indent=2))

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for mining in STRATEGIES:
        r = results[mining]
        label = f"{mining} (DevTest {100 * r['dev_test_accuracy']:.1f}%)"
        epochs = range(1, len(r["active"]) + 1)
        axes[0].plot(epochs, r["active"], label=label)
        axes[1].plot(epochs, r["active_all"], label=mining)
    axes[0].set_title("mined triplets with loss > 0")
    axes[1].set_title("all valid triplets of the batch with loss > 0")
    for ax in axes:
        ax.set_xlabel(f"epoch ({args.steps} batches of {args.p} x {args.k})")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("fraction")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "triplet_mining.png", dpi=80)
    (REPO / "docs" / "triplet").mkdir(parents=True, exist_ok=True)
    shutil.copy(OUT / "triplet_mining.png", REPO / "docs" / "triplet" / "mining.png")
    base = results["random"]["dev_test_accuracy"]
    for mining in STRATEGIES:
        accuracy = results[mining]["dev_test_accuracy"]
        print(f"{mining}: accuracy {accuracy:.4f}, ratio to random {accuracy / base:.3f}")


if __name__ == "__main__":
    main()
