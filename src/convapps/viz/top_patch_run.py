"""Use case: the top-k image patches of units in layers 1 to 5 (Zeiler & Fergus, as in the lecture).

Pick units of a layer, run the network over an image folder, keep for each unit the k images whose
spatial maximum is largest (one patch per image, :mod:`convapps.core.topk`), map each maximum's position
(i, j) to its receptive-field box (:mod:`convapps.core.receptive_field`) and cut those boxes from the
images. Writes one grid PNG per layer, ``patches.json`` and ``index.html`` into the output folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from convapps.core.topk import DEFAULT_K
from convapps.errors import InvalidInputError
from convapps.io.images import save_image
from convapps.models.registry import DEFAULT_FEATURES_NETWORK
from convapps.viz.grid import GridLayout, render_grid
from convapps.viz.networks import ProbeNetwork, load_probe_network
from convapps.viz.patches import LayerPatches, layer_patches, render_tiles
from convapps.viz.report import write_index_html
from convapps.viz.tracking import TrackingResult, list_image_files, track_top_patches
from convapps.viz.units import UnitSelection


@dataclass(frozen=True)
class TopPatchesConfig:
    """Settings of a top-patches run (defaults: the lecture's nine patches, layers 1-5, 8 random units)."""

    network: str = DEFAULT_FEATURES_NETWORK
    """A registered ``features`` network (name or alias), see :mod:`convapps.models.registry`."""
    layers: str = "1-5"
    units: str = "random:8"
    k: int = DEFAULT_K
    size: int = 224
    """Images are scaled (shorter side) and centre-cropped to size x size before the network."""
    batch_size: int | None = None
    """Images per forward pass; None = the network's default (its spec's ``probe_batch_size``)."""
    tile: int = 64
    """Pixels per crop in the grid PNGs."""
    seed: int = 0


@dataclass(frozen=True)
class TopPatchesReport:
    """What a run wrote and found."""

    network: str
    model_id: str
    layers: tuple[LayerPatches, ...]
    images_used: int
    skipped: tuple[tuple[Path, str], ...]
    out_dir: Path
    html: Path


def _grid_name(layer: LayerPatches) -> str:
    prefix = f"layer{layer.layer.stage}_" if layer.layer.stage is not None else ""
    return f"{prefix}{layer.layer.name}.png"


def top_patches(
    images: Path | Sequence[Path],
    out_dir: Path,
    *,
    config: TopPatchesConfig = TopPatchesConfig(),
    network: ProbeNetwork | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> TopPatchesReport:
    """Run the whole use case on a folder (or a list) of images; returns the report, writes ``out_dir``.

    ``on_total(n)`` is called once with the number of files before the pass; ``progress(n)`` after each batch.
    Raises :class:`~convapps.errors.InvalidInputError` / :class:`~convapps.errors.NotFoundError` for an
    empty or missing folder, unknown layers, malformed units, or no readable image.
    """
    if config.k < 1 or config.tile < 8:
        raise InvalidInputError(f"k must be >= 1 and tile >= 8, got {config.k} and {config.tile}")
    selection = UnitSelection.parse(config.units)
    net = network if network is not None else load_probe_network(config.network)
    probe_layers = net.resolve_layers(config.layers)
    for probe in probe_layers:  # fail before the long pass on impossible unit indices
        if selection.mode == "indices":
            selection.select(net.channels(probe.name), torch.zeros(0), seed=config.seed, layer=probe.name)
    files = list_image_files(Path(images)) if isinstance(images, str | Path) else sorted(Path(p) for p in images)
    if not files:
        raise InvalidInputError("no images given")
    if on_total is not None:
        on_total(len(files))
    tracked = track_top_patches(
        net,
        [probe.name for probe in probe_layers],
        files,
        size=config.size,
        k=config.k,
        progress=progress,
        batch_size=config.batch_size or net.batch_size,
    )
    layers: list[LayerPatches] = []
    for probe in probe_layers:
        topk = tracked.topk[probe.name]
        units = selection.select(
            net.channels(probe.name), topk.mean_activation, seed=config.seed, layer=probe.name, peak=topk.values[:, 0]
        )
        field = net.receptive_field(probe.name, (config.size, config.size))
        layers.append(layer_patches(probe, field, topk, units, files))
    return _write_outputs(out_dir, layers, net, tracked, config)


def _write_outputs(
    out_dir: Path, layers: list[LayerPatches], net: ProbeNetwork, tracked: TrackingResult, config: TopPatchesConfig
) -> TopPatchesReport:
    """Grid PNGs, ``index.html`` and ``patches.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    layout = GridLayout(rows=0, columns=config.k, tile=config.tile)
    written = []
    for layer, tiles in zip(layers, render_tiles(layers, size=config.size, tile=config.tile), strict=True):
        grid = render_grid(tiles, [f"u{u.unit}" for u in layer.units], replace(layout, rows=len(layer.units)))
        written.append(replace(layer, grid=save_image(grid, out_dir / _grid_name(layer))))
    summary = (
        f"{tracked.images_used} images ({len(tracked.skipped)} unreadable files skipped), each scaled and "
        f"centre-cropped to {config.size}x{config.size}; top {config.k} per unit, at most one patch per image; "
        f"units: {config.units}. Grey = outside the image (zero padding). Numbers: activation at the argmax."
    )
    html = write_index_html(
        out_dir / "index.html",
        written,
        layout=layout,
        summary=summary,
        title=f"What {net.name} units respond to ({net.model_id})",
        images_root=Path(os.path.commonpath([p.parent for p in tracked.files])),
    )
    meta = {
        "network": net.name,
        "model_id": net.model_id,
        "size": config.size,
        "k": config.k,
        "images_used": tracked.images_used,
        "skipped": [str(p) for p, _ in tracked.skipped],
        "layers": [layer.to_json() for layer in written],
    }
    (out_dir / "patches.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return TopPatchesReport(
        network=net.name,
        model_id=net.model_id,
        layers=tuple(written),
        images_used=tracked.images_used,
        skipped=tuple(tracked.skipped),
        out_dir=out_dir,
        html=html,
    )
