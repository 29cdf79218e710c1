"""Photos that ship inside installed packages (scikit-image, matplotlib): a dataset that needs no download.

Only files present in the wheels are used (``skimage.data`` also knows images it would fetch with pooch:
those are never asked for).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SKIMAGE_IMAGES = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "coins.png",
    "color.png",
    "grass.png",
    "gravel.png",
    "horse.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "logo.png",
    "motorcycle_left.png",
    "moon.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
)
MATPLOTLIB_IMAGES = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_images() -> list[Path]:
    """Paths of the sample images found in the installed scikit-image and matplotlib wheels (sorted)."""
    found: list[Path] = []
    skimage = _package_dir("skimage")
    if skimage is not None:
        found += [skimage / "data" / name for name in SKIMAGE_IMAGES]
    matplotlib = _package_dir("matplotlib")
    if matplotlib is not None:
        found += [matplotlib / "mpl-data" / "sample_data" / name for name in MATPLOTLIB_IMAGES]
    return sorted(p for p in found if p.is_file())
