"""Limits of the service's style jobs, read by the jobs route, the options route and the UI (torch-free)."""

from __future__ import annotations

import math

from convapps.style.limits import MAX_ASPECT, MIN_SIDE

MIN_SIZE = MIN_SIDE
"""Smallest long side of a generated image the service accepts (the short side is raised to it too,
see :func:`fit_to_content`)."""
MAX_SIZE = 1024
"""Largest long side of a generated image the service accepts."""
MAX_STEPS = 1000
"""Most optimiser steps per scale the service accepts."""
MAX_STYLE_WEIGHT = 1000.0
"""Largest beta (relative to alpha = 1) the service accepts; useful values lie between 0.5 and 10."""
DECODE_SIDE = math.ceil(MIN_SIDE * MAX_ASPECT)
"""Uploads are decoded with a long side of at least this, so that an image as elongated as the library
accepts (8:1) keeps a short side of MIN_SIDE pixels whatever the requested size."""
