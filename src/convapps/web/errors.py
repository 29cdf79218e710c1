"""Errors of the web layer and the one place where every error becomes a JSON response.

Every error body has the same shape, ``{"error": {"type": "...", "message": "...", "status": 4xx}}``.
Library errors keep their one-line message and map through ``ConvappsError.http_status``; anything
unexpected becomes a 500 with a generic message (the traceback goes to the server log only).
"""

from __future__ import annotations

import logging

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


class ServiceBusyError(ConvappsError):
    """The job queue is full; try again when a running job has finished."""

    http_status = 503


def error_body(status: int, kind: str, message: str) -> dict[str, dict[str, str | int]]:
    """The JSON body of every error response."""
    return {"error": {"type": kind, "message": message, "status": status}}


def error_response(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response that is never cached."""
    merged = {"Cache-Control": "no-store", **(headers or {})}
    return JSONResponse(error_body(status, kind, message), status_code=status, headers=merged)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Map library errors, HTTP errors, validation errors and crashes to the JSON error shape."""

    @app.exception_handler(ConvappsError)
    async def _convapps(request: Request, exc: ConvappsError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
        return error_response(exc.http_status, type(exc).__name__, str(exc), headers)

    @app.exception_handler(BodyTooLargeHTTPError)
    async def _too_large(request: Request, exc: BodyTooLargeHTTPError) -> JSONResponse:
        return error_response(413, "UploadTooLargeError", str(exc.detail), {"Connection": "close"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        return error_response(exc.status_code, "HTTPError", message, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "ValidationError", _validation_message(exc))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "InternalError", "internal error; the server log has the details")
