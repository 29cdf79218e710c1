"""Image sizes style transfer can work with (no torch needed to read them: the service shows them)."""

MIN_SIDE = 32
"""Smallest side of a content or style image, and of G at full size (relu5_1 sees it at 1/16: 2 positions)."""
MIN_SCALE_SIDE = 24
"""Smallest side of G at a coarse scale; smaller scales are dropped from the schedule."""
MAX_ASPECT = 8.0
"""Content or style images more elongated than 8:1 are refused."""
