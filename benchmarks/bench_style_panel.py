"""Style-transfer defaults on a panel of 12 content x style pairs the code was not written on.

    .venv/bin/python benchmarks/bench_style_panel.py --size 256 --networks vgg16-hed,vgg19 --betas 2,4,8
    .venv/bin/python benchmarks/bench_style_panel.py --size 512 --networks vgg19 --betas 4 --thumb 320 \\
        --sheet docs/style/panel_512.jpg

For every pair and setting (network x beta, the rest from the preset), the result is judged by a NEUTRAL
network that neither run optimised, EfficientNet-Lite0 (ImageNet), so VGG16 and VGG19 are compared on the
same ruler:

* style distance = J_style(G, S) / J_style(C, S): Gram matrices at its 5 stages (equal weights, geometric
  mean of the per-stage ratios); 1 = as far from the painting's style as the photo, lower = more painting;
* content distance = J_content(G, C) / J_content(S, C) at stage 4 (``block10``): 0 = the photo's content,
  1 = as far from it as the painting.

A good setting lowers the style distance a lot while keeping the content distance well below 1. Results
and a contact sheet per setting (rows: pairs; content | style | result) go to ``benchmarks/out/style_panel``;
``--sheet`` also writes the sheet of the last setting to that path (the README shows docs/style/panel_512.jpg).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from skimage import data as skdata

from convapps.core.style import content_cost, gram_matrix
from convapps.io.images import load_image, save_image
from convapps.models.registry import load_network
from convapps.style.config import preset
from convapps.style.transfer import stylize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "style"
OUT = ROOT / "benchmarks" / "out" / "style_panel"
PANEL = (
    ("golden_gate.jpg", "shipwreck.jpg"),
    ("hoovertowernight.jpg", "udnie.jpg"),
    ("brad_pitt.jpg", "woman-with-hat-matisse.jpg"),
    ("amber.jpg", "frida_kahlo.jpg"),
    ("tubingen.jpg", "mosaic.jpg"),
    ("skimage:astronaut", "seated-nude.jpg"),
    ("skimage:chelsea", "feathers.jpg"),
    ("skimage:coffee", "escher_sphere.jpg"),
    ("skimage:rocket", "the_scream.jpg"),
    ("golden_gate.jpg", "picasso_selfport1907.jpg"),
    ("hoovertowernight.jpg", "candy.jpg"),
    ("brad_pitt.jpg", "starry_night_crop.png"),
)
"""Pairs never used while writing or tuning the code (the earlier quality benchmark's six are left out)."""
JUDGE_STAGES = ("block0", "block2", "block4", "block10", "block15")
JUDGE_CONTENT = "block10"
THUMB = 220


def image(name: str, folder: str) -> np.ndarray:
    if name.startswith("skimage:"):
        return np.ascontiguousarray(getattr(skdata, name.split(":", 1)[1])())
    return load_image(DATA / folder / name)


class Judge:
    """Style and content distances measured in EfficientNet-Lite0's features."""

    def __init__(self) -> None:
        self.net = load_network("efficientnet-lite0")

    def features(self, rgb: np.ndarray) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return self.net(self.net.preprocess(rgb), list(JUDGE_STAGES))

    def distances(self, g: np.ndarray, c: np.ndarray, s: np.ndarray) -> tuple[float, float]:
        size = (g.shape[1], g.shape[0])
        fg, fc = self.features(g), self.features(np.asarray(Image.fromarray(c).resize(size, Image.Resampling.LANCZOS)))
        fs = self.features(np.asarray(Image.fromarray(s).resize(size, Image.Resampling.LANCZOS)))
        logs = []
        for stage in JUDGE_STAGES:
            gs = gram_matrix(fs[stage]) / fs[stage][0, 0].numel()
            to_g = float(((gram_matrix(fg[stage]) / fg[stage][0, 0].numel() - gs) ** 2).sum())
            to_c = float(((gram_matrix(fc[stage]) / fc[stage][0, 0].numel() - gs) ** 2).sum())
            logs.append(math.log(max(to_g, 1e-12) / max(to_c, 1e-12)))
        style = math.exp(sum(logs) / len(logs))
        a_c = fc[JUDGE_CONTENT]
        content = float(content_cost(a_c, fg[JUDGE_CONTENT], normalization="normalized")) / float(
            content_cost(a_c, fs[JUDGE_CONTENT], normalization="normalized")
        )
        return style, content


def sheet(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, str]], path: Path, thumb: int = THUMB) -> None:
    canvas = Image.new("RGB", (3 * thumb, len(rows) * (thumb + 18)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (c, s, g, label) in enumerate(rows):
        for k, img in enumerate((c, s, g)):
            pil = Image.fromarray(img)
            pil.thumbnail((thumb, thumb), Image.Resampling.LANCZOS)
            canvas.paste(pil, (k * thumb + (thumb - pil.width) // 2, r * (thumb + 18) + (thumb - pil.height) // 2))
        draw.text((4, r * (thumb + 18) + thumb + 2), label, fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, quality=72, progressive=True, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--networks", default="vgg16-hed,vgg19")
    parser.add_argument("--betas", default="2,4,8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sheet", type=Path, help="also write the last setting's contact sheet here")
    parser.add_argument("--thumb", type=int, default=THUMB, help="long side of each picture on the sheets")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    base = preset("preview" if args.size <= 256 else "default").replace(size=args.size)
    judge = Judge()
    pairs = [(image(c, "photos"), image(s, "paintings"), f"{c} x {s}") for c, s in PANEL]
    summary = []
    for network in args.networks.split(","):
        for beta in (float(b) for b in args.betas.split(",")):
            config = base.replace(network=network, beta=beta, threads=args.threads)
            rows, styles, contents, seconds = [], [], [], []
            tag = f"{network}_beta{beta:g}_{args.size}"
            for c, s, label in pairs:
                started = time.perf_counter()
                g = stylize(c, [s], config).image
                seconds.append(time.perf_counter() - started)
                style_d, content_d = judge.distances(g, c, s)
                styles.append(style_d)
                contents.append(content_d)
                rows.append((c, s, g, f"{label}: style {style_d:.2f}, content {content_d:.2f}"))
                save_image(g, OUT / tag / f"{label.replace(' x ', '__').replace(':', '_')}.png")
            sheet(rows, OUT / f"{tag}.jpg", args.thumb)
            if args.sheet is not None:
                sheet(rows, args.sheet, args.thumb)
            row = {
                "network": network,
                "beta": beta,
                "size": args.size,
                "style_distance_median": statistics.median(styles),
                "content_distance_median": statistics.median(contents),
                "style_distance": styles,
                "content_distance": contents,
                "seconds_median": statistics.median(seconds),
            }
            summary.append(row)
            print(
                f"{network:10s} beta {beta:4g}: style distance median {row['style_distance_median']:.3f} "
                f"(per pair {' '.join(f'{v:.2f}' for v in styles)}), content distance median "
                f"{row['content_distance_median']:.3f}, {row['seconds_median']:.1f} s per image",
                flush=True,
            )
    (OUT / f"summary_{args.size}.json").write_text(json.dumps(summary, indent=1))
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
