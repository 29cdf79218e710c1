"""ASGI middleware: strict response headers (no sniffing, framing or referrer; same-origin scripts), a
Host-header guard, and ``HEAD`` answered like ``GET`` without a body."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convapps.web.errors import error_body

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
]


class SecurityHeadersMiddleware:
    """Add the headers above to every response, and ``Cache-Control: no-store`` to API responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
                if is_api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostGuardMiddleware:
    """Refuse requests whose ``Host`` header is not one of ``allowed`` (a DNS-rebinding guard for a
    loopback service); ``("*",)`` allows any. The refusal is the usual JSON error, status 400."""

    def __init__(self, app: ASGIApp, *, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed}

    def _host_ok(self, scope: Scope) -> bool:
        if "*" in self.allowed:
            return True
        raw = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1").lower()
        host = raw[1:].split("]", 1)[0] if raw.startswith("[") else raw.rsplit(":", 1)[0] if ":" in raw else raw
        return host in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._host_ok(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # refused before the handshake: the client sees HTTP 403
            await send({"type": "websocket.close", "code": 1008, "reason": "invalid Host header for this service"})
            return
        body = json.dumps(error_body(400, "InvalidHostError", "invalid Host header for this service")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class HeadMiddleware:
    """Answer ``HEAD`` on every ``GET`` route and static file: the app handles it as ``GET`` and the body
    is dropped, so the status and headers (``Content-Length`` included) are those of the ``GET``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
