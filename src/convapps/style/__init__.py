"""Neural style transfer use case: paint a photo in the style of one or more paintings.

    from convapps import style
    result = style.stylize(photo_rgb, [painting_rgb], style.preset("preview"))
    result.image, result.final.style, result.initial.style
    style.stylize_files("photo.jpg", ["starry.jpg"], "out/starry.png")   # files in, PNG + JSON sidecar out

Importing this package is cheap; torch and the VGG weights load when a function is first used.
"""

from convapps.lazy_exports import lazy_exports

_EXPORTS = {
    "PRESETS": "convapps.style.config",
    "StyleConfig": "convapps.style.config",
    "preset": "convapps.style.config",
    "StyleResult": "convapps.style.transfer",
    "stylize": "convapps.style.transfer",
    "stylize_files": "convapps.style.files",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
