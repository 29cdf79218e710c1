"""Safe image loading on real files generated in the test: every good and bad case of the issue."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin, PngImagePlugin

from convapps.errors import ImageTooLargeError, NotAnImageError, TruncatedImageError
from convapps.io.images import DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_PIXELS, load_image, save_image

from .png_files import write_blank_png, write_png


def noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF"])
def test_supported_formats_load_as_rgb_uint8(tmp_path: Path, fmt: str) -> None:
    pixels = noise(12, 20)
    path = tmp_path / f"img.{fmt.lower()}"
    Image.fromarray(pixels).save(path, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    out = load_image(path)
    assert out.shape == (12, 20, 3) and out.dtype == np.uint8
    if fmt != "JPEG":
        np.testing.assert_array_equal(out, pixels)


def _heic_bytes(pixels: np.ndarray) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="HEIF", quality=95)
    return out.getvalue()


def test_heic_phone_photos_load_as_rgb(tmp_path: Path) -> None:
    y, x = np.mgrid[0:64, 0:96]
    pixels = np.stack([x * 2, y * 3, x + y], axis=-1).astype(np.uint8)  # smooth: HEIC keeps it closely
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(_heic_bytes(pixels))
    out = load_image(path)
    assert out.shape == (64, 96, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - pixels).mean() < 3  # lossy, but the same picture
    assert load_image(path, max_side=48).shape == (32, 48, 3)


def test_truncated_heic_is_refused_in_one_line(tmp_path: Path) -> None:
    data = _heic_bytes(noise(64, 64))
    path = tmp_path / "cut.heic"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedImageError, match=r"cut\.heic: file is truncated") as info:
        load_image(path)
    assert "\n" not in str(info.value)


def test_format_is_sniffed_from_content_not_extension(tmp_path: Path) -> None:
    path = tmp_path / "actually_a_png.jpg"
    Image.fromarray(noise(5, 6)).save(path, format="PNG")
    assert load_image(path).shape == (5, 6, 3)


def test_text_file_named_jpg_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n")
    with pytest.raises(NotAnImageError, match=r"notes\.jpg: not an image") as info:
        load_image(path)
    assert "\n" not in str(info.value)


def test_empty_and_missing_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(NotAnImageError, match=r"empty\.png"):
        load_image(tmp_path / "empty.png")
    with pytest.raises(NotAnImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(NotAnImageError, match="directory"):
        load_image(tmp_path)


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    Image.fromarray(noise(4, 4)).save(path, format="GIF")
    with pytest.raises(NotAnImageError, match="GIF images are not supported"):
        load_image(path)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_refused(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"cut.{fmt.lower()}"
    Image.fromarray(noise(64, 64)).save(path, format=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedImageError, match=rf"cut\.{fmt.lower()}: file is truncated"):
        load_image(path)


def test_png_bomb_header_is_refused_before_decoding(tmp_path: Path) -> None:
    # Declares 30000 x 30000 (900 MP) but carries one row of data: decoding would need 2.7 GB.
    path = write_png(tmp_path / "bomb.png", 30000, 30000, 8, 2, b"\x00" + b"\x00" * 90000)
    with pytest.raises(ImageTooLargeError, match=r"bomb\.png"):
        load_image(path)


def test_header_over_default_limit_is_refused(tmp_path: Path) -> None:
    # 8000 x 8000 = 64 MP: under Pillow's own bomb threshold, over our 50 MP default.
    path = write_png(tmp_path / "64mp.png", 8000, 8000, 8, 2, b"\x00" * 24001)
    with pytest.raises(ImageTooLargeError, match=r"64mp.png: 8000x8000 = 64.0 MP exceeds the limit of 50.0 MP"):
        load_image(path)


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "ok.png"
    Image.fromarray(noise(100, 100)).save(path)
    assert load_image(path, max_pixels=10_000).shape == (100, 100, 3)
    with pytest.raises(ImageTooLargeError, match=r"100x100 = 0\.0 MP exceeds the limit"):
        load_image(path, max_pixels=9_999)


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, quality=95)  # pure red in CMYK
    out = load_image(path)
    assert out.shape == (16, 16, 3)
    r, g, b = out.reshape(-1, 3).mean(axis=0)
    assert r > 230 and g < 25 and b < 25


def test_16bit_grayscale_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257 * 128, 65535]], dtype=">u2")
    path = write_png(tmp_path / "gray16.png", 3, 1, 16, 0, b"\x00" + values.tobytes())
    out = load_image(path)
    assert out.shape == (1, 3, 3)
    np.testing.assert_array_equal(out[0, :, 0], [0, 128, 255])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


def test_16bit_rgb_png_keeps_colour(tmp_path: Path) -> None:
    row = np.array([[65535, 0, 0], [0, 32896, 65535]], dtype=">u2")
    path = write_png(tmp_path / "rgb16.png", 2, 1, 16, 2, b"\x00" + row.tobytes())
    out = load_image(path)
    np.testing.assert_array_equal(out[0], [[255, 0, 0], [0, 128, 255]])


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = (255, 0, 0)  # left half red
    pixels[:, 20:] = (0, 0, 255)  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    out = load_image(path)
    assert out.shape == (40, 20, 3)  # portrait once upright
    assert out[:15, :, 0].mean() > 200 and out[:15, :, 2].mean() < 50  # red on top
    assert out[25:, :, 2].mean() > 200 and out[25:, :, 0].mean() < 50  # blue at the bottom


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "I;16"])
def test_every_mode_converts_to_rgb(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"mode_{mode.replace(';', '')}.png"
    img = Image.new("RGBA", (8, 6), (10, 200, 30, 0)) if mode in ("RGBA", "LA") else Image.fromarray(noise(6, 8))
    img.convert(mode).save(path)
    out = load_image(path)
    assert out.shape == (6, 8, 3) and out.dtype == np.uint8
    if mode in ("RGBA", "LA"):
        np.testing.assert_array_equal(out, 255)  # fully transparent -> white background


def test_palette_with_transparency_composites_on_white(tmp_path: Path) -> None:
    img = Image.new("P", (4, 4), 0)
    img.putpalette([0, 0, 0, 255, 0, 0])
    img.putpixel((1, 1), 1)
    path = tmp_path / "palette.png"
    img.save(path, transparency=0)
    out = load_image(path)
    np.testing.assert_array_equal(out[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(out[1, 1], [255, 0, 0])


def test_downsizing_keeps_aspect_and_never_upsizes(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.fromarray(noise(300, 600)).save(path)
    assert load_image(path, max_side=150).shape == (75, 150, 3)
    assert load_image(path, max_side=1000).shape == (300, 600, 3)


def test_jpeg_is_decoded_at_reduced_scale_when_downsizing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "large.jpg"
    Image.fromarray(noise(1600, 2400)).save(path, quality=80)
    decoded_sizes: list[tuple[int, int]] = []
    original_load = JpegImagePlugin.JpegImageFile.load

    def recording_load(self: JpegImagePlugin.JpegImageFile):  # type: ignore[no-untyped-def]
        decoded_sizes.append(self.size)
        return original_load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", recording_load)
    out = load_image(path, max_side=300)
    assert out.shape == (200, 300, 3)
    assert decoded_sizes and max(decoded_sizes[0]) <= 600  # libjpeg decoded at 1/4 or 1/8 scale


def test_bytes_source_and_error_names(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    Image.fromarray(noise(3, 3)).save(path)
    assert load_image(path.read_bytes()).shape == (3, 3, 3)
    with pytest.raises(NotAnImageError, match=r"<uploaded image>: not an image"):
        load_image(b"GIF89a? no")
    with pytest.raises(NotAnImageError, match=r"^photo.jpg: not an image"):
        load_image(b"hello", name="photo.jpg")


def test_save_image_round_trip(tmp_path: Path) -> None:
    pixels = noise(7, 9)
    target = save_image(pixels, tmp_path / "sub" / "out.png")
    np.testing.assert_array_equal(load_image(target), pixels)


def test_byte_budget_counts_channels_and_bit_depth_from_the_header(tmp_path: Path) -> None:
    rgb8 = write_blank_png(tmp_path / "rgb8.png", 100, 100, 8, 2, 3)  # 30,000 bytes decoded
    rgb16 = write_blank_png(tmp_path / "rgb16.png", 100, 100, 16, 2, 3)  # 60,000 bytes decoded
    gray16 = write_blank_png(tmp_path / "gray16.png", 100, 100, 16, 0, 1)  # 20,000 bytes decoded
    assert load_image(rgb8, max_bytes=50_000).shape == (100, 100, 3)
    assert load_image(gray16, max_bytes=20_000).shape == (100, 100, 3)
    with pytest.raises(ImageTooLargeError, match=r"rgb16\.png: 100x100 with 3 channel\(s\) of 16 bits needs 0 MB"):
        load_image(rgb16, max_bytes=50_000)
    with pytest.raises(ImageTooLargeError, match=r"gray16\.png: .* 1 channel\(s\) of 16 bits"):
        load_image(gray16, max_bytes=19_999)
    assert DEFAULT_MAX_DECODED_BYTES == 4 * DEFAULT_MAX_PIXELS


def test_byte_budget_is_checked_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_blank_png(tmp_path / "wide16.png", 2000, 2000, 16, 6, 4)  # 32 MB decoded, a few KB on disk
    assert path.stat().st_size < 100_000
    decoded: list[str] = []
    original_load = PngImagePlugin.PngImageFile.load

    def recording_load(self: PngImagePlugin.PngImageFile):  # type: ignore[no-untyped-def]
        decoded.append(self.mode)
        return original_load(self)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", recording_load)
    with pytest.raises(ImageTooLargeError, match="32 MB to decode, over the limit of 30 MB"):
        load_image(path, max_bytes=30_000_000)
    assert decoded == []


@pytest.mark.parametrize("max_side", [None, 1000])
def test_16bit_image_is_converted_without_a_wide_copy(tmp_path: Path, max_side: int | None) -> None:
    path = write_blank_png(tmp_path / "gray16.png", 3000, 3000, 16, 0, 1)
    tracemalloc.start()
    try:
        out = load_image(path, max_side=max_side)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    side = max_side or 3000
    assert out.shape == (side, side, 3) and out.dtype == np.uint8
    # a float64 copy of the whole image alone would be 8 bytes per pixel (72 MB)
    assert peak < 2.5 * out.nbytes + 3000 * 3000 * 2, peak


def test_high_bit_conversion_keeps_values_and_orientation(tmp_path: Path) -> None:
    values = (np.arange(60 * 40, dtype=np.uint32).reshape(40, 60) * 27).astype(np.uint16)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "gray16.png"
    Image.fromarray(values).save(path, exif=exif)
    out = load_image(path)
    expected = np.clip(np.rint(values.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out[..., 0], np.rot90(expected, k=-1))
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    floats = tmp_path / "float.tif"
    Image.fromarray(np.linspace(-1.0, 3.0, 12, dtype=np.float32).reshape(3, 4)).save(floats)
    np.testing.assert_array_equal(load_image(floats)[..., 1].ravel()[[0, 11]], [0, 255])
