"""Colour preservation for style transfer (Gatys et al., "Preserving color in neural artistic style transfer").

Images are float RGB ``(H, W, 3)`` in [0, 1].

* ``luminance``: transfer only the luminance. Content and style are turned into their luminance Y
  (YIQ), the style's Y is matched to the content's mean and standard deviation, the transfer runs on
  gray images, and the result's Y is combined with the content's I and Q (its colours).
* ``histogram``: the style image's colours are mapped by an affine transform so that their mean and
  covariance equal the content's (``x' = A (x - mu_S) + mu_C``, ``A = Sigma_C^1/2 Sigma_S^-1/2``), then the
  usual transfer runs: the result takes the photo's palette and the painting's strokes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatImage = NDArray[np.float32]

_RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]], dtype=np.float64
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(rgb: FloatImage) -> NDArray[np.float64]:
    """RGB ``(H, W, 3)`` -> YIQ ``(H, W, 3)`` (Y = luminance)."""
    return rgb.astype(np.float64) @ _RGB_TO_YIQ.T


def yiq_to_rgb(yiq: NDArray[np.float64]) -> FloatImage:
    """YIQ -> RGB, clipped to [0, 1]."""
    return np.clip(yiq @ _YIQ_TO_RGB.T, 0.0, 1.0).astype(np.float32)


def luminance_image(rgb: FloatImage) -> FloatImage:
    """The image's luminance Y repeated in 3 channels (a gray RGB image)."""
    y = rgb_to_yiq(rgb)[..., 0]
    return np.repeat(np.clip(y, 0, 1)[..., None], 3, axis=2).astype(np.float32)


def match_luminance(style: FloatImage, content: FloatImage) -> FloatImage:
    """Gray style image whose luminance has the content's mean and standard deviation."""
    y_s, y_c = rgb_to_yiq(style)[..., 0], rgb_to_yiq(content)[..., 0]
    matched = (y_s - y_s.mean()) * (y_c.std() / max(y_s.std(), 1e-6)) + y_c.mean()
    return np.repeat(np.clip(matched, 0, 1)[..., None], 3, axis=2).astype(np.float32)


def combine_luminance(result: FloatImage, content: FloatImage) -> FloatImage:
    """RGB image with the luminance of ``result`` and the colours (I, Q) of ``content`` (same size)."""
    yiq = rgb_to_yiq(content)
    yiq[..., 0] = rgb_to_yiq(result)[..., 0]
    return yiq_to_rgb(yiq)


def _sqrtm(cov: NDArray[np.float64], power: float) -> NDArray[np.float64]:
    values, vectors = np.linalg.eigh(cov)
    values = np.clip(values, 1e-8, None) ** power
    return (vectors * values) @ vectors.T


def match_color_histogram(style: FloatImage, content: FloatImage) -> FloatImage:
    """Style image recoloured so its RGB mean and covariance equal the content's (clipped to [0, 1])."""
    s = style.reshape(-1, 3).astype(np.float64)
    c = content.reshape(-1, 3).astype(np.float64)
    mu_s, mu_c = s.mean(0), c.mean(0)
    cov_s = np.cov(s, rowvar=False) + 1e-5 * np.eye(3)
    cov_c = np.cov(c, rowvar=False) + 1e-5 * np.eye(3)
    transform = _sqrtm(cov_c, 0.5) @ _sqrtm(cov_s, -0.5)
    out = (s - mu_s) @ transform.T + mu_c
    return np.clip(out, 0.0, 1.0).reshape(style.shape).astype(np.float32)
