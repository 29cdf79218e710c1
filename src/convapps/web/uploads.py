"""Uploads: request-size limits enforced while the body streams in, and images read by content.

Clients send files only; the service never opens a path or fetches a URL a client names. A file's name
is used only as a label in error messages (reduced to its last component and printable characters).
Decoding is bounded twice: each image by pixels and by decoded bytes (from its header, before decoding),
and the process by how many images are decoded at once (a request that finds every decoder busy for
``decode_wait_s`` gets 503 with ``Retry-After``).
"""

from __future__ import annotations

import json
import threading

import numpy as np
from fastapi import UploadFile
from numpy.typing import NDArray
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convapps.errors import InvalidInputError
from convapps.io.images import load_image
from convapps.web.errors import BodyTooLargeHTTPError, ServiceBusyError, UploadTooLargeError, error_body
from convapps.web.settings import WebSettings


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413: at once from ``Content-Length``, else as
    soon as the streamed body (e.g. chunked) passes the limit."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLargeHTTPError(f"request body exceeds the limit of {_mib(self.limit)}")
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, send: Send) -> None:
        message = f"request body exceeds the limit of {_mib(self.limit)}"
        body = json.dumps(error_body(413, "UploadTooLargeError", message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def upload_label(upload: UploadFile) -> str:
    """A safe, short label for an uploaded file (its base name, printable characters only)."""
    raw = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(ch for ch in raw if ch.isprintable())[:80]
    return f"upload {clean!r}" if clean else "uploaded image"


def read_upload(upload: UploadFile, settings: WebSettings) -> bytes:
    """The bytes of one uploaded file, refused when over ``settings.max_upload_bytes``."""
    limit = settings.max_upload_bytes
    if upload.size is not None and upload.size > limit:
        raise UploadTooLargeError(f"{upload_label(upload)} is {_mib(upload.size)}; the limit is {_mib(limit)}")
    upload.file.seek(0)
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLargeError(f"{upload_label(upload)} is larger than the limit of {_mib(limit)}")
    if not data:
        raise InvalidInputError(f"{upload_label(upload)} is empty")
    return data


_gates: dict[int, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


def decode_gate(settings: WebSettings) -> threading.BoundedSemaphore:
    """The semaphore that admits at most ``settings.max_decodes`` decodes at once in this process
    (memory is per process, so apps with the same limit share it)."""
    with _gates_lock:
        return _gates.setdefault(settings.max_decodes, threading.BoundedSemaphore(settings.max_decodes))


def read_image(upload: UploadFile, settings: WebSettings, *, max_side: int | None = None) -> NDArray[np.uint8]:
    """Decode an uploaded image (format sniffed from its bytes) as RGB uint8 ``(H, W, 3)``.

    Raises ``UploadTooLargeError`` (413), ``NotAnImageError`` (415), ``ImageTooLargeError`` (413 over
    ``settings.max_pixels`` or ``settings.max_image_bytes``), ``ServiceBusyError`` (503 when every
    decoder stays busy for ``settings.decode_wait_s``).
    """
    data = read_upload(upload, settings)
    gate = decode_gate(settings)
    if not gate.acquire(timeout=settings.decode_wait_s):
        raise ServiceBusyError(f"{settings.max_decodes} images are being decoded (the limit); try again shortly")
    try:
        return load_image(
            data,
            max_pixels=settings.max_pixels,
            max_bytes=settings.max_image_bytes,
            max_side=max_side,
            name=upload_label(upload),
        )
    finally:
        gate.release()


def check_file_count(uploads: list[UploadFile], settings: WebSettings) -> None:
    """Refuse requests with more files than ``settings.max_files``."""
    if len(uploads) > settings.max_files:
        raise InvalidInputError(f"{len(uploads)} files sent; at most {settings.max_files} per request")
