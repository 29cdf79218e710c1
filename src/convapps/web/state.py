"""What the service builds once at start-up and hands to handlers through dependencies.

Handlers reach everything through :data:`ServicesDep`, so tests can swap any part with
``app.dependency_overrides``. Models and the gallery are built once, in the lifespan, by *features*
(the face desk, the style studio, the top-patches viewer): each reports its health and, when its
models are missing, answers its routes with 503 and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends, Request

from convapps.errors import ModelNotAvailableError
from convapps.web.audit import AuditLog
from convapps.web.jobs import JobPool
from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings

if TYPE_CHECKING:
    from convapps.web.features.archive import ArchiveDesk


@dataclass(frozen=True)
class FeatureHealth:
    """What a feature tells ``/api/health``: models as ``(role, model id, loaded)``, problems in words."""

    available: bool
    models: list[tuple[str, str, bool]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    gallery_size: int | None = None
    gallery_backend: str | None = None


class Feature(Protocol):
    """A part of the service built at start-up (face desk, style studio, top-patches viewer)."""

    def health(self) -> FeatureHealth: ...

    def close(self) -> None: ...


@dataclass
class Services:
    """The long-lived parts of the service."""

    settings: WebSettings
    keys: KeyStore
    audit: AuditLog
    jobs: JobPool
    archive: ArchiveDesk | None = None
    _features: dict[str, Feature] = field(default_factory=dict)

    def features(self) -> dict[str, Feature]:
        """The features this service offers, by name."""
        return dict(self._features)

    def add_feature(self, name: str, feature: Feature) -> None:
        self._features[name] = feature

    def feature(self, name: str) -> Feature:
        """The feature called ``name``; ModelNotAvailableError (503) when it was not built."""
        found = self._features.get(name)
        if found is None:
            raise ModelNotAvailableError(f"{name} is not available in this service")
        return found

    def archive_desk(self) -> ArchiveDesk:
        """The photo archive (part of the face desk: naming a group enrolls into its gallery);
        ModelNotAvailableError (503) when this service has no face desk."""
        if self.archive is None:
            raise ModelNotAvailableError("the photo archive is not available in this service")
        return self.archive

    def close(self) -> None:
        self.jobs.shutdown()
        if self.archive is not None:
            self.archive.close()
        for feature in self._features.values():
            feature.close()


def get_services(request: Request) -> Services:
    """The services built by the lifespan of this app."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
