"""The top-patches viewer ("what the net sees"): for a few units of chosen layers, the patches of the
uploaded images that excite each unit most, as grid images.

Calls :func:`convapps.viz.top_patch_run.top_patches` (the same call as ``convapps viz top-patches``) in the
job pool. Uploaded images are decoded in the request, re-encoded as PNG into a private temporary folder
the service creates (never a client-chosen path), and the folder is deleted when the job ends.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.errors import ConvappsError, InvalidInputError, NotFoundError
from convapps.io.images import save_image
from convapps.models.registry import DEFAULT_FEATURES_NETWORK, get_network, network_names
from convapps.viz.networks import load_probe_network
from convapps.viz.top_patch_run import TopPatchesConfig, top_patches
from convapps.web.jobs import JobResult, Progress, Work
from convapps.web.settings import WebSettings
from convapps.web.state import FeatureHealth

MAX_UNITS = 32
"""Most units per layer a client may ask for."""

LAYER_CHOICES: tuple[tuple[str, str], ...] = (
    ("1-5", "layers 1 to 5"),
    *((str(i), f"layer {i} ({name})") for i, name in enumerate(get_network(DEFAULT_FEATURES_NETWORK).stages, start=1)),
)
"""Layer choices, labelled with the default network's stage names."""


@dataclass(frozen=True)
class VizOptions:
    """What a client may choose for a top-patches run."""

    network: str = DEFAULT_FEATURES_NETWORK
    layers: str = "1-5"
    units: int = 8
    unit_mode: str = "top"

    def config(self) -> TopPatchesConfig:
        try:
            network = get_network(self.network, role="features").name
        except NotFoundError as err:  # a bad form value, not a missing resource
            raise InvalidInputError(str(err)) from err
        if not 1 <= self.units <= MAX_UNITS:
            raise InvalidInputError(f"units must be between 1 and {MAX_UNITS}, got {self.units}")
        if self.unit_mode not in ("top", "random"):
            raise InvalidInputError(f"unit_mode must be 'top' or 'random', got {self.unit_mode!r}")
        return TopPatchesConfig(network=network, layers=self.layers, units=f"{self.unit_mode}:{self.units}")


class PatchViewer:
    """Loads the default probe network once; builds the job work of each run."""

    def __init__(self) -> None:
        self.model_id: str | None = None
        self.problem: str | None = None
        try:
            self.model_id = load_probe_network(DEFAULT_FEATURES_NETWORK).model_id
        except ConvappsError as err:
            self.problem = f"top-patches unavailable: {err}"

    def health(self) -> FeatureHealth:
        models = [("viz", self.model_id, True)] if self.model_id else []
        return FeatureHealth(
            available=self.problem is None, models=models, problems=[self.problem] if self.problem else []
        )

    def close(self) -> None:
        return None

    @staticmethod
    def options() -> dict[str, object]:
        return {
            "networks": list(network_names(role="features")),
            "layers": [{"value": v, "label": label} for v, label in LAYER_CHOICES],
            "default_layer": "1-5",
            "max_units": MAX_UNITS,
        }

    def work(self, images: list[NDArray[np.uint8]], config: TopPatchesConfig) -> Work:
        """The job function: run top-patches over the images, return one grid PNG per layer."""
        if self.problem:
            raise InvalidInputError(self.problem)
        network = load_probe_network(config.network)
        try:
            network.resolve_layers(config.layers)  # refuse unknown layers now, in the request
        except NotFoundError as err:  # a bad form value, not a missing resource
            raise InvalidInputError(str(err)) from err

        def run(progress: Progress) -> list[JobResult]:
            total = {"n": len(images)}
            done = {"n": 0}

            def on_batch(n: int) -> None:
                done["n"] += n
                progress(0.9 * done["n"] / max(1, total["n"]), f"{done['n']} of {total['n']} images")

            progress(0.0, "preparing images")
            with tempfile.TemporaryDirectory(prefix="convapps-viz-") as tmp:
                folder = Path(tmp)
                paths = [save_image(img, folder / "in" / f"image_{i:03d}.png") for i, img in enumerate(images)]
                report = top_patches(
                    paths,
                    folder / "out",
                    config=config,
                    network=network,
                    progress=on_batch,
                    on_total=lambda n: total.update(n=n),
                )
                progress(0.95, "drawing grids")
                return [
                    JobResult(
                        f"{layer.layer.name}.png",
                        "image/png",
                        layer.grid.read_bytes(),
                        caption=f"{layer.layer.label}: units " + ", ".join(str(u.unit) for u in layer.units),
                    )
                    for layer in report.layers
                    if layer.grid is not None
                ]

        return run


def build(settings: WebSettings) -> PatchViewer:
    return PatchViewer()
