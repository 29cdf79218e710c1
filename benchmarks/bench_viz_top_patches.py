"""Top-9 patches per unit over 1,000 images: images/s and peak memory, ours vs a naive baseline.

Dataset: every image of ``../shared/data/style`` plus LFW (deep-funnelled) faces, sorted, up to --n images.
* ours: ``convapps.viz.top_patch_run`` (batched forward passes, streaming top-k of every unit, 64 units per
  layer shown, grids + index.html written) for layers 1-5;
* baseline: the obvious loop: one image per forward pass, and a table of every image's spatial maximum for
  every unit (memory O(N C)), sorted at the end.
Each variant runs in its own process so that its peak RSS (``ru_maxrss``) is its own.

    .venv/bin/python benchmarks/bench_viz_top_patches.py                 # VGG16, 1,000 images
    .venv/bin/python benchmarks/bench_viz_top_patches.py --network efficientnet-lite0
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out" / "viz_top_patches"


def dataset(n: int) -> list[Path]:
    style = sorted(p for p in (SHARED / "style").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    faces = sorted((SHARED / "faces" / "lfw" / "lfw-deepfunneled").rglob("*.jpg"))
    return (style + faces)[:n]


def run_ours(files: list[Path], network: str, threads: int, batch_size: int | None = None) -> dict[str, float]:
    import torch

    from convapps.viz.top_patch_run import TopPatchesConfig, top_patches

    torch.set_num_threads(threads)
    config = TopPatchesConfig(network=network, layers="1-5", units="random:64", batch_size=batch_size)
    start = time.perf_counter()
    report = top_patches(files, OUT / network, config=config)
    seconds = time.perf_counter() - start
    return {"images": report.images_used, "seconds": seconds}


def run_baseline(files: list[Path], network: str, threads: int, batch_size: int | None = 1) -> dict[str, float]:
    import torch

    from convapps.viz.networks import load_probe_network
    from convapps.viz.tracking import load_square

    torch.set_num_threads(threads)
    net = load_probe_network(network)
    names = list(net.stages)
    start = time.perf_counter()
    table: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    for path in files:
        acts = net.activations(load_square(path, 224)[None], names)
        for name in names:
            table[name].append(acts[name][0].amax(dim=(1, 2)))
    for name in names:
        torch.sort(torch.stack(table[name], dim=1), dim=1, descending=True).indices[:, :9]
    return {"images": len(files), "seconds": time.perf_counter() - start}


def child(variant: str, n: int, network: str, threads: int, batch_size: int | None) -> None:
    files = dataset(n)
    result = (run_ours if variant == "ours" else run_baseline)(files, network, threads, batch_size)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mib"] = usage.ru_maxrss / 1024
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # whole process, loading included
    print(json.dumps(result))


def spawn(variant: str, n: int, network: str, threads: int, batch_size: int | None) -> dict[str, float]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        variant,
        "--n",
        str(n),
        "--network",
        network,
        "--threads",
        str(threads),
        *(["--batch-size", str(batch_size)] if batch_size else []),
    ]
    load_before = os.getloadavg()[0]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = (load_before + os.getloadavg()[0]) / 2
    result["ips"] = result["images"] / result["seconds"]
    return result


def main() -> None:
    from convapps.models.registry import DEFAULT_FEATURES_NETWORK, get_network, network_names

    names = network_names(role="features")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--network",
        default=DEFAULT_FEATURES_NETWORK,
        choices=[*names, *(alias for name in names for alias in get_network(name).aliases)],
    )
    parser.add_argument("--n", type=int, default=1000, help="images for ours (default 1000)")
    parser.add_argument("--baseline-n", type=int, default=200, help="images for the baseline (it is slow)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, help="ours: images per forward pass (default: the network's)")
    parser.add_argument("--child", choices=["ours", "baseline"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n, args.network, args.threads, args.batch_size)
        return
    if len(dataset(args.n)) < args.n:
        sys.exit(f"only {len(dataset(args.n))} images under {SHARED}")
    ours = spawn("ours", args.n, args.network, args.threads, args.batch_size)
    base = spawn("baseline", min(args.baseline_n, args.n), args.network, args.threads, 1)
    print(
        f"network {args.network}, {args.threads} threads, batch {args.batch_size}, layers 1-5, "
        "64 units/layer shown, top-9"
    )
    for name, r in (("ours (batched, streaming top-k)", ours), ("baseline (batch 1, full table)", base)):
        cpu = r.get("cpu_seconds", float("nan")) / r["images"]
        print(
            f"{name:<34} {int(r['images']):>5} images {r['seconds']:8.1f} s {r['ips']:7.2f} img/s "
            f"{cpu:6.3f} CPU-s/img peak RSS {r['peak_rss_mib']:7.0f} MiB  (load avg {r['load']:.1f})"
        )
    cpu_ratio = (base.get("cpu_seconds", float("nan")) / base["images"]) / (
        ours.get("cpu_seconds", float("nan")) / ours["images"]
    )
    print(
        f"speed ratio ours/baseline: {ours['ips'] / base['ips']:.2f}x wall, {cpu_ratio:.2f}x CPU time; "
        f"memory ratio: {ours['peak_rss_mib'] / base['peak_rss_mib']:.2f}x"
    )


if __name__ == "__main__":
    main()
