"""From top-k activations to image patches: each record maps a unit's argmax (i, j) to its pixel box."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convapps.core.receptive_field import PixelBox, ReceptiveField2d
from convapps.core.topk import TopKResult
from convapps.viz.grid import crop_tile
from convapps.viz.networks import ProbeLayer
from convapps.viz.tracking import load_square


@dataclass(frozen=True)
class Patch:
    """One of a unit's top-k: the image, the activation position (row, col), its value and pixel box."""

    image: Path
    image_id: int
    row: int
    col: int
    value: float
    box: PixelBox


@dataclass(frozen=True)
class UnitPatches:
    """A unit (channel) and its patches, best first."""

    unit: int
    mean_activation: float
    patches: tuple[Patch, ...]


@dataclass(frozen=True)
class LayerPatches:
    """A probed layer: its receptive field (for the ``size x size`` input), units and grid PNG."""

    layer: ProbeLayer
    field: ReceptiveField2d
    units: tuple[UnitPatches, ...]
    grid: Path | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (paths as strings, boxes as [top, left, bottom, right])."""
        return {
            "layer": self.layer.name,
            "stage": self.layer.stage,
            "receptive_field": {
                "size": [self.field.rows.size, self.field.cols.size],
                "jump": [self.field.rows.jump, self.field.cols.jump],
                "start": [self.field.rows.start, self.field.cols.start],
            },
            "grid": self.grid.name if self.grid is not None else None,
            "units": [
                {
                    "unit": u.unit,
                    "mean_activation": u.mean_activation,
                    "patches": [
                        {
                            "image": str(p.image),
                            "position": [p.row, p.col],
                            "activation": p.value,
                            "box": [p.box.top, p.box.left, p.box.bottom, p.box.right],
                        }
                        for p in u.patches
                    ],
                }
                for u in self.units
            ],
        }


def layer_patches(
    layer: ProbeLayer,
    field: ReceptiveField2d,
    topk: TopKResult,
    units: Sequence[int],
    files: Sequence[Path],
) -> LayerPatches:
    """The patches of ``units`` from a layer's top-k (empty slots, when fewer than k images, dropped)."""
    records = []
    for unit in units:
        patches = tuple(
            Patch(
                image=files[int(topk.images[unit, slot])],
                image_id=int(topk.images[unit, slot]),
                row=int(topk.rows[unit, slot]),
                col=int(topk.cols[unit, slot]),
                value=float(topk.values[unit, slot]),
                box=field.box(int(topk.rows[unit, slot]), int(topk.cols[unit, slot])),
            )
            for slot in range(topk.filled(unit))
        )
        records.append(UnitPatches(unit=unit, mean_activation=float(topk.mean_activation[unit]), patches=patches))
    return LayerPatches(layer=layer, field=field, units=tuple(records))


def render_tiles(layers: Sequence[LayerPatches], *, size: int, tile: int) -> list[list[list[NDArray[np.uint8]]]]:
    """``tiles[layer][unit][slot]``: every crop scaled to ``tile x tile``; each image is read once."""
    by_image: dict[int, list[tuple[int, int, int, Patch]]] = defaultdict(list)
    for li, layer in enumerate(layers):
        for ui, unit in enumerate(layer.units):
            for si, patch in enumerate(unit.patches):
                by_image[patch.image_id].append((li, ui, si, patch))
    tiles: list[list[list[Any]]] = [[[None] * len(unit.patches) for unit in layer.units] for layer in layers]
    for entries in by_image.values():
        image = load_square(entries[0][3].image, size)
        for li, ui, si, patch in entries:
            tiles[li][ui][si] = crop_tile(image, patch.box, tile)
    return tiles
