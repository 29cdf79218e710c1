"""``/api/health`` (public: no personal data) and ``/api/session`` (which key am I using?)."""

from __future__ import annotations

from fastapi import APIRouter

from convapps import __version__
from convapps.web.auth import KeyDep
from convapps.web.errors import redact_paths
from convapps.web.schemas import Health, ModelInfo, WhoAmI
from convapps.web.state import ServicesDep

router = APIRouter(prefix="/api", tags=["service"])


@router.get("/health", response_model=Health, summary="Is the service up, which models, how many people")
def health(services: ServicesDep) -> Health:
    models: list[ModelInfo] = []
    problems: list[str] = []
    features: dict[str, bool] = {}
    gallery_size: int | None = None
    backend: str | None = None
    for name, feature in services.features().items():
        report = feature.health()
        features[name] = report.available
        models += [ModelInfo(role=r, id=i, loaded=loaded) for r, i, loaded in report.models]
        problems += [redact_paths(problem) for problem in report.problems]  # public: no server paths
        if report.gallery_size is not None:
            gallery_size, backend = report.gallery_size, report.gallery_backend
    active = sum(1 for j in services.jobs.list_all() if j.state in ("queued", "running"))
    return Health(
        status="ok" if not problems else "degraded",
        version=__version__,
        models=models,
        gallery_size=gallery_size,
        gallery_backend=backend,
        features=features,
        jobs_active=active,
        problems=problems,
    )


@router.get("/session", response_model=WhoAmI, summary="The API key of this request and the upload limits")
def session(services: ServicesDep, key: KeyDep) -> WhoAmI:
    s = services.settings
    limits = {
        "max_upload_bytes": s.max_upload_bytes,
        "max_request_bytes": s.max_request_bytes,
        "max_files": s.max_files,
        "max_pixels": s.max_pixels,
    }
    return WhoAmI(key_id=key.id, key_name=key.name, created=key.created, limits=limits)
