"""API keys on every API route, checked before any request body is read.

Clients send ``Authorization: Bearer cvk_...`` (or ``X-API-Key: cvk_...``). :class:`KeyGateMiddleware`
checks the key of every ``/api/...`` request except ``GET /api/health`` from the headers alone, so a
request without a valid key is refused with 401 before its body is read or parsed. A wrong key is written
to the audit log; a client address that tries ``auth_failures`` distinct wrong keys is refused with 429
and ``Retry-After`` for ``auth_backoff_s`` seconds. Handlers receive the
:class:`~convapps.web.keys.ApiKey` that matched (:data:`KeyDep`), so the audit log and job ownership know
who called. A browser cannot set headers on a WebSocket, so WebSocket routes under ``/api/`` (the live
camera) pass the key of their first message, or of their headers, to :meth:`KeyGateMiddleware.check`: the
same audit log and backoff, before any frame is read.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from convapps.web.audit import DetailValue
from convapps.web.errors import AuthenticationError, error_body, retry_after
from convapps.web.keys import ApiKey
from convapps.web.settings import WebSettings
from convapps.web.state import Services, ServicesDep

PUBLIC_PATHS = frozenset({"/api/health"})
"""API routes that need no key."""

MISSING_KEY = "an API key is required (header 'Authorization: Bearer cvk_...')"
WRONG_KEY = "unknown or revoked API key"
_SCOPE_KEY = "convapps:api-key"  # an ASGI scope entry (not a module name)
GATE_SCOPE_KEY = "convapps:key-gate"
"""ASGI scope entry holding the :class:`KeyGateMiddleware` on WebSocket scopes under ``/api/``."""
_KEY_ID = re.compile(r"cvk_([0-9a-f]{12})_")

_bearer = HTTPBearer(auto_error=False, description="An API key from `convapps serve keys create`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same API key, as a header.")


def token_from_headers(headers: dict[bytes, bytes]) -> str | None:
    """The API key a request carries (Bearer first, then ``X-API-Key``), or None."""
    raw = headers.get(b"authorization", b"").decode("latin-1").strip()
    scheme, _, credentials = raw.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    header = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    return header or None


def require_key(
    request: Request,
    services: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey:
    """The API key of this request (checked by :class:`KeyGateMiddleware`, or here when it did not run);
    AuthenticationError (401) when missing, unknown or revoked."""
    checked = request.scope.get(_SCOPE_KEY)
    if isinstance(checked, ApiKey):
        return checked
    token = bearer.credentials if bearer is not None else header
    if not token:
        raise AuthenticationError(MISSING_KEY)
    key = services.keys.verify(token.strip())
    if key is None:
        raise AuthenticationError(WRONG_KEY)
    return key


KeyDep = Annotated[ApiKey, Depends(require_key)]


def client_host(request: Request) -> str | None:
    """The caller's address, for the audit log."""
    return request.client.host if request.client else None


class FailedKeyBackoff:
    """Counts distinct wrong keys per client address; after ``limit`` within ``window_s`` seconds the
    client is refused for ``window_s`` seconds. (A client repeating one stale key is not guessing.)"""

    def __init__(self, *, limit: int, window_s: float, max_clients: int = 10_000) -> None:
        self.limit, self.window_s, self.max_clients = limit, window_s, max_clients
        self._lock = threading.Lock()
        self._failures: dict[str, dict[str, float]] = {}
        self._blocked: dict[str, float] = {}

    def blocked_for(self, client: str) -> float:
        """Seconds this client is still refused (0 when it is not)."""
        with self._lock:
            until = self._blocked.get(client, 0.0)
            left = until - time.monotonic()
            if left <= 0 and client in self._blocked:
                del self._blocked[client]
            return max(0.0, left)

    def fail(self, client: str, token: str) -> bool:
        """Record a wrong ``token`` from ``client``; True when this failure starts a block."""
        now = time.monotonic()
        digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:16]
        with self._lock:
            if len(self._failures) >= self.max_clients and client not in self._failures:
                self._prune(now)
            seen = {t: at for t, at in self._failures.get(client, {}).items() if now - at < self.window_s}
            seen[digest] = now
            if len(seen) >= self.limit:
                self._failures.pop(client, None)
                self._blocked[client] = now + self.window_s
                return True
            self._failures[client] = seen
            return False

    def succeed(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _prune(self, now: float) -> None:
        for client in [c for c, seen in self._failures.items() if all(now - t >= self.window_s for t in seen.values())]:
            del self._failures[client]
        for client in [c for c, until in self._blocked.items() if until <= now]:
            del self._blocked[client]
        while len(self._failures) >= self.max_clients:  # still full: forget the oldest
            del self._failures[next(iter(self._failures))]


@dataclass(frozen=True)
class KeyRefusal:
    """Why a key was refused: the HTTP status, error type, one-line message and response headers."""

    status: int
    kind: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


class KeyGateMiddleware:
    """Check the API key of ``/api/...`` requests before the app (and its body parsing) sees them."""

    def __init__(self, app: ASGIApp, *, settings: WebSettings) -> None:
        self.app = app
        self.backoff = FailedKeyBackoff(limit=settings.auth_failures, window_s=settings.auth_backoff_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and str(scope.get("path", "")).startswith("/api/"):
            # A browser cannot set headers on a WebSocket: the route checks the key of its first
            # message through this gate (same audit log and backoff), before it reads any frame.
            scope[GATE_SCOPE_KEY] = self
            await self.app(scope, receive, send)
            return
        if not self._guarded(scope):
            await self.app(scope, receive, send)
            return
        checked = await self.check(scope, token_from_headers(dict(scope.get("headers", []))))
        if isinstance(checked, KeyRefusal):
            await _refuse(send, checked.status, checked.kind, checked.message, checked.headers)
            return
        scope[_SCOPE_KEY] = checked
        await self.app(scope, receive, send)

    async def check(self, scope: Scope, token: str | None) -> ApiKey | KeyRefusal:
        """The active key for ``token`` sent from ``scope``'s client, or why it is refused (429 while the
        client is backed off, 401 when missing or wrong; a wrong key is audited and counted)."""
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.backoff.blocked_for(client)
        if wait > 0:
            message = "too many wrong API keys from this address; wait before trying again"
            return KeyRefusal(429, "TooManyRequestsError", message, retry_after(wait))
        if token is None:
            return KeyRefusal(401, "AuthenticationError", MISSING_KEY, {"WWW-Authenticate": "Bearer"})
        services: Services = scope["app"].state.services
        key = await run_in_threadpool(services.keys.verify, token)
        if key is None:
            started_block = self.backoff.fail(client, token)
            await run_in_threadpool(_audit_failure, services, client, token, started_block)
            return KeyRefusal(401, "AuthenticationError", WRONG_KEY, {"WWW-Authenticate": "Bearer"})
        self.backoff.succeed(client)
        return key

    @staticmethod
    def _guarded(scope: Scope) -> bool:
        if scope["type"] != "http":
            return False
        path = str(scope.get("path", ""))
        if not path.startswith("/api/") or path in PUBLIC_PATHS:
            return False
        headers = dict(scope.get("headers", []))
        is_preflight = scope.get("method") == "OPTIONS" and b"access-control-request-method" in headers
        return not is_preflight


def _audit_failure(services: Services, client: str, token: str, started_block: bool) -> None:
    found = _KEY_ID.match(token)
    details: dict[str, DetailValue] = {"reason": WRONG_KEY}
    if started_block:
        details["blocked_s"] = services.settings.auth_backoff_s
    services.audit.record(
        "authenticate",
        outcome="refused",
        key_id=found.group(1) if found else "",
        key_name="",
        client=client,
        details=details,
    )


async def _refuse(send: Send, status: int, kind: str, message: str, headers: dict[str, str]) -> None:
    body = json.dumps(error_body(status, kind, message)).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),  # the body was not read: do not reuse this connection
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
