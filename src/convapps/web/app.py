"""``create_app(settings)``: the convapps service as a FastAPI application.

The app serves a JSON API under ``/api`` (every route but ``/api/health`` needs an API key, checked
before any request body is read) and the browser UI at ``/`` (static files shipped in the package; no
CDN). ``HEAD`` works wherever ``GET`` does. Models, the gallery, the key store,
the audit log and the job pool are built once, in the lifespan.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from convapps import __version__
from convapps.web.audit import AuditLog
from convapps.web.auth import KeyDep, KeyGateMiddleware
from convapps.web.errors import install_error_handlers
from convapps.web.jobs import JobPool
from convapps.web.keys import KeyStore
from convapps.web.middleware import HeadMiddleware, HostGuardMiddleware, SecurityHeadersMiddleware
from convapps.web.routers import health, jobs, samples
from convapps.web.settings import WebSettings, ensure_state_dir
from convapps.web.state import Services
from convapps.web.static_files import STATIC_DIR

log = logging.getLogger("convapps.web")

FEATURES: tuple[tuple[str, str], ...] = (
    ("faces", "convapps.web.routers.faces"),
    ("style", "convapps.web.routers.style"),
    ("viz", "convapps.web.routers.viz"),
)
"""Features as ``(name, module)``; each module has ``build(settings) -> Feature`` and ``router``."""


def _load_features() -> list[tuple[str, Any]]:
    return [(name, importlib.import_module(module)) for name, module in FEATURES]


def build_services(settings: WebSettings, modules: list[tuple[str, Any]]) -> Services:
    """Everything the handlers need, built once (models load here, not at the first request)."""
    ensure_state_dir(settings.state_dir)
    services = Services(
        settings=settings,
        keys=KeyStore(settings.keys_path),
        audit=AuditLog(settings.audit_path),
        jobs=JobPool(
            workers=settings.job_workers,
            queue=settings.job_queue,
            ttl_s=settings.job_ttl_s,
            per_owner=settings.job_key_quota,
        ),
    )
    for name, module in modules:
        services.add_feature(name, module.build(settings))
    if any(name == "faces" for name, _ in modules):  # the archive names people into the face desk's gallery
        from convapps.web.features.archive import ArchiveDesk

        services.archive = ArchiveDesk(settings)
    return services


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The service for ``settings`` (defaults: loopback, state under ``$CONVAPPS_HOME``)."""
    settings = settings or WebSettings()
    modules = _load_features()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings, modules)
        app.state.services = services
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="convapps",
        version=__version__,
        summary="Face recognition desk, photo archive, style studio and top-patches viewer over the convapps library.",
        description=(
            "Every route except `GET /api/health` needs an API key: `Authorization: Bearer cvk_...` "
            "(create one with `convapps serve keys create NAME`). Uploads are multipart files; images "
            'are recognised by content. Errors are JSON: `{"error": {"type", "message", "status"}}`.'
        ),
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app, private_paths=_private_paths(settings))
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(samples.router)
    for _, module in modules:
        app.include_router(module.router)
    if any(name == "faces" for name, _ in modules):
        from convapps.web.routers import archive, live

        app.include_router(live.router)
        app.include_router(archive.router)

    @app.get("/api/openapi.json", tags=["service"], summary="The OpenAPI description of this API")
    def openapi(key: KeyDep) -> dict[str, Any]:
        return app.openapi()

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_middleware(app, settings)
    return app


def _private_paths(settings: WebSettings) -> tuple[str, ...]:
    """Server paths that error messages must not show (the state folder, the gallery, the archive index, home)."""
    state = settings.state_dir
    paths = {str(state), str(state.expanduser().resolve()), str(Path.home())}
    for store in (settings.gallery_url, settings.archive_index_url):
        location = store.split("://", 1)[-1]
        if location:
            paths |= {location, str(Path(location).parent)}
    return tuple(sorted(p for p in paths if len(p) > 1))


def _add_middleware(app: FastAPI, settings: WebSettings) -> None:
    # Added innermost first: the last one added sees the request first.
    from convapps.web.uploads import BodyLimitMiddleware

    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes)
    if settings.cors_origins:  # outside the key check, so that a 401 carries the CORS headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=False,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    app.add_middleware(KeyGateMiddleware, settings=settings)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HostGuardMiddleware, allowed=settings.host_names)
