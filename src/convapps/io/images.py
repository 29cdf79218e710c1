"""Safe image loading, used by every part of convapps that reads a picture.

``load_image`` accepts JPEG, PNG, WebP, BMP and TIFF (recognised by content, never by extension),
applies the EXIF orientation, converts every pixel mode (grayscale, palette, RGBA, CMYK, 16-bit) to
RGB uint8 ``(H, W, 3)``, and refuses with a one-line :class:`~convapps.errors.ImageError` naming the file:
non-images, truncated files and images over a pixel limit (decompression bombs; the limit is checked
from the header, before any pixel is decoded). With ``max_side`` it downsizes, and JPEGs are decoded
directly at a reduced scale (libjpeg's DCT scaling), so no more than needed is ever held in memory.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from convapps.errors import ImageTooLargeError, InvalidInputError, NotAnImageError, TruncatedImageError

DEFAULT_MAX_PIXELS = 50_000_000
"""Default pixel limit (50 MP): larger images are refused as possible decompression bombs."""

SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF"})
"""PIL format names accepted (MPO is the multi-picture JPEG written by many cameras)."""

ImageSource = str | Path | bytes | BinaryIO


def _describe(source: ImageSource, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, str | Path):
        return str(source)
    return "<uploaded image>"


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, bytes):
        return Image.open(io.BytesIO(source))
    if isinstance(source, str | Path):
        return Image.open(Path(source))
    return Image.open(source)


def _to_rgb(img: Image.Image) -> NDArray[np.uint8]:
    """Convert any PIL mode to RGB uint8, scaling high bit depths and compositing alpha on white."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr16 = np.asarray(img, dtype=np.float64)
        gray = np.clip(np.rint(arr16 / 257.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "F":
        arrf = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.min(arrf)), float(np.max(arrf))
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        gray = np.clip(np.rint((arrf - lo) * scale), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def load_image(
    source: ImageSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
    name: str | None = None,
) -> NDArray[np.uint8]:
    """Read an image as RGB uint8 of shape ``(H, W, 3)``, upright per its EXIF orientation.

    Args:
        source: a path, raw bytes or a binary file object.
        max_pixels: refuse images with more pixels than this (checked before decoding).
        max_side: if set, downsize so that the longer side is at most this (never upsizes).
        name: how to name the image in errors (default: the path, or ``<uploaded image>``).

    Raises:
        NotAnImageError: not an image, or a format other than JPEG/PNG/WebP/BMP/TIFF.
        TruncatedImageError: the file ends before its pixel data does.
        ImageTooLargeError: more than ``max_pixels`` pixels.
    """
    label = _describe(source, name)
    if max_side is not None and max_side < 1:
        raise InvalidInputError(f"max_side must be >= 1, got {max_side}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = _open(source)
    except FileNotFoundError as err:
        raise NotAnImageError(f"{label}: no such file") from err
    except IsADirectoryError as err:
        raise NotAnImageError(f"{label}: is a directory, not an image") from err
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
        if isinstance(err, Image.DecompressionBombWarning | Image.DecompressionBombError):
            raise ImageTooLargeError(f"{label}: image is too large to read safely ({err})") from err
        raise NotAnImageError(f"{label}: not an image (or an unsupported format)") from err
    except OSError as err:
        raise NotAnImageError(f"{label}: cannot be read ({err})") from err
    with img:
        return _decode(img, label, max_pixels=max_pixels, max_side=max_side)


def _decode(img: Image.Image, label: str, *, max_pixels: int, max_side: int | None) -> NDArray[np.uint8]:
    if img.format not in SUPPORTED_FORMATS:
        raise NotAnImageError(f"{label}: {img.format} images are not supported (use JPEG, PNG, WebP, BMP or TIFF)")
    width, height = img.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{label}: {width}x{height} = {width * height / 1e6:.1f} MP exceeds the limit of {max_pixels / 1e6:.1f} MP"
        )
    if width < 1 or height < 1:
        raise NotAnImageError(f"{label}: image has no pixels ({width}x{height})")
    if max_side is not None and max(width, height) > max_side and img.format in ("JPEG", "MPO"):
        scale = max_side / max(width, height)
        img.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
    try:
        img.load()
    except OSError as err:
        if "truncated" in str(err).lower() or "broken data stream" in str(err).lower():
            raise TruncatedImageError(f"{label}: file is truncated (incomplete image data)") from err
        raise NotAnImageError(f"{label}: image data cannot be decoded ({err})") from err
    except (ValueError, SyntaxError) as err:
        raise NotAnImageError(f"{label}: image data cannot be decoded ({err})") from err
    upright = ImageOps.exif_transpose(img)
    if max_side is not None and max(upright.size) > max_side:
        scale = max_side / max(upright.size)
        size = (max(1, round(upright.width * scale)), max(1, round(upright.height * scale)))
        if upright.mode not in ("RGB", "RGBA", "L", "LA"):
            return _to_rgb_resized(upright, size)
        upright = upright.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _to_rgb(upright)


def _to_rgb_resized(img: Image.Image, size: tuple[int, int]) -> NDArray[np.uint8]:
    rgb = Image.fromarray(_to_rgb(img))
    return np.ascontiguousarray(np.asarray(rgb.resize(size, Image.Resampling.LANCZOS), dtype=np.uint8))


def save_image(pixels: NDArray[np.uint8], path: str | Path) -> Path:
    """Write an RGB uint8 ``(H, W, 3)`` array; the format follows the suffix (PNG, JPEG, WebP...)."""
    target = Path(path)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise InvalidInputError(f"expected an RGB uint8 (H, W, 3) array, got {pixels.dtype} {pixels.shape}")
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        Image.fromarray(pixels).save(target)
    except (KeyError, ValueError) as err:
        raise InvalidInputError(f"{target}: cannot write an image with this suffix ({err})") from err
    return target
