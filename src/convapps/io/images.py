"""Safe image loading, used by every part of convapps that reads a picture.

``load_image`` accepts JPEG, PNG, WebP, BMP, TIFF and HEIC/HEIF (phone photos; through the
``pillow-heif`` wheel, registered on first use) recognised by content, never by extension, and
applies the EXIF orientation, converts every pixel mode (grayscale, palette, RGBA, CMYK, 16-bit) to
RGB uint8 ``(H, W, 3)``, and refuses with a one-line :class:`~convapps.errors.ImageError` naming the file:
non-images, truncated files and images over a pixel limit or a byte budget (decompression bombs: both
limits are checked from the header, before any pixel is decoded; the byte budget counts width x height x
channels x bytes per sample, so a small 16-bit file of many megapixels is refused before it costs memory).
High bit depths (16-bit, 32-bit integer, float) are reduced to 8 bits right after decoding, a strip of rows
at a time, so no wide copy of the whole image is ever made. With ``max_side`` it downsizes, and JPEGs are
decoded directly at a reduced scale (libjpeg's DCT scaling), so no more than needed is held in memory.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from convapps.errors import ImageTooLargeError, InvalidInputError, NotAnImageError, TruncatedImageError

DEFAULT_MAX_PIXELS = 50_000_000
"""Default pixel limit (50 MP): larger images are refused as possible decompression bombs."""

DEFAULT_MAX_DECODED_BYTES = 200_000_000
"""Default byte budget of one decoded image (200 MB: 50 MP of 8-bit RGBA), counted from the header as
width x height x channels x bytes per sample; larger images are refused before decoding."""

HIGH_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
"""PIL modes with more than 8 bits per sample; reduced to 8-bit gray right after decoding."""

_MODE_SAMPLE_BYTES = {"I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2, "I": 4, "F": 4}
_STRIP_PIXELS = 1 << 18  # high-bit images are converted about a quarter megapixel at a time
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "HEIF"})
"""PIL format names accepted (MPO is the multi-picture JPEG written by many cameras; HEIF holds HEIC)."""

ImageSource = str | Path | bytes | BinaryIO


def _describe(source: ImageSource, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, str | Path):
        return str(source)
    return "<uploaded image>"


@functools.cache
def _register_heif() -> None:
    """Teach PIL to open HEIC/HEIF (once per process; a no-op when pillow-heif is missing)."""
    try:
        from pillow_heif import register_heif_opener  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        return
    register_heif_opener(thumbnails=False)


def _open(source: ImageSource) -> Image.Image:
    _register_heif()
    if isinstance(source, bytes):
        return Image.open(io.BytesIO(source))
    if isinstance(source, str | Path):
        return Image.open(Path(source))
    return Image.open(source)


def _to_rgb(img: Image.Image) -> NDArray[np.uint8]:
    """Convert an 8-bit PIL mode to RGB uint8, compositing alpha on white."""
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def _gray_strip(values: NDArray[np.float64], mode: str, lo: float, scale: float) -> NDArray[np.uint8]:
    if mode == "F":
        return np.clip(np.rint((values - lo) * scale), 0, 255).astype(np.uint8)
    return np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)


def _high_bit_to_gray(img: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit integer or float image as 8-bit gray (mode ``L``), a strip of rows at a time.

    Integers are scaled by 1/257 (65535 -> 255, values beyond clipped); floats are stretched from their
    minimum to their maximum. Only one strip is ever held in a wide type."""
    width, height = img.size
    lo, scale = 0.0, 0.0
    if img.mode == "F":
        extrema = img.getextrema()
        lo, hi = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
    out = np.empty((height, width), dtype=np.uint8)
    rows = max(1, _STRIP_PIXELS // width)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strip = np.asarray(img.crop((0, top, width, bottom)), dtype=np.float64)
        out[top:bottom] = _gray_strip(strip, img.mode, lo, scale)
    gray = Image.fromarray(out)
    method = _TRANSPOSE.get(int(img.getexif().get(ExifTags.Base.Orientation, 1) or 1))
    return gray.transpose(method) if method is not None else gray


def _rawmode(img: Image.Image) -> str | None:
    """How the file stores its pixels (e.g. ``RGB;16B``), from the first tile of the header."""
    if not isinstance(img, ImageFile.ImageFile) or not img.tile:
        return None
    args = img.tile[0].args
    raw = args[0] if isinstance(args, tuple) and args else args
    return raw if isinstance(raw, str) else None


def header_bytes_per_pixel(img: Image.Image) -> tuple[int, int]:
    """``(channels, bytes per sample)`` of an opened, not yet decoded image, as its header declares."""
    channels, sample = len(img.getbands()), _MODE_SAMPLE_BYTES.get(img.mode, 1)
    raw = _rawmode(img)
    if raw is not None:
        base, _, packing = raw.partition(";")
        try:
            channels = Image.getmodebands(base)
        except (KeyError, ValueError):
            return channels, sample  # a packed layout (BGR;16, BGRX...): trust the decoded mode
        bits = re.match(r"\d+", packing)
        if bits is not None:
            sample = max(sample, int(bits.group()) // 8)
    return channels, sample


def load_image(
    source: ImageSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    max_side: int | None = None,
    name: str | None = None,
) -> NDArray[np.uint8]:
    """Read an image as RGB uint8 of shape ``(H, W, 3)``, upright per its EXIF orientation.

    Args:
        source: a path, raw bytes or a binary file object.
        max_pixels: refuse images with more pixels than this (checked before decoding).
        max_bytes: refuse images whose decoded size, width x height x channels x bytes per sample as the
            header declares, is more than this (checked before decoding).
        max_side: if set, downsize so that the longer side is at most this (never upsizes).
        name: how to name the image in errors (default: the path, or ``<uploaded image>``).

    Raises:
        NotAnImageError: not an image, or a format other than JPEG/PNG/WebP/BMP/TIFF/HEIC.
        TruncatedImageError: the file ends before its pixel data does.
        ImageTooLargeError: more than ``max_pixels`` pixels or ``max_bytes`` decoded bytes.
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
        return _decode(img, label, max_pixels=max_pixels, max_bytes=max_bytes, max_side=max_side)


def _check_size(img: Image.Image, label: str, *, max_pixels: int, max_bytes: int) -> None:
    width, height = img.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{label}: {width}x{height} = {width * height / 1e6:.1f} MP exceeds the limit of {max_pixels / 1e6:.1f} MP"
        )
    channels, sample = header_bytes_per_pixel(img)
    needed = width * height * channels * sample
    if needed > max_bytes:
        raise ImageTooLargeError(
            f"{label}: {width}x{height} with {channels} channel(s) of {8 * sample} bits needs "
            f"{needed / 1e6:.0f} MB to decode, over the limit of {max_bytes / 1e6:.0f} MB"
        )


def _decode(
    img: Image.Image, label: str, *, max_pixels: int, max_bytes: int, max_side: int | None
) -> NDArray[np.uint8]:
    if img.format not in SUPPORTED_FORMATS:
        raise NotAnImageError(
            f"{label}: {img.format} images are not supported (use JPEG, PNG, WebP, BMP, TIFF or HEIC)"
        )
    _check_size(img, label, max_pixels=max_pixels, max_bytes=max_bytes)
    width, height = img.size
    if width < 1 or height < 1:
        raise NotAnImageError(f"{label}: image has no pixels ({width}x{height})")
    if max_side is not None and max(width, height) > max_side and img.format in ("JPEG", "MPO"):
        scale = max_side / max(width, height)
        img.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
    try:
        img.load()
    except (OSError, ValueError, SyntaxError) as err:
        reason = " ".join(str(err).split())  # one line, whatever the decoder said
        if any(cut in reason.lower() for cut in ("truncated", "broken data stream", "end of file")):
            raise TruncatedImageError(f"{label}: file is truncated (incomplete image data)") from err
        raise NotAnImageError(f"{label}: image data cannot be decoded ({reason})") from err
    high_bit = img.mode in HIGH_BIT_MODES
    upright = _high_bit_to_gray(img) if high_bit else ImageOps.exif_transpose(img)
    if max_side is not None and max(upright.size) > max_side:
        scale = max_side / max(upright.size)
        size = (max(1, round(upright.width * scale)), max(1, round(upright.height * scale)))
        if high_bit or upright.mode not in ("RGB", "RGBA", "L", "LA"):
            return _to_rgb_resized(upright, size)
        upright = upright.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _to_rgb(upright)


def _to_rgb_resized(img: Image.Image, size: tuple[int, int]) -> NDArray[np.uint8]:
    if img.mode == "L":  # gray from a high bit depth: resize before tripling the channels
        return _to_rgb(img.resize(size, Image.Resampling.LANCZOS))
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
