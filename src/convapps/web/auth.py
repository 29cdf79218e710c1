"""The one dependency that guards every API route: a valid, unrevoked API key.

Clients send ``Authorization: Bearer cvk_...`` (or ``X-API-Key: cvk_...``). Handlers receive the
:class:`~convapps.web.keys.ApiKey` that matched, so the audit log and job ownership know who called.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from convapps.web.errors import AuthenticationError
from convapps.web.keys import ApiKey
from convapps.web.state import ServicesDep

_bearer = HTTPBearer(auto_error=False, description="An API key from `convapps serve keys create`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same API key, as a header.")


def require_key(
    services: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey:
    """The API key of this request; AuthenticationError (401) when missing, unknown or revoked."""
    token = bearer.credentials if bearer is not None else header
    if not token:
        raise AuthenticationError("an API key is required (header 'Authorization: Bearer cvk_...')")
    key = services.keys.verify(token.strip())
    if key is None:
        raise AuthenticationError("unknown or revoked API key; create one with `convapps serve keys create`")
    return key


KeyDep = Annotated[ApiKey, Depends(require_key)]


def client_host(request: Request) -> str | None:
    """The caller's address, for the audit log."""
    return request.client.host if request.client else None
