"""What ConvNet units respond to: the top-9 image patches of units in layers 1 to 5 (Zeiler & Fergus).

    from convapps import viz
    report = viz.top_patches("photos/", "out/viz", config=viz.TopPatchesConfig(layers="1,5", units="random:6"))
    report.html                                             # open it: every layer side by side

Networks come from the registry in :mod:`convapps.models` (weights shipped in installed packages).
Importing this package is cheap; torch loads when a function is first used.
"""

from convapps.lazy_exports import lazy_exports

_EXPORTS = {
    "TopPatchesConfig": "convapps.viz.top_patch_run",
    "TopPatchesReport": "convapps.viz.top_patch_run",
    "top_patches": "convapps.viz.top_patch_run",
    "load_probe_network": "convapps.viz.networks",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
