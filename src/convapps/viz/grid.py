"""Receptive-field crops and the per-layer grid PNG (one row per unit, k crops per row).

A crop is the unit's input-pixel box ``(top, left, bottom, right)`` cut from the ``size x size`` image the
network saw; where the box reaches past the image (into the network's zero padding) the crop is padded
with :data:`PAD_COLOUR`, so every crop of a layer has the layer's receptive-field size. Crops are then
scaled to ``tile x tile`` pixels (nearest neighbour when enlarging, so layer-1 pixels stay visible).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from convapps.core.receptive_field import PixelBox

PAD_COLOUR = (128, 128, 128)
"""Grey: the part of a crop outside the image."""
BACKGROUND = (224, 224, 224)
"""Light grey between tiles: white and black crops both stay visible."""


def crop_box(image: NDArray[np.uint8], box: PixelBox, *, fill: tuple[int, int, int] = PAD_COLOUR) -> NDArray[np.uint8]:
    """Pixels of ``image`` (H, W, 3) inside ``box``; ``(box.height, box.width, 3)``, padded with ``fill``."""
    height, width = image.shape[:2]
    out = np.empty((box.height, box.width, 3), dtype=np.uint8)
    out[:] = np.asarray(fill, dtype=np.uint8)
    inner = box.clip(height, width)
    if inner.height > 0 and inner.width > 0:
        out[inner.top - box.top : inner.bottom - box.top, inner.left - box.left : inner.right - box.left] = image[
            inner.top : inner.bottom, inner.left : inner.right
        ]
    return out


def to_tile(crop: NDArray[np.uint8], tile: int) -> NDArray[np.uint8]:
    """``crop`` scaled to ``(tile, tile, 3)``: nearest neighbour when enlarging, Lanczos when shrinking."""
    if crop.shape[0] == tile and crop.shape[1] == tile:
        return crop
    enlarge = max(crop.shape[:2]) < tile
    method = Image.Resampling.NEAREST if enlarge else Image.Resampling.LANCZOS
    return np.asarray(Image.fromarray(crop).resize((tile, tile), method), dtype=np.uint8)


@dataclass(frozen=True)
class GridLayout:
    """Pixel geometry of a grid PNG: a label column, then ``columns`` tiles per row, ``gap`` apart."""

    rows: int
    columns: int
    tile: int = 64
    gap: int = 2
    label_width: int = 44

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the PNG."""
        step = self.tile + self.gap
        return self.label_width + self.columns * step + self.gap, self.rows * step + self.gap

    def origin(self, row: int, column: int) -> tuple[int, int]:
        """``(x, y)`` of the top-left pixel of tile ``(row, column)``."""
        step = self.tile + self.gap
        return self.label_width + self.gap + column * step, self.gap + row * step


def render_grid(
    tiles: Sequence[Sequence[NDArray[np.uint8] | None]], labels: Sequence[str], layout: GridLayout
) -> NDArray[np.uint8]:
    """The grid image ``(H, W, 3)``: row r shows ``labels[r]`` then its tiles (None = empty slot)."""
    canvas = Image.new("RGB", layout.size, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for row, (row_tiles, label) in enumerate(zip(tiles, labels, strict=True)):
        _, y0 = layout.origin(row, 0)
        draw.text((4, y0 + layout.tile // 2 - 6), label, fill=(0, 0, 0), font=font)
        for column, tile in enumerate(row_tiles):
            if tile is None:
                continue
            x, y = layout.origin(row, column)
            canvas.paste(Image.fromarray(tile), (x, y))
    return np.asarray(canvas, dtype=np.uint8)


def crop_tile(
    image: NDArray[np.uint8], box: PixelBox, tile: int, *, fill: tuple[int, int, int] = PAD_COLOUR
) -> NDArray[np.uint8]:
    """``to_tile(crop_box(image, box), tile)``, computed without building large padded crops.

    Boxes much larger than the tile (deep layers, whose fields exceed the image) are shrunk directly:
    only the part inside the image is resized, then placed on a ``fill`` tile at its scaled offset.
    """
    if box.height <= 2 * tile and box.width <= 2 * tile:
        return to_tile(crop_box(image, box, fill=fill), tile)
    out = np.empty((tile, tile, 3), dtype=np.uint8)
    out[:] = np.asarray(fill, dtype=np.uint8)
    inner = box.clip(*image.shape[:2])
    scale_y, scale_x = tile / box.height, tile / box.width
    y0, y1 = round((inner.top - box.top) * scale_y), round((inner.bottom - box.top) * scale_y)
    x0, x1 = round((inner.left - box.left) * scale_x), round((inner.right - box.left) * scale_x)
    if y1 > y0 and x1 > x0:
        part = Image.fromarray(np.ascontiguousarray(image[inner.top : inner.bottom, inner.left : inner.right]))
        out[y0:y1, x0:x1] = np.asarray(part.resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS, reducing_gap=2.0))
    return out
