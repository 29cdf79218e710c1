"""People in an indexed archive: group its faces, name a group (and enroll it in a gallery), find a
person's photos by name or by a photo of their face, and review a group as a contact sheet.
"""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.errors import ConvappsError, InvalidInputError, NotFoundError
from convapps.face.archive.clustering import ClusterConfig, ClusterProgress, cluster_encodings
from convapps.gallery.archive_base import ArchiveIndex, Box, FaceRecord, GroupRecord
from convapps.gallery.base import Gallery, Identity

MAX_TEMPLATE_FACES = 20
"""At most this many faces of a named group are enrolled (the sharpest detections first)."""


@dataclass(frozen=True)
class ClusterReport:
    """One clustering of the unnamed faces: how many faces, groups, and one-face groups."""

    faces: int
    groups: int
    singletons: int
    named_faces: int
    method: str
    threshold: float

    def summary(self) -> str:
        """``2,410 faces -> 611 groups (402 seen once); 88 faces already named kept (linkage 0.55)``."""
        return (
            f"{self.faces:,} faces -> {self.groups:,} groups ({self.singletons:,} seen once); "
            f"{self.named_faces:,} faces of named people kept ({self.method} {self.threshold:g})"
        )


def cluster_index(
    index: ArchiveIndex, config: ClusterConfig | None = None, *, progress: ClusterProgress | None = None
) -> ClusterReport:
    """Group every face not in a named group (named groups are kept as they are); ``progress`` as in
    :func:`~convapps.face.archive.clustering.cluster_encodings`."""
    cfg = config or ClusterConfig()
    ids, encodings = index.face_encodings(unnamed_only=True)
    named = sum(p.n_faces for p in index.photos().values()) - len(ids)  # no second read of every encoding
    if len(ids) == 0:
        return ClusterReport(0, 0, 0, named, cfg.method, cfg.cut)
    from convapps.face.openset import calibration_for

    calibration = calibration_for(index.space.model_id)
    cohort = None if calibration is None else calibration.cohort
    n = 3 if calibration is None else calibration.cohort_n
    labels = cluster_encodings(encodings, cfg, cohort=cohort, cohort_n=n, progress=progress)
    groups = index.assign_groups(ids.tolist(), labels.tolist())
    singletons = int((np.bincount(labels) == 1).sum())
    return ClusterReport(len(ids), groups, singletons, named, cfg.method, cfg.cut)


def resolve_group(index: ArchiveIndex, group: str) -> GroupRecord:
    """A group by id (``"12"``) or by the name it was given."""
    if group.strip().isdigit():
        found = index.group(int(group))
        if found is None:
            raise NotFoundError(
                f"no group {int(group)} in archive index {index.url}; 'convapps face people' lists them"
            )
        return found
    gid = index.group_of_name(group)
    found = None if gid is None else index.group(gid)
    if found is None:
        raise NotFoundError(f"nobody named {group!r} in archive index {index.url}")
    return found


def name_group(index: ArchiveIndex, group: str, name: str, *, gallery: Gallery | None = None) -> Identity | None:
    """Name a group; with ``gallery``, also enroll that person from up to :data:`MAX_TEMPLATE_FACES` of
    the group's faces (best detector scores first), or add them to an already enrolled person of that name.
    A name the gallery refuses (a look-alike of an enrolled name) is refused before the group is named."""
    record = resolve_group(index, group)
    clean = index.clean_name(name)
    enrolled = gallery is not None and clean in gallery.names()
    if gallery is not None and not enrolled:
        gallery.check_new_name(clean)
    faces = index.faces(group=record.id, with_encodings=True)
    index.name_group(record.id, clean)
    if gallery is None:
        return None
    best = sorted(faces, key=lambda f: -f.score)[:MAX_TEMPLATE_FACES]
    encodings = np.stack([f.embedding for f in best if f.embedding is not None])
    if enrolled:
        return gallery.add_encodings(clean, encodings)
    return gallery.enroll(clean, encodings, metadata={"source": f"archive {index.url}, group {record.id}"})


@dataclass(frozen=True)
class PhotoHit:
    """A photo where the person appears, with the box of each of their faces in it (and its distance
    to the query face when the query was a photo)."""

    photo: str
    boxes: list[Box]
    distance: float | None = None


def _by_photo(faces: list[FaceRecord], distances: dict[int, float] | None = None) -> list[PhotoHit]:
    boxes: dict[str, list[Box]] = defaultdict(list)
    best: dict[str, float] = {}
    for face in faces:
        boxes[face.photo].append(face.box)
        if distances is not None:
            best[face.photo] = min(best.get(face.photo, np.inf), distances[face.id])
    if distances is not None:
        return sorted((PhotoHit(p, b, best[p]) for p, b in boxes.items()), key=lambda h: (h.distance, h.photo))
    return [PhotoHit(p, b) for p, b in sorted(boxes.items())]


def find_by_name(index: ArchiveIndex, name: str) -> list[PhotoHit]:
    """Every photo where the group named ``name`` appears."""
    gid = index.group_of_name(name)
    if gid is None:
        named = sorted(g.name for g in index.groups() if g.name)
        hint = f"; named so far: {', '.join(named[:10])}" if named else "; name a group first ('convapps face name')"
        raise NotFoundError(f"nobody named {name!r} in archive index {index.url}{hint}")
    return _by_photo(index.faces(group=gid))


def find_by_face(index: ArchiveIndex, probe: NDArray[np.float32], *, tau: float) -> list[PhotoHit]:
    """Every photo with a face within ``tau`` (squared L2, the verification rule) of ``probe``, nearest
    first; the groups of those faces are followed too, so photos where the person looks less alike than
    tau are found through their group."""
    if probe.shape != (index.space.dim,):
        raise InvalidInputError(f"the probe encoding must have shape ({index.space.dim},), got {probe.shape}")
    faces = index.faces(with_encodings=True)  # one pass: encodings, groups and photos together
    if not faces:
        return []
    x = np.stack([f.embedding for f in faces if f.embedding is not None])
    d = ((x - probe[None, :]) ** 2).sum(axis=1)
    close = {f.id for f, v in zip(faces, d, strict=True) if v <= tau}
    groups = {f.group for f in faces if f.id in close and f.group is not None}
    hits = [(f, float(v)) for f, v in zip(faces, d, strict=True) if f.id in close or f.group in groups]
    distances = {f.id: v for f, v in hits}
    return _by_photo([f for f, _ in hits], distances)


def crop_region(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """The part ``(left, top, right, bottom)`` of a ``width`` x ``height`` photo that a face crop shows: the
    box with a quarter of its longer side added on every side, kept inside the photo."""
    left, top, right, bottom = box
    pad = max(right - left, bottom - top) // 4
    region = (max(0, left - pad), max(0, top - pad), min(width, right + pad), min(height, bottom + pad))
    if region[2] <= region[0] or region[3] <= region[1]:
        raise NotFoundError(f"the face box {list(box)} lies outside its photo ({width}x{height})")
    return region


def contact_sheet(index: ArchiveIndex, group: str, out: str | Path, *, limit: int = 200, size: int = 112) -> Path:
    """An HTML page of the group's face crops (``size`` px, up to ``limit``), each captioned with its
    photo, for review before naming, merging or splitting. Crops are embedded, so the page stands alone."""
    from PIL import Image

    from convapps.io.images import load_image

    record = resolve_group(index, group)
    faces = index.faces(group=record.id)[:limit]
    title = record.name or f"group {record.id}"
    cells = []
    for face in faces:
        try:
            image = load_image(face.photo)
            region = crop_region(face.box, image.shape[1], image.shape[0])
        except ConvappsError as exc:  # a photo moved or changed since indexing: show why, keep the sheet
            cells.append(f'<figure class="missing"><figcaption>{html.escape(face.photo)}: {html.escape(str(exc))}')
            continue
        crop = Image.fromarray(image).crop(region)
        crop.thumbnail((size, size))
        buffer = io.BytesIO()
        crop.save(buffer, format="JPEG", quality=85)
        data = base64.b64encode(buffer.getvalue()).decode()
        caption = html.escape(f"face {face.id} · {Path(face.photo).name}")
        cells.append(
            f'<figure title="{html.escape(face.photo)}"><img src="data:image/jpeg;base64,{data}" '
            f'width="{crop.width}" height="{crop.height}" alt="face {face.id}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:14px system-ui,sans-serif;margin:1.5em}}figure{{display:inline-block;margin:4px;width:{size}px}}
figcaption{{font-size:11px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}}img{{border-radius:4px}}</style>
<h1>{html.escape(title)}: {record.size} face(s)</h1>
<p>Split wrong faces off with <code>convapps face split FACE_ID ...</code>; name the group with
<code>convapps face name {record.id} "Name"</code>.</p>
{"".join(cells)}
"""
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
