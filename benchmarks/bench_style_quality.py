"""Style-transfer quality on 6 photo/painting pairs: style-cost reduction, content cost, contact sheet.

    .venv/bin/python benchmarks/bench_style_quality.py [--preset default] [--threads 2]

For each pair: J_style(final) / J_style(at init), J_content(final) (normalised, at the content layer)
and J_content of the painting itself (the anchor: what "no content at all" costs), plus a contact sheet
``benchmarks/out/style_quality.png`` with one row per pair: content | style | result. Inputs come from
``../shared/data/style`` and the outputs stay in the git-ignored ``benchmarks/out/``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from convapps.core.style import content_cost
from convapps.io.images import load_image, save_image
from convapps.style.config import StyleConfig, preset
from convapps.style.transfer import network_for, resize, stylize, to_float

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "style"
OUT = ROOT / "benchmarks" / "out"
PAIRS = (
    ("tubingen.jpg", "starry_night.jpg"),
    ("golden_gate.jpg", "wave.jpg"),
    ("hoovertowernight.jpg", "the_scream.jpg"),
    ("brad_pitt.jpg", "picasso_selfport1907.jpg"),
    ("amber.jpg", "candy.jpg"),
    ("tubingen.jpg", "composition_vii.jpg"),
)
THUMB = 200


def _thumb(image: np.ndarray) -> Image.Image:
    pil = Image.fromarray(image)
    pil.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (THUMB, THUMB), "white")
    canvas.paste(pil, ((THUMB - pil.width) // 2, (THUMB - pil.height) // 2))
    return canvas


def painting_content_cost(content: np.ndarray, style: np.ndarray, size: tuple[int, int], config: StyleConfig) -> float:
    """J_content(C, S resized to G's size): the content cost of an image that shares nothing with C."""
    net, layer = network_for(config), config.content_layer  # the network the transfer used
    with torch.no_grad():
        a_c = net(net.normalize(resize(to_float(content), size)), [layer])[layer]
        a_s = net(net.normalize(resize(to_float(style), size)), [layer])[layer]
    return float(content_cost(a_c, a_s, normalization="normalized"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    parser.add_argument("--size", type=int, help="override the preset's long side (same schedule shape)")
    parser.add_argument("--iterations", help="override the steps per scale, e.g. 60,30")
    parser.add_argument(
        "--only",
        help="run only these pair indices (0-based, e.g. 0,1); the sheet and summary "
        "are rebuilt from every pair result present in benchmarks/out",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = preset(args.preset)
    if args.size:
        config = config.replace(size=args.size)
    if args.iterations:
        config = config.replace(iterations=tuple(int(v) for v in args.iterations.split(",")))
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"preset={args.preset} size={config.size} iterations={config.iterations} "
        f"threads={torch.get_num_threads()} load average={os.getloadavg()}"
    )
    chosen = [int(v) for v in args.only.split(",")] if args.only else list(range(args.pairs))
    for index in chosen:
        photo, painting = PAIRS[index]
        content = load_image(DATA / "photos" / photo, max_side=2 * config.size)
        style = load_image(DATA / "paintings" / painting, max_side=2 * config.size)
        start = time.perf_counter()
        result = stylize(content, [style], config)
        seconds = time.perf_counter() - start
        h, w = result.image.shape[:2]
        anchor = painting_content_cost(content, style, (h, w), config)
        record = {
            "pair": f"{photo}+{painting}",
            "style_ratio": result.final.style / result.initial.style,
            "j_style_init": result.initial.style,
            "j_style_final": result.final.style,
            "j_content_final": result.final.content,
            "j_content_init": result.initial.content,
            "j_content_painting": anchor,
            "seconds": seconds,
        }
        (OUT / f"style_quality_pair{index}.json").write_text(json.dumps(record, indent=2) + "\n")
        print(
            f"{record['pair']:42s} J_style final/init={record['style_ratio']:.4f} "
            f"(1/{1 / record['style_ratio']:.0f})  J_content={result.final.content:.3g} "
            f"(start {result.initial.content:.3g}, painting {anchor:.3g})  {seconds:.0f} s",
            flush=True,
        )
        save_image(result.image, OUT / f"style_{Path(photo).stem}_{Path(painting).stem}.png")
    build_sheet(config.size)


def build_sheet(size: int) -> None:
    """Contact sheet and summary from every ``style_quality_pair*.json`` present (pairs in PAIRS order)."""
    rows, records = [], []
    for index, (photo, painting) in enumerate(PAIRS):
        path = OUT / f"style_quality_pair{index}.json"
        if not path.exists():
            continue
        record = json.loads(path.read_text())
        records.append(record)
        content = load_image(DATA / "photos" / photo, max_side=2 * size)
        style = load_image(DATA / "paintings" / painting, max_side=2 * size)
        result = load_image(OUT / f"style_{Path(photo).stem}_{Path(painting).stem}.png")
        rows.append((_thumb(content), _thumb(style), _thumb(result), record["pair"]))
    sheet = Image.new("RGB", (3 * THUMB, len(rows) * (THUMB + 14)), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (c, s, g, label) in enumerate(rows):
        y = index * (THUMB + 14)
        for col, tile in enumerate((c, s, g)):
            sheet.paste(tile, (col * THUMB, y + 14))
        draw.text((4, y + 1), f"{label}  content | style | result", fill="black")
    sheet.save(OUT / "style_quality.png")
    (OUT / "style_quality.json").write_text(json.dumps(records, indent=2) + "\n")
    ratios = [r["style_ratio"] for r in records]
    print(f"median J_style final/init = {float(np.median(ratios)):.4f}; sheet: {OUT / 'style_quality.png'}")
    print(f"load average after={os.getloadavg()}")


if __name__ == "__main__":
    main()
