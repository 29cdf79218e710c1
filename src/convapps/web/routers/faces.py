"""``/api/people`` (enroll, list, rename, remove) and ``/api/faces`` (verify, identify, threshold).

Enroll, rename, remove, verify and identify are written to the audit log (who, when, what; no image).
Identify chooses tau for the gallery's size and a per-search false-accept rate (``far``) and says which
tau it used and why; enroll refuses unclear photos (several faces without ``face``, too small, too
blurry) with the reason and returns warnings such as a look-alike already enrolled.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status

from convapps.errors import ConvappsError, InvalidInputError
from convapps.face.openset import DEFAULT_FAR
from convapps.face.recognition import Recognition
from convapps.gallery import Identity
from convapps.web.audit import AuditAction, DetailValue
from convapps.web.auth import KeyDep, client_host
from convapps.web.features.faces import FaceDesk, build
from convapps.web.keys import ApiKey
from convapps.web.schemas import (
    Box,
    Enrolled,
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
from convapps.web.uploads import read_image, upload_label

router = APIRouter(tags=["faces"])

__all__ = ["build", "router"]

PhotoFile = Annotated[UploadFile, File(description="a photo (JPEG, PNG, WebP, BMP or TIFF; sniffed from content)")]
FAR_HELP = "per-search false-accept rate: the chance that a stranger gets a name (0 < far < 1; default 1%)"


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
    d, second = r.decision, r.decision.second
    return FaceMatch(
        box=Box(left=left, top=top, right=right, bottom=bottom),
        recognized=r.identity is not None,
        name=r.identity.name if r.identity else None,
        identity_id=r.identity.id if r.identity else None,
        sentence=r.sentence,
        distance=_finite(r.distance),
        score=_finite(d.score),
        nearest_name=r.nearest.name if r.nearest else None,
        second_name=second.identity.name if second else None,
        second_distance=_finite(second.distance) if second else None,
        second_score=_finite(second.score) if second else None,
        margin=_finite(d.margin),
        tau=r.tau,
        tau_reason=d.threshold.reason,
        calibrated=d.threshold.calibrated,
    )


def _finite(value: float) -> float | None:
    """The value, or None when not finite (JSON has no infinity)."""
    return float(value) if math.isfinite(value) else None


PEOPLE_PAGE = 50
"""People per page of ``GET /api/people`` when the client gives no ``limit``."""
MAX_PEOPLE_PAGE = 1000


def _folded(text: str) -> str:
    """``text`` for matching: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@router.get(
    "/api/people",
    response_model=PeopleList,
    tags=["people"],
    summary="Enrolled people by name, a page at a time, optionally only names containing `q`",
)
def list_people(
    services: ServicesDep,
    key: KeyDep,
    q: Annotated[str, Query(max_length=200, description="only names containing this (any case)")] = "",
    offset: Annotated[int, Query(ge=0, description="people to skip (paging)")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PEOPLE_PAGE, description="people per page")] = PEOPLE_PAGE,
) -> PeopleList:
    needle = _folded(q)
    found = sorted(
        ((_folded(p.name), p) for p in desk(services).people() if needle in _folded(p.name)),
        key=lambda t: (t[0], t[1].id),
    )
    people = [person(p) for _, p in found[offset : offset + limit]]
    return PeopleList(people=people, count=len(people), total=len(found), offset=offset, limit=limit)


@router.post(
    "/api/people",
    response_model=Enrolled,
    status_code=status.HTTP_201_CREATED,
    tags=["people"],
    summary="Enroll a person from one photo with one clear face (or the face chosen by `face`)",
)
def enroll_person(
    request: Request,
    services: ServicesDep,
    key: KeyDep,
    name: Annotated[str, Form(description="the person's name (unique)", max_length=200)],
    photo: PhotoFile,
    face: Annotated[
        int | None, Form(ge=0, description="which face to enroll when the photo shows several (0 = the largest)")
    ] = None,
) -> Enrolled:
    with audited(services, request, key, "enroll", {"name": name, "face": face}) as details:
        rgb = read_image(photo, services.settings, max_side=services.settings.max_side)
        done = desk(services).enroll(name, rgb, label=upload_label(photo), face_index=face)
        details["identity_id"] = done.identity.id
        details["warnings"] = len(done.warnings)
    return Enrolled(**person(done.identity).model_dump(), warnings=list(done.warnings))


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
    summary="Who is in this photo? Every face: a name or 'not recognized' (none found: an empty list)",
)
def identify_faces(
    request: Request,
    services: ServicesDep,
    key: KeyDep,
    photo: PhotoFile,
    far: Annotated[float, Form(gt=0, lt=1, description=FAR_HELP)] = DEFAULT_FAR,
) -> Identification:
    feature = desk(services)
    with audited(services, request, key, "identify", {"far": far}) as details:
        rgb = read_image(photo, services.settings, max_side=services.settings.max_side)
        found = feature.identify(rgb, far=far)
        details["faces"] = len(found)
        details["recognized"] = [r.identity.name for r in found if r.identity is not None]
        chosen = found[0].decision.threshold if found else feature.identify_threshold(far=far)
        details["tau"] = round(chosen.tau, 4)
    return Identification(
        image=ImageSize(width=rgb.shape[1], height=rgb.shape[0]),
        faces=[face_match(r) for r in found],
        message=identify_message(found),
        threshold=chosen.tau,
        tau=chosen.tau,
        tau_reason=chosen.reason,
        calibrated=chosen.calibrated,
        far=far,
        gallery_size=len(feature.people()),
    )


def identify_message(found: list[Recognition]) -> str:
    """One sentence about the whole photo, e.g. "2 faces found: 1 recognized."."""
    if not found:
        return "No face was found in this photo. Try a photo in which faces are clearly visible and well lit."
    known = sum(r.identity is not None for r in found)
    faces = "1 face" if len(found) == 1 else f"{len(found)} faces"
    return f"{faces} found: {known} recognized."


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
            pair = feature.verify_photos(first, second, labels=(upload_label(photo), upload_label(photo2)))
            result = Verification(
                match=pair.same, distance=pair.distance, threshold=pair.tau, name=None, notes=list(pair.notes)
            )
        else:
            claim = feature.verify_name(first, name or "", label=upload_label(photo))
            result = Verification(
                match=claim.same, distance=claim.distance, threshold=claim.tau, name=claim.name, notes=list(claim.notes)
            )
        details["match"] = result.match
    return result


@router.get(
    "/api/faces/threshold",
    response_model=ThresholdInfo,
    summary="The verification tau (1:1), the identify tau (1:K) for the gallery's size now, and the face model",
)
def threshold(
    services: ServicesDep, key: KeyDep, far: Annotated[float, Query(gt=0, lt=1, description=FAR_HELP)] = DEFAULT_FAR
) -> ThresholdInfo:
    feature = desk(services)
    t, k = feature.threshold(), len(feature.people())
    chosen = feature.identify_threshold(far=far)
    return ThresholdInfo(
        threshold=t.tau,
        threshold_l2=t.tau_l2,
        metric=t.metric,
        model_id=t.model_id,
        source=t.source,
        identify_tau=chosen.tau,
        identify_tau_reason=chosen.reason,
        identify_calibrated=chosen.calibrated,
        identify_far=far,
        gallery_size=k,
    )
