"""Errors of the web layer and the one place where every error becomes a JSON response.

Every error body has the same shape, ``{"error": {"type": "...", "message": "...", "status": 4xx}}``.
Library errors keep their one-line message and map through ``ConvappsError.http_status``; anything
unexpected becomes a 500 with a generic message (the traceback goes to the server log only). Messages
never show server paths: the state folder, the gallery file and any other absolute path are replaced by
plain words. Every 429 and 503 carries ``Retry-After``.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from convapps.errors import ConvappsError, ImageError

log = logging.getLogger("convapps.web")


class AuthenticationError(ConvappsError):
    """No API key, or an unknown or revoked one."""

    http_status = 401


class UploadTooLargeError(ImageError):
    """An uploaded file or request body is larger than the service accepts."""

    http_status = 413


class BodyTooLargeHTTPError(StarletteHTTPException):
    """Raised while a request body streams in past the limit (an HTTPException, so FastAPI's body
    parsing lets it through unchanged); rendered like :class:`UploadTooLargeError`."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)


DEFAULT_RETRY_AFTER_S = 5
"""Seconds in ``Retry-After`` when a 429 or 503 does not say otherwise."""


class ServiceBusyError(ConvappsError):
    """The service is at capacity (job queue, image decoders, face models); try again shortly."""

    http_status = 503

    def __init__(self, message: str, *, retry_after_s: float = DEFAULT_RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooManyRequestsError(ConvappsError):
    """This key or client asked for more than its share (job quota, failed key attempts)."""

    http_status = 429

    def __init__(self, message: str, *, retry_after_s: float = DEFAULT_RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


_URL_OR_PATH = re.compile(r"""(?<![\w.~/-])(?:[a-z][a-z0-9+.-]*://)?(?:[A-Za-z]:)?[/\\]+[^\s'"`,;():]*""")
_GALLERY_PATH = re.compile(r"\bgallery a server file")


def redact_paths(message: str, roots: tuple[str, ...] = ()) -> str:
    """``message`` without server paths: ``roots`` (e.g. the state folder) and any absolute path or file
    URL become plain words ("the gallery", "a server file"). API routes (``/api/...``) are kept."""
    for root in sorted({r for r in roots if len(r) > 1}, key=len, reverse=True):
        message = message.replace(root, "/server")

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith(("/api/", "/static/")) or text in ("/", "//"):
            return text
        return "a server file" + text[len(text.rstrip(".")) :]

    return _GALLERY_PATH.sub("the gallery", _URL_OR_PATH.sub(replace, message))


def retry_after(seconds: float) -> dict[str, str]:
    """The ``Retry-After`` header for ``seconds`` (whole seconds, at least 1)."""
    return {"Retry-After": str(max(1, int(seconds + 0.999)))}


def error_body(status: int, kind: str, message: str) -> dict[str, dict[str, str | int]]:
    """The JSON body of every error response."""
    return {"error": {"type": kind, "message": message, "status": status}}


def error_response(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response that is never cached."""
    merged = {"Cache-Control": "no-store", **(headers or {})}
    if status in (429, 503) and not any(k.lower() == "retry-after" for k in merged):
        merged.update(retry_after(DEFAULT_RETRY_AFTER_S))
    return JSONResponse(error_body(status, kind, message), status_code=status, headers=merged)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI, *, private_paths: tuple[str, ...] = ()) -> None:
    """Map library errors, HTTP errors, validation errors and crashes to the JSON error shape;
    ``private_paths`` (and any other absolute path) never appear in a message."""

    @app.exception_handler(ConvappsError)
    async def _convapps(request: Request, exc: ConvappsError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else {}
        wait = getattr(exc, "retry_after_s", None)
        if wait is not None:
            headers.update(retry_after(wait))
        message = redact_paths(str(exc), private_paths)
        return error_response(exc.http_status, type(exc).__name__, message, headers)

    @app.exception_handler(BodyTooLargeHTTPError)
    async def _too_large(request: Request, exc: BodyTooLargeHTTPError) -> JSONResponse:
        return error_response(413, "UploadTooLargeError", str(exc.detail), {"Connection": "close"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = redact_paths(exc.detail, private_paths) if isinstance(exc.detail, str) else "request refused"
        return error_response(exc.status_code, "HTTPError", message, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "ValidationError", redact_paths(_validation_message(exc), private_paths))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "InternalError", "internal error; the server log has the details")
