"""Camera frames for the live tests: an LFW photo pasted on a plain background, moving slightly, as RGB
frames, JPEG bytes for the WebSocket, or a YUV4MPEG2 (.y4m) clip for Chromium's fake camera
(``--use-file-for-fake-video-capture``, which loops the clip)."""

from __future__ import annotations

import io
import math
import struct
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

WIDTH, HEIGHT = 640, 360
BACKGROUND = (96, 112, 128)


def camera_frame(
    photo: Path, *, dx: int = 0, dy: int = 0, face_side: int = 300, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> NDArray[np.uint8]:
    """``photo`` scaled to ``face_side`` pixels, pasted at the centre of a plain frame moved by (dx, dy)."""
    width, height = size
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    with Image.open(photo) as img:
        pasted = img.convert("RGB").resize((face_side, face_side), Image.Resampling.BILINEAR)
    canvas.paste(pasted, ((width - face_side) // 2 + dx, (height - face_side) // 2 + dy))
    return np.asarray(canvas)


def moving_frames(photo: Path, *, n: int, amplitude: int = 12) -> list[NDArray[np.uint8]]:
    """``n`` frames of ``photo`` drifting on a small circle of ``amplitude`` pixels."""
    return [
        camera_frame(
            photo,
            dx=round(amplitude * math.cos(2 * math.pi * i / n)),
            dy=round(amplitude * math.sin(2 * math.pi * i / n) / 2),
        )
        for i in range(n)
    ]


def jpeg(rgb: NDArray[np.uint8], quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def frame_message(seq: int, data: bytes, client_ms: float = 0.0) -> bytes:
    """A binary frame of the live protocol: seq (uint32) and client_ms (float64), big-endian, then the image."""
    return struct.pack(">Id", seq, client_ms) + data


def _i420(rgb: NDArray[np.uint8]) -> bytes:
    """Full-range BT.601 Y, then U and V subsampled 2x2 (what ``C420jpeg`` means)."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = 128 + (b - y) * 0.564
    v = 128 + (r - y) * 0.713

    def sub(plane: NDArray[np.float32]) -> NDArray[np.float32]:
        h, w = plane.shape
        return plane[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    planes = (y, sub(u), sub(v))
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def write_y4m(path: Path, frames: list[NDArray[np.uint8]], *, fps: int = 10) -> Path:
    """Write RGB frames (all of one even size) as an uncompressed YUV4MPEG2 clip."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            fh.write(b"FRAME\n" + _i420(rgb))
    return path


def fake_camera_clip(photo: Path, path: Path, *, seconds: float = 2.0, fps: int = 10) -> Path:
    """A 640x360 clip of ``photo`` moving slightly, ``seconds`` long, for Chromium's fake camera."""
    return write_y4m(path, moving_frames(photo, n=max(1, round(seconds * fps))), fps=fps)
