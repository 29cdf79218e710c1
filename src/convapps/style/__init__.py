"""Neural style transfer use case: paint a photo in the style of one or more paintings.

    from convapps.style import StyleConfig, preset, stylize
    result = stylize(photo_rgb, [painting_rgb], preset("preview").replace(beta=6))
    result.image, result.final.style, result.initial.style
"""

from convapps.style.config import PRESETS, StyleConfig, preset
from convapps.style.files import stylize_files
from convapps.style.transfer import StyleResult, stylize

__all__ = ["PRESETS", "StyleConfig", "StyleResult", "preset", "stylize", "stylize_files"]
