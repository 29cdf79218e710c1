"""The live camera protocol of ``/api/live``: limits, frame messages and the JSON replies.

One WebSocket per camera session; every message from the server is JSON with a ``type``:

1. The client authenticates first: its first message is the text ``{"type": "hello", "key": "cvk_..."}``
   (clients that can set headers may send ``Authorization: Bearer cvk_...`` or ``X-API-Key`` on the
   upgrade request instead). The server answers ``{"type": "ready", "protocol": 1, "key_name": ...,
   "max_frame_bytes": ..., "max_side": ...}``, or closes with code 4401 (missing or wrong key) or 4429
   (too many wrong keys from this address) and the reason.
2. Then each camera frame is one binary message: a 12-byte header, then the image (JPEG; PNG and WebP
   are read too)::

       bytes 0-3    seq        uint32, big-endian: the client's frame number, echoed in the reply
       bytes 4-11   client_ms  float64, big-endian: the client's clock when it sent the frame, echoed
       bytes 12-    the encoded image, at most ``max_frame_bytes``, at most ``max_side`` px on each side

3. The server answers every frame, in order, with ``{"type": "result", "seq": n, "client_ms": t,
   "server_ms": ms, ...FrameResult.to_dict()}`` (faces with track ids, boxes and labels; ``server_ms`` is
   the time spent decoding and recognising), or with ``{"type": "error", "seq": n, "error": {"type",
   "message", "status"}}`` for a frame it refused (too large, not an image, models busy); the session
   goes on after an error. A client keeps one frame in flight (sends the next when the reply arrived),
   so latency stays bounded; frames are read only when the previous one is answered.

Close codes: 1000 normal (also after the client's ``{"type": "bye"}``), 4401 (also when the first
message is not a hello with a key) and 4429 as above, 4408 nothing received for ``idle_timeout_s``, 4503
the face models are unavailable or the service already runs ``max_sessions`` live sessions, 1011 an
unexpected server error (logged on the server).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convapps.errors import ConvappsError, ImageTooLargeError, InvalidInputError
from convapps.io.images import load_image
from convapps.web.errors import ServiceBusyError, UploadTooLargeError, error_body
from convapps.web.settings import WebSettings
from convapps.web.uploads import decode_gate

PROTOCOL = 1
HEADER = struct.Struct(">Id")
"""``seq`` (uint32) and ``client_ms`` (float64), big-endian, in front of every frame's image bytes."""

CLOSE_NORMAL = 1000
CLOSE_INTERNAL = 1011
CLOSE_UNAUTHORIZED = 4401
CLOSE_IDLE = 4408
CLOSE_TOO_MANY = 4429
CLOSE_UNAVAILABLE = 4503


@dataclass(frozen=True)
class LiveLimits:
    """Bounds of one live session.

    Attributes:
        max_frame_bytes: largest encoded frame (2 MiB); larger ones get an error reply.
        max_side: largest frame width or height in pixels (1920); larger ones get an error reply.
        hello_timeout_s: the hello must arrive within this many seconds of connecting.
        idle_timeout_s: a session that sends nothing for this long is closed (4408).
        max_sessions: live sessions the service runs at once; more are closed with 4503.
        recheck_key_s: the API key is looked up again after this many seconds, so a revoked key ends
            the session (4401).
    """

    max_frame_bytes: int = 2 * 1024 * 1024
    max_side: int = 1920
    hello_timeout_s: float = 10.0
    idle_timeout_s: float = 60.0
    max_sessions: int = 4
    recheck_key_s: float = 30.0


@dataclass(frozen=True)
class Frame:
    """One binary frame message: its number, the client's timestamp and the encoded image."""

    seq: int
    client_ms: float
    data: bytes


def parse_frame(message: bytes, limits: LiveLimits) -> Frame:
    """Split a binary message into header and image; InvalidInputError when shorter than the header,
    UploadTooLargeError when the image is over ``limits.max_frame_bytes``."""
    if len(message) <= HEADER.size:
        raise InvalidInputError(
            f"a frame is a {HEADER.size}-byte header (seq, client_ms) followed by an image; got {len(message)} bytes"
        )
    seq, client_ms = HEADER.unpack_from(message)
    data = message[HEADER.size :]
    if len(data) > limits.max_frame_bytes:
        raise UploadTooLargeError(
            f"frame {seq} is {len(data) / 1e6:.1f} MB; the limit is {limits.max_frame_bytes / 1e6:.1f} MB"
        )
    return Frame(seq=seq, client_ms=client_ms, data=data)


def frame_seq(message: bytes) -> int | None:
    """The frame number of a binary message, when it has a whole header."""
    return int(HEADER.unpack_from(message)[0]) if len(message) >= HEADER.size else None


def decode_frame(frame: Frame, limits: LiveLimits, settings: WebSettings) -> NDArray[np.uint8]:
    """The frame as RGB uint8 ``(H, W, 3)``. The pixel count is checked from the header before decoding
    (at most ``max_side`` squared), the sides after; decodes share the service's decoder gate."""
    gate = decode_gate(settings)
    if not gate.acquire(timeout=settings.decode_wait_s):
        raise ServiceBusyError(f"{settings.max_decodes} images are being decoded (the limit); try again shortly")
    try:
        square = limits.max_side * limits.max_side
        rgb = load_image(frame.data, max_pixels=square, max_bytes=4 * square, name=f"frame {frame.seq}")
    finally:
        gate.release()
    height, width = rgb.shape[:2]
    if max(height, width) > limits.max_side:
        raise ImageTooLargeError(f"frame {frame.seq} is {width}x{height}; the limit is {limits.max_side} px a side")
    return rgb


def error_message(err: ConvappsError, seq: int | None) -> dict[str, Any]:
    """The JSON reply for a refused frame or message; the session goes on."""
    return {"type": "error", "seq": seq, **error_body(err.http_status, type(err).__name__, str(err))}


def hello_key(text: str) -> str | None:
    """The API key of a hello message, or None when ``text`` is not a hello with a key."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("type") != "hello":
        return None
    key = message.get("key")
    return key.strip() if isinstance(key, str) and key.strip() else None


def is_bye(text: str) -> bool:
    """True for ``{"type": "bye"}``: the client ends the session."""
    try:
        message = json.loads(text)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("type") == "bye"
