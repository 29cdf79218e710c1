"""Style-transfer speed: our default preset vs the well-known tutorial loop, same network, same cost J.

Both sides use the preset's network (VGG19 since it became the default; ``--network vgg16-hed`` gives the
runs recorded before).

    .venv/bin/python benchmarks/bench_style_speed.py [--pair tubingen.jpg:starry_night.jpg] [--threads 2]

1. Wall time of ``stylize`` with the ``default`` preset (512 px long side) per image.
2. Time to reach a fixed total cost J* (J of our final image x 1.1, computed at 512 px), ours vs a
   reference: the PyTorch "Neural Transfer" tutorial structure (an nn.Sequential copy of the same VGG16
   layers with ContentLoss/StyleLoss modules inserted after the loss layers, full-resolution L-BFGS with
   torch defaults, clamp inside the closure, the losses recomputed in those Python modules), minimising
   exactly the same J (same layers, effective weights, TV term and noise start).
The reference is stopped at ``--cap`` x our wall time; if it has not reached J* by then the ratio is a
lower bound (printed with ">=").

The machine is shared: besides wall time the script prints process CPU time (all threads). With T
threads and no competition, wall ~= CPU / T, so ``CPU / threads`` is the idle-machine estimate.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
from torch import nn

from convapps.core.style import gram_matrix, total_variation
from convapps.io.images import load_image
from convapps.style.config import preset
from convapps.style.optimize import Objective, compute_targets
from convapps.style.transfer import initial_image, network_for, resize, style_size, stylize, to_float

SNAPSHOT_EVERY = 5
"""Our G is copied every 5 steps during the timed run; its float32 J is computed afterwards, untimed."""
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "style"


class ContentLoss(nn.Module):
    """Tutorial-style transparent loss module: stores its loss, returns the input unchanged."""

    def __init__(self, target: torch.Tensor, weight: float) -> None:
        super().__init__()
        self.target, self.weight, self.loss = target.detach(), weight, torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = self.weight * (x - self.target).pow(2).sum() / (4 * x.numel())
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_gram: torch.Tensor, weight: float) -> None:
        super().__init__()
        self.target, self.weight, self.loss = target_gram.detach(), weight, torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = gram_matrix(x) / (x.shape[2] * x.shape[3])
        self.loss = self.weight * (g - self.target).pow(2).sum() / (4 * x.shape[1] ** 2)
        return x


def reference_run(content, style, config, init, seconds_cap: float, target: float) -> list[tuple[float, float, float]]:
    """The tutorial loop; returns (wall seconds, CPU seconds, J) after each closure evaluation."""
    net = network_for(config)
    targets = compute_targets(net, content, [style], [1.0], config)
    alpha, lambdas = targets.weights(config)

    class Normalization(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return net.normalize(x)

    model = nn.Sequential(Normalization())
    content_losses, style_losses = [], []
    deepest = max(net.layer_names.index(n) for n in [config.content_layer, *lambdas])
    for name in net.layer_names[: deepest + 1]:
        model.add_module(name, net.body[name])
        if name == config.content_layer:
            content_losses.append(ContentLoss(targets.content, alpha))
            model.add_module(f"content_{name}", content_losses[-1])
        if name in lambdas:
            style_losses.append(StyleLoss(targets.grams[name], config.beta * lambdas[name]))
            model.add_module(f"style_{name}", style_losses[-1])
    image = init.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([image])
    trace: list[tuple[float, float, float]] = []
    start, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds_cap and (not trace or trace[-1][2] > target):

        def closure() -> torch.Tensor:
            with torch.no_grad():
                image.clamp_(0, 1)
            optimizer.zero_grad()
            model(image)
            loss = sum(sl.loss for sl in style_losses) + sum(cl.loss for cl in content_losses)
            loss = loss + config.tv_weight * total_variation(image)
            loss.backward()
            trace.append((time.perf_counter() - start, time.process_time() - cpu0, float(loss)))
            return loss

        optimizer.step(closure)
    return trace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pair", default="tubingen.jpg:starry_night.jpg", help="photo:painting (shared data)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cap", type=float, default=3.0, help="reference time limit, in multiples of ours")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"], help="override the preset's")
    parser.add_argument("--init", choices=["noise", "content", "blend", "palette"], help="override the preset's")
    parser.add_argument("--network", choices=["vgg19", "vgg16-hed"], help="override the preset's")
    parser.add_argument(
        "--ref-init",
        choices=["noise", "content"],
        default="content",
        help="the reference's start (the tutorial starts from the content photo)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photo, painting = args.pair.split(":")
    config = preset(args.preset).replace(snapshot_every=SNAPSHOT_EVERY)
    for key in ("precision", "init", "network"):
        if getattr(args, key) is not None:
            config = config.replace(**{key: getattr(args, key)})
    content = load_image(DATA / "photos" / photo, max_side=2 * config.size)
    style = load_image(DATA / "paintings" / painting, max_side=2 * config.size)
    network_for(config)  # load once, outside both timings
    print(f"threads={torch.get_num_threads()} load average before={os.getloadavg()}")

    snaps: list[tuple[float, float, int, torch.Tensor]] = []
    start, cpu0 = time.perf_counter(), time.process_time()
    result = stylize(
        content,
        [style],
        config,
        on_snapshot=lambda scale, step, g: snaps.append(
            (time.perf_counter() - start, time.process_time() - cpu0, scale, g)
        ),
    )
    ours_wall, ours_cpu = time.perf_counter() - start, time.process_time() - cpu0
    target = result.final.total * 1.1
    last = len(result.scale_sizes) - 1
    height, width = result.image.shape[:2]
    # J of every full-resolution snapshot, in float32, after the run (not timed): the same J as the reference's
    net = network_for(config)
    c_full = resize(to_float(content), (height, width))
    s_full = resize(to_float(style), style_size(to_float(style), (height, width), config))
    exact = Objective(net, compute_targets(net, c_full, [s_full], [1.0], config), config)
    with torch.no_grad():
        curve = [(t, c, exact(g, exact=True)[1].total) for t, c, scale, g in snaps if scale == last]
    print("ours J (float32) every", SNAPSHOT_EVERY, "steps:", " ".join(f"{t:.0f}s:{j:.3f}" for t, _, j in curve))
    ours_hit, ours_hit_cpu = next(((t, c) for t, c, j in curve if j <= target), (ours_wall, ours_cpu))
    threads = torch.get_num_threads()
    print(
        f"ours: {ours_wall:.1f} s wall, {ours_cpu:.1f} s CPU (idle estimate {ours_cpu / threads:.1f} s) for"
        f" {width}x{height}, final J={result.final.total:.4g} (J_content={result.final.content:.4g},"
        f" J_style={result.final.style:.4g}); J*={target:.4g} reached at {ours_hit:.1f} s wall,"
        f" {ours_hit_cpu:.1f} s CPU",
        flush=True,
    )

    init = initial_image(args.ref_init, c_full, config.init_blend, torch.Generator().manual_seed(config.seed))
    ref = reference_run(c_full, s_full, config.replace(precision="float32"), init, args.cap * ours_wall, target)
    ref_hit = next(((t, c) for t, c, j in ref if j <= target), None)
    wall, cpu = ref[-1][0], ref[-1][1]
    best = min(r[2] for r in ref)
    print(f"reference: {len(ref)} evaluations in {wall:.1f} s wall, {cpu:.1f} s CPU, best J={best:.4g}")
    if ref_hit is None:
        print(
            f"reference did not reach J*={target:.4g} in {wall:.1f} s: speed-up >= {wall / ours_hit:.1f}x wall,"
            f" >= {cpu / ours_hit_cpu:.1f}x CPU"
        )
    else:
        print(
            f"time to J*: ours {ours_hit:.1f} s, reference {ref_hit[0]:.1f} s wall: speed-up"
            f" {ref_hit[0] / ours_hit:.1f}x wall, {ref_hit[1] / ours_hit_cpu:.1f}x CPU"
        )
    print(f"load average after={os.getloadavg()}")


if __name__ == "__main__":
    main()
