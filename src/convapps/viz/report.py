"""``index.html``: all probed layers side by side, unit ids and activation values under each crop.

The page reuses the grid PNGs as CSS sprites (each crop is a ``background-position`` into its layer's
grid), so it needs no other image files and stays in step with the PNGs.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from convapps.viz.grid import GridLayout
from convapps.viz.patches import LayerPatches

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1em; color: #222; }
.layers { display: flex; gap: 1.5em; align-items: flex-start; overflow-x: auto; }
.layer { flex: none; }
.layer h2 { font-size: 1.05em; margin: 0 0 .2em; }
.layer p { margin: 0 0 .6em; font-size: .85em; color: #555; }
.unit { display: flex; align-items: center; gap: 2px; margin-bottom: 4px; }
.uid { width: 5.5em; font-size: .8em; }
figure { margin: 0; text-align: center; }
figcaption { font-size: .7em; color: #444; }
.tile { background-repeat: no-repeat; }
"""


def _tile_div(grid: str, layout: GridLayout, row: int, column: int) -> str:
    x, y = layout.origin(row, column)
    return (
        f'<div class="tile" style="width:{layout.tile}px;height:{layout.tile}px;'
        f"background-image:url('{html.escape(grid)}');background-position:-{x}px -{y}px\"></div>"
    )


def _layer_section(layer: LayerPatches, layout: GridLayout, root: Path) -> str:
    field = layer.field
    grid = layer.grid.name if layer.grid is not None else ""
    parts = [
        '<section class="layer">',
        f"<h2>{html.escape(layer.layer.label)}</h2>",
        f"<p>receptive field {field.rows.size}x{field.cols.size} px, jump {field.rows.jump} px; "
        f"{len(layer.units)} units</p>",
    ]
    for row, unit in enumerate(layer.units):
        parts.append(
            f'<div class="unit"><div class="uid">unit {unit.unit}<br><small>mean '
            f"{unit.mean_activation:.3g}</small></div>"
        )
        for column, patch in enumerate(unit.patches):
            name = patch.image.relative_to(root) if patch.image.is_relative_to(root) else patch.image.name
            title = (
                f"{name} at ({patch.row}, {patch.col}); pixels rows {patch.box.top}:{patch.box.bottom}, "
                f"cols {patch.box.left}:{patch.box.right}"
            )
            parts.append(
                f'<figure title="{html.escape(title)}">{_tile_div(grid, layout, row, column)}'
                f"<figcaption>{patch.value:.4g}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def write_index_html(
    path: Path,
    layers: Sequence[LayerPatches],
    *,
    layout: GridLayout,
    title: str,
    summary: str,
    images_root: Path,
) -> Path:
    """Write the page to ``path`` (grids must sit in the same folder) and return it."""
    sections = "\n".join(_layer_section(layer, layout, images_root) for layer in layers)
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(summary)}</p>\n"
        f'<div class="layers">\n{sections}\n</div>\n</body></html>\n'
    )
    path.write_text(page, encoding="utf-8")
    return path
