"""``/api/archive``: who appears where in a photo archive (the face index ``convapps face index`` writes).

Groups of faces largest first, a group's faces, face crops and downscaled photos (JPEG, of photos in the
index only: every image is reached by a face id, never by a path), naming a group (which also enrolls the
person in the service's gallery, as ``convapps face name`` does) and merging groups, and the photos of a
named person with the box of each of their faces. Naming and merging are written to the audit log. No
index yet: 404 ``ArchiveIndexMissingError`` whose message says how to create one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from convapps.web.audit import DetailValue
from convapps.web.auth import KeyDep
from convapps.web.features.archive import ArchiveDesk, FaceView, GroupRow, Totals
from convapps.web.routers.faces import audited, desk, person
from convapps.web.schemas import (
    ArchiveFace,
    ArchiveFacePage,
    ArchiveGroup,
    ArchiveGroupPage,
    ArchivePhoto,
    ArchivePhotoPage,
    ArchiveTotals,
    Box,
    GroupMerge,
    GroupMerged,
    GroupName,
    GroupNamed,
)
from convapps.web.state import Services, ServicesDep

router = APIRouter(prefix="/api/archive", tags=["archive"])

GROUP_PAGE = 48
MAX_GROUP_PAGE = 500
FACE_PAGE = 100
MAX_FACE_PAGE = 1000
PHOTO_PAGE = 24
MAX_PHOTO_PAGE = 200
CROP_SIDES = (32, 512)
PHOTO_SIDES = (64, 2048)
IMAGE_CACHE = "private, max-age=86400"
"""Crops and photos may be kept by the browser: a face id names one face of one indexed photo file, and
the ETag changes with the file (a changed file is refused with 410 anyway)."""

JPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}}},
    304: {"description": "the browser's copy is current"},
}
PAGE_OFFSET = Query(ge=0, description="items to skip (paging)")


def archive(services: Services) -> ArchiveDesk:
    return services.archive_desk()


def group_view(row: GroupRow) -> ArchiveGroup:
    return ArchiveGroup(
        id=row.id, size=row.size, name=row.name, representative=row.representative, sample=list(row.sample)
    )


def box(b: tuple[int, int, int, int]) -> Box:
    return Box(left=b[0], top=b[1], right=b[2], bottom=b[3])


def totals_view(t: Totals) -> ArchiveTotals:
    return ArchiveTotals(photos=t.photos, faces=t.faces, groups=t.groups, named=t.named, ungrouped=t.ungrouped)


def jpeg_response(request: Request, face: FaceView, variant: str, render: Callable[[], bytes]) -> Response:
    """The JPEG ``render()`` makes, or 304 when the browser's copy (ETag) is current."""
    tag = '"' + hashlib.sha256(f"{face.tag}-{variant}".encode()).hexdigest()[:32] + '"'
    headers = {"Cache-Control": IMAGE_CACHE, "ETag": tag, "Vary": "Authorization, X-API-Key"}
    if tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(render(), media_type="image/jpeg", headers=headers)


@router.get(
    "/groups",
    response_model=ArchiveGroupPage,
    summary="The groups of faces (people), largest first, a page at a time, with the totals of the archive",
)
def list_groups(
    services: ServicesDep,
    key: KeyDep,
    offset: Annotated[int, PAGE_OFFSET] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_GROUP_PAGE, description="groups per page")] = GROUP_PAGE,
    min_size: Annotated[int, Query(ge=1, description="only groups of at least this many faces")] = 1,
) -> ArchiveGroupPage:
    rows, total, totals = archive(services).groups(offset=offset, limit=limit, min_size=min_size)
    return ArchiveGroupPage(
        groups=[group_view(r) for r in rows],
        count=len(rows),
        total=total,
        offset=offset,
        limit=limit,
        min_size=min_size,
        totals=totals_view(totals),
    )


@router.get("/groups/{group_id}/faces", response_model=ArchiveFacePage, summary="The faces of one group")
def group_faces(
    group_id: int,
    services: ServicesDep,
    key: KeyDep,
    offset: Annotated[int, PAGE_OFFSET] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_FACE_PAGE, description="faces per page")] = FACE_PAGE,
) -> ArchiveFacePage:
    row, faces, total = archive(services).group_faces(group_id, offset=offset, limit=limit)
    return ArchiveFacePage(
        group=group_view(row),
        faces=[ArchiveFace(id=f.id, photo=f.photo, box=box(f.box)) for f in faces],
        count=len(faces),
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/faces/{face_id}/crop",
    response_class=Response,
    responses=JPEG,
    summary="A JPEG of one face (its box and a margin), the longer side `size` pixels",
)
def face_crop(
    face_id: int,
    request: Request,
    services: ServicesDep,
    key: KeyDep,
    size: Annotated[int, Query(ge=CROP_SIDES[0], le=CROP_SIDES[1], description="longer side in pixels")] = 160,
) -> Response:
    feature = archive(services)
    face = feature.face(face_id)
    return jpeg_response(request, face, f"crop-{size}", lambda: feature.crop_jpeg(face, size))


@router.get(
    "/photos/{face_id}/image",
    response_class=Response,
    responses=JPEG,
    summary="A JPEG of the whole photo a face is in, downscaled so its longer side is at most `max_side`",
)
def photo_image(
    face_id: int,
    request: Request,
    services: ServicesDep,
    key: KeyDep,
    max_side: Annotated[
        int, Query(ge=PHOTO_SIDES[0], le=PHOTO_SIDES[1], description="longest side in pixels (never upsized)")
    ] = 1024,
) -> Response:
    feature = archive(services)
    face = feature.face(face_id)
    return jpeg_response(request, face, f"photo-{max_side}", lambda: feature.photo_jpeg(face, max_side))


@router.get(
    "/people/{name:path}/photos",
    response_model=ArchivePhotoPage,
    summary="Every photo where a named person appears, with the box of each of their faces",
)
def person_photos(
    name: str,
    services: ServicesDep,
    key: KeyDep,
    offset: Annotated[int, PAGE_OFFSET] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PHOTO_PAGE, description="photos per page")] = PHOTO_PAGE,
) -> ArchivePhotoPage:
    row, photos, total = archive(services).person_photos(name, offset=offset, limit=limit)
    return ArchivePhotoPage(
        name=row.name or name,
        group=row.id,
        photos=[
            ArchivePhoto(
                face=p.face,
                photo=p.photo,
                boxes=[box(b) for b in p.boxes],
                width=p.width,
                height=p.height,
                problem=p.problem,
            )
            for p in photos
        ],
        count=len(photos),
        total=total,
        offset=offset,
        limit=limit,
    )


@router.post(
    "/groups/{group_id}/name",
    response_model=GroupNamed,
    summary="Name a group and enroll that person in the gallery from up to 20 of its faces",
)
def name_group(group_id: int, body: GroupName, request: Request, services: ServicesDep, key: KeyDep) -> GroupNamed:
    gallery = desk(services).ready()[1]
    with audited(services, request, key, "archive-name", {"group": group_id, "name": body.name}) as details:
        done = archive(services).name(group_id, body.name, gallery)
        details["identity_id"] = done.person.id
        details["encodings"] = done.person.n_encodings
    name, n = done.person.name, done.person.n_encodings
    if done.added:
        message = f"Named {name}; the faces were added to {name}, who was already enrolled ({n} encodings in all)."
    else:
        message = f"Named {name} and enrolled them for recognition from {'1 face' if n == 1 else f'{n} faces'}."
    return GroupNamed(group=group_view(done.group), person=person(done.person), added=done.added, message=message)


@router.post(
    "/groups/{group_id}/merge",
    response_model=GroupMerged,
    summary="Move every face of the `others` groups into this group (one person found as several groups)",
)
def merge_groups(group_id: int, body: GroupMerge, request: Request, services: ServicesDep, key: KeyDep) -> GroupMerged:
    details: dict[str, DetailValue] = {"group": group_id, "others": [str(g) for g in body.others]}
    with audited(services, request, key, "archive-merge", details) as record:
        row, moved = archive(services).merge(group_id, body.others)
        record["moved"] = moved
    faces = "1 face" if moved == 1 else f"{moved} faces"
    return GroupMerged(group=group_view(row), moved=moved, message=f"Moved {faces} into group {row.id}.")
