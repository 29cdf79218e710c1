"""``/api/people`` (enroll, list, rename, remove) and ``/api/faces`` (verify, identify, threshold).

Enroll, rename, remove, verify and identify are written to the audit log (who, when, what; no image).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile, status

from convapps.errors import ConvappsError, InvalidInputError
from convapps.face.recognition import Recognition
from convapps.gallery import Identity
from convapps.web.audit import AuditAction, DetailValue
from convapps.web.auth import KeyDep, client_host
from convapps.web.features.faces import FaceDesk, build
from convapps.web.keys import ApiKey
from convapps.web.schemas import (
    Box,
    FaceMatch,
    Identification,
    ImageSize,
    PeopleList,
    Person,
    Rename,
    ThresholdInfo,
    Verification,
)
from convapps.web.state import Services, ServicesDep
from convapps.web.uploads import read_image

router = APIRouter(tags=["faces"])

__all__ = ["build", "router"]

PhotoFile = Annotated[UploadFile, File(description="a photo (JPEG, PNG, WebP, BMP or TIFF; sniffed from content)")]


def desk(services: Services) -> FaceDesk:
    feature = services.feature("faces")
    if not isinstance(feature, FaceDesk):  # pragma: no cover - a test override of another type
        raise InvalidInputError("faces feature is misconfigured")
    return feature


@contextmanager
def audited(
    services: Services, request: Request, key: ApiKey, action: AuditAction, details: dict[str, DetailValue]
) -> Iterator[dict[str, DetailValue]]:
    """Record ``action`` when the block ends: "ok", or "refused" with the error type (never the image)."""
    try:
        yield details
    except ConvappsError as err:
        details["error"] = type(err).__name__
        services.audit.record(
            action, outcome="refused", key_id=key.id, key_name=key.name, client=client_host(request), details=details
        )
        raise
    except Exception:
        services.audit.record(
            action, outcome="failed", key_id=key.id, key_name=key.name, client=client_host(request), details=details
        )
        raise
    services.audit.record(
        action, outcome="ok", key_id=key.id, key_name=key.name, client=client_host(request), details=details
    )


def person(identity: Identity) -> Person:
    return Person(id=identity.id, name=identity.name, n_encodings=identity.n_encodings, created_at=identity.created_at)


def face_match(r: Recognition) -> FaceMatch:
    left, top, right, bottom = (int(v) for v in r.box)
    finite = r.distance if r.distance != float("inf") else None
    return FaceMatch(
        box=Box(left=left, top=top, right=right, bottom=bottom),
        recognized=r.identity is not None,
        name=r.identity.name if r.identity else None,
        identity_id=r.identity.id if r.identity else None,
        distance=finite,
        nearest_name=r.nearest.name if r.nearest else None,
    )


@router.get("/api/people", response_model=PeopleList, tags=["people"], summary="Everyone enrolled")
def list_people(services: ServicesDep, key: KeyDep) -> PeopleList:
    people = [person(p) for p in desk(services).people()]
    return PeopleList(people=people, count=len(people))


@router.post(
    "/api/people",
    response_model=Person,
    status_code=status.HTTP_201_CREATED,
    tags=["people"],
    summary="Enroll a person from one photo (its largest face)",
)
def enroll_person(
    request: Request,
    services: ServicesDep,
    key: KeyDep,
    name: Annotated[str, Form(description="the person's name (unique)", max_length=200)],
    photo: PhotoFile,
) -> Person:
    with audited(services, request, key, "enroll", {"name": name}) as details:
        rgb = read_image(photo, services.settings, max_side=services.settings.max_side)
        identity = desk(services).enroll(name, rgb)
        details["identity_id"] = identity.id
    return person(identity)


@router.patch("/api/people/{identity_id}", response_model=Person, tags=["people"], summary="Rename a person")
def rename_person(identity_id: int, body: Rename, request: Request, services: ServicesDep, key: KeyDep) -> Person:
    with audited(services, request, key, "rename", {"identity_id": identity_id, "new_name": body.name}) as details:
        before, after = desk(services).rename(identity_id, body.name)
        details["old_name"] = before.name
    return person(after)


@router.delete(
    "/api/people/{identity_id}", response_model=Person, tags=["people"], summary="Remove a person and their encodings"
)
def remove_person(identity_id: int, request: Request, services: ServicesDep, key: KeyDep) -> Person:
    with audited(services, request, key, "remove", {"identity_id": identity_id}) as details:
        removed = desk(services).remove(identity_id)
        details["name"] = removed.name
    return person(removed)


@router.post(
    "/api/faces/identify",
    response_model=Identification,
    summary="Who is in this photo? Every face: a name or 'not recognized'",
)
def identify_faces(request: Request, services: ServicesDep, key: KeyDep, photo: PhotoFile) -> Identification:
    feature = desk(services)
    with audited(services, request, key, "identify", {}) as details:
        rgb = read_image(photo, services.settings, max_side=services.settings.max_side)
        found = feature.identify(rgb)
        details["faces"] = len(found)
        details["recognized"] = [r.identity.name for r in found if r.identity is not None]
    threshold = found[0].tau if found else feature.threshold().tau
    return Identification(
        image=ImageSize(width=rgb.shape[1], height=rgb.shape[0]),
        faces=[face_match(r) for r in found],
        threshold=threshold,
        gallery_size=len(feature.people()),
    )


@router.post(
    "/api/faces/verify",
    response_model=Verification,
    summary="Same person? Two photos, or a photo and a claimed enrolled name",
)
def verify_faces(
    request: Request,
    services: ServicesDep,
    key: KeyDep,
    photo: PhotoFile,
    photo2: Annotated[UploadFile | None, File(description="the second photo (or give name)")] = None,
    name: Annotated[str | None, Form(description="a claimed enrolled person (or give photo2)")] = None,
) -> Verification:
    if (photo2 is None) == (name is None or not name.strip()):
        raise InvalidInputError("give either a second photo (photo2) or an enrolled name (name), not both")
    feature, settings = desk(services), services.settings
    with audited(services, request, key, "verify", {"claimed_name": name}) as details:
        first = read_image(photo, settings, max_side=settings.max_side)
        if photo2 is not None:
            second = read_image(photo2, settings, max_side=settings.max_side)
            pair = feature.verify_photos(first, second)
            result = Verification(
                match=pair.same, distance=pair.distance, threshold=pair.tau, name=None, notes=list(pair.notes)
            )
        else:
            claim = feature.verify_name(first, name or "")
            result = Verification(
                match=claim.same, distance=claim.distance, threshold=claim.tau, name=claim.name, notes=list(claim.notes)
            )
        details["match"] = result.match
    return result


@router.get(
    "/api/faces/threshold", response_model=ThresholdInfo, summary="The verification threshold tau and the face model"
)
def threshold(services: ServicesDep, key: KeyDep) -> ThresholdInfo:
    t = desk(services).threshold()
    return ThresholdInfo(threshold=t.tau, threshold_l2=t.tau_l2, metric=t.metric, model_id=t.model_id, source=t.source)
