"""The archive desk: a photo archive's face index (written by ``convapps face index``) seen from the service.

It lists the groups of faces (people) largest first, cuts face crops and downscaled photos out of the
photo files the index records, names a group (the library's :func:`~convapps.face.archive.people.name_group`,
which also enrolls the person in the service's gallery), merges groups and lists a named person's photos.

Only photos recorded in the index are ever read: every image is reached through a face id of the index,
never through a path a client sends, and a photo whose size or modification time differs from its record
(changed, moved, deleted since indexing) is refused with 410 rather than cropped at stale boxes.

The index may not exist when the service starts (``convapps face index`` creates it later), so it is opened
on first use and every request checks that its file is still there. Listing the groups asks the index for
every group and its representative face (one pass over the encodings), so the desk keeps a compact
snapshot (groups, and per face its photo and box) and reads it again when the index changes: for a SQLite
index, when its file or write-ahead log changes (size, modification time: e.g. after ``convapps face
cluster``); for other backends, at most every :data:`REREAD_S` seconds. Its own naming updates the
snapshot in place, its merging reads it again.
"""

from __future__ import annotations

import math
import stat
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import ConflictError, ConvappsError, ImageError, InvalidInputError, NotFoundError
from convapps.face.archive.people import crop_region, find_by_name, name_group
from convapps.gallery import Gallery, GalleryUrl, Identity, open_archive_index, parse_gallery_url
from convapps.gallery.archive_base import ArchiveIndex, Box, FaceRecord
from convapps.io.images import load_image
from convapps.web.errors import ServiceBusyError
from convapps.web.features.images import jpeg_bytes
from convapps.web.settings import WebSettings
from convapps.web.uploads import decode_gate

SAMPLE_FACES = 4
"""Faces shown per group card: the representative, then the group's first faces in photo order."""

REREAD_S = 10.0
"""How stale the snapshot of an index that is not a SQLite file (Milvus) may get."""

CREATE_HINT = (
    "there is no photo archive index yet. On the machine running the service, index a folder of photos "
    "with 'convapps face index FOLDER', group the faces with 'convapps face cluster', then reload this page"
)


class ArchiveIndexMissingError(NotFoundError):
    """The archive index file does not exist (yet); the message says how to create it."""


class PhotoGoneError(ConvappsError):
    """The photo of a face was moved, deleted or changed since it was indexed."""

    http_status = 410


@dataclass(frozen=True)
class GroupRow:
    """One group as the page shows it: id, size, name, representative face and a few faces to show."""

    id: int
    size: int
    name: str | None
    representative: int | None
    sample: tuple[int, ...]


@dataclass(frozen=True)
class Totals:
    """What the whole index holds."""

    photos: int
    faces: int
    groups: int
    named: int
    ungrouped: int


@dataclass(frozen=True)
class FaceView:
    """One face of the index with the record of its photo (to check the file is the one indexed)."""

    id: int
    photo: str
    box: Box
    group: int | None
    photo_size: int
    photo_mtime_ns: int

    @property
    def tag(self) -> str:
        """Changes whenever the face or its photo file does (the base of an HTTP ETag)."""
        return f"{self.id}-{self.photo_size}-{self.photo_mtime_ns}"


@dataclass(frozen=True)
class PhotoView:
    """A photo where a person appears: a face of theirs in it (the reference to fetch the photo), the
    boxes of their faces, and the photo's upright size (None with ``problem`` when it cannot be read now)."""

    face: int
    photo: str
    boxes: list[Box]
    width: int | None
    height: int | None
    problem: str | None


@dataclass(frozen=True)
class Naming:
    """A group just named and the gallery person it enrolled (``added``: faces added to someone enrolled)."""

    group: GroupRow
    person: Identity
    added: bool


Signature = tuple[object, ...]


@dataclass(frozen=True)
class Snapshot:
    """The index as last read: groups largest first, and per face (sorted by id) its photo and box."""

    signature: Signature
    groups: tuple[GroupRow, ...]
    face_ids: NDArray[np.int64]
    face_photo: NDArray[np.int64]
    face_boxes: NDArray[np.int64]
    face_group: NDArray[np.int64]
    photo_paths: tuple[str, ...]
    photo_sizes: NDArray[np.int64]
    photo_mtimes: NDArray[np.int64]
    totals: Totals

    def group(self, group_id: int) -> GroupRow:
        for row in self.groups:
            if row.id == group_id:
                return row
        raise NotFoundError(
            f"there is no group {group_id} in the archive (it may have been merged or grouped again); reload the page"
        )

    def face(self, face_id: int) -> FaceView:
        at = int(np.searchsorted(self.face_ids, face_id))
        if at >= len(self.face_ids) or int(self.face_ids[at]) != face_id:
            raise NotFoundError(f"there is no face {face_id} in the archive; reload the page")
        photo = int(self.face_photo[at])
        left, top, right, bottom = (int(v) for v in self.face_boxes[at])
        group = int(self.face_group[at])
        return FaceView(
            id=face_id,
            photo=self.photo_paths[photo],
            box=(left, top, right, bottom),
            group=None if group < 0 else group,
            photo_size=int(self.photo_sizes[photo]),
            photo_mtime_ns=int(self.photo_mtimes[photo]),
        )


def index_signature(location: GalleryUrl) -> Signature | None:
    """What changes when the index does (None: there is no index). A SQLite file: the identity, size and
    modification time of the file and of its write-ahead log. Other backends: the current
    :data:`REREAD_S`-second period (a local Milvus Lite folder must exist)."""
    path = location.path
    if location.backend != "sqlite" or path is None:
        if path is not None and not path.exists():
            return None
        return ("period", int(time.monotonic() // REREAD_S))
    try:
        main = path.stat()
    except OSError:
        return None
    try:
        log = path.with_name(path.name + "-wal").stat()
        wal: tuple[int, int] | None = (log.st_mtime_ns, log.st_size)
    except OSError:
        wal = None
    return (main.st_ino, main.st_mtime_ns, main.st_size, wal)


def read_snapshot(index: ArchiveIndex, signature: Signature) -> Snapshot:
    """Every group (with a few faces each), every face's photo and box, and the totals, read once."""
    records = index.groups()
    faces = index.faces()
    photos = index.photos()
    paths: dict[str, int] = {}
    n = len(faces)
    ids = np.empty(n, np.int64)
    photo_of = np.empty(n, np.int64)
    boxes = np.empty((n, 4), np.int64)
    group_of = np.full(n, -1, np.int64)
    first: dict[int, list[int]] = {}
    for i, face in enumerate(faces):
        ids[i] = face.id
        photo_of[i] = paths.setdefault(face.photo, len(paths))
        boxes[i] = face.box
        if face.group is not None:
            group_of[i] = face.group
            shown = first.setdefault(face.group, [])
            if len(shown) < SAMPLE_FACES:
                shown.append(face.id)
    order = np.argsort(ids, kind="stable")
    sizes = np.array([photos[p].size if p in photos else -1 for p in paths], np.int64)
    mtimes = np.array([photos[p].mtime_ns if p in photos else -1 for p in paths], np.int64)
    rows = []
    for record in records:
        rep = record.representative.id if record.representative is not None else None
        others = [f for f in first.get(record.id, []) if f != rep]
        sample = tuple(([rep] if rep is not None else []) + others)[:SAMPLE_FACES]
        rows.append(GroupRow(record.id, record.size, record.name, rep, sample))
    totals = Totals(
        photos=sum(1 for p in photos.values() if p.error is None),
        faces=n,
        groups=len(rows),
        named=sum(1 for r in rows if r.name),
        ungrouped=int((group_of < 0).sum()),
    )
    return Snapshot(
        signature=signature,
        groups=tuple(rows),
        face_ids=ids[order],
        face_photo=photo_of[order],
        face_boxes=boxes[order],
        face_group=group_of[order],
        photo_paths=tuple(paths),
        photo_sizes=sizes,
        photo_mtimes=mtimes,
        totals=totals,
    )


def upright_size(path: Path) -> tuple[int, int]:
    """Width and height of the photo at ``path`` as :func:`~convapps.io.images.load_image` returns it
    (EXIF orientation applied), read from the header only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            width, height = img.size
            orientation = int(img.getexif().get(ExifTags.Base.Orientation, 1) or 1)
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


class ArchiveDesk:
    """The archive index of ``settings.archive_index_url``, opened on first use (see the module doc)."""

    def __init__(self, settings: WebSettings, *, space: EmbeddingSpace | None = None) -> None:
        if space is None:  # the default encoder's space, from the registry: no weights are loaded
            from convapps.models.registry import DLIB_RESNET

            space = DLIB_RESNET.space
        self.space = space
        self.settings = settings
        self.location: GalleryUrl | None = None
        self.problem: str | None = None
        try:
            self.location = parse_gallery_url(settings.archive_index_url)
        except ConvappsError as err:
            self.problem = f"the archive index setting is not usable: {err}"
        self._lock = threading.RLock()  # the open index and its snapshot
        self._write_lock = threading.Lock()  # one change at a time (naming reads every group first)
        self._index: ArchiveIndex | None = None
        self._opened: Signature = ()  # the signature of the file when it was opened (its inode first)
        self._snapshot: Snapshot | None = None

    # ---- the index and its snapshot ----------------------------------------------------------
    def _open(self) -> tuple[ArchiveIndex, Signature]:
        """The open index and its file's signature; ArchiveIndexMissingError (404) when there is none."""
        if self.location is None:
            raise InvalidInputError(self.problem or "no archive index is configured")
        with self._lock:
            signature = index_signature(self.location)
            if signature is None or (self._index is not None and signature[0] != self._opened[0]):
                self._forget()  # gone, or another file now at that path (e.g. an index made anew)
            if signature is None:
                raise ArchiveIndexMissingError(CREATE_HINT)
            if self._index is None:
                self._index = open_archive_index(self.settings.archive_index_url, space=self.space, create=False)
                signature = index_signature(self.location) or signature  # opening may start a write-ahead log
                self._opened = signature
            return self._index, signature

    def _forget(self) -> None:
        if self._index is not None:
            self._index.close()
        self._index, self._snapshot = None, None

    def index(self) -> ArchiveIndex:
        """The open index; ArchiveIndexMissingError (404) when its file does not exist."""
        return self._open()[0]

    def snapshot(self) -> Snapshot:
        """The index as it is now (read again when its file changed since the last read)."""
        with self._lock:
            index, signature = self._open()
            if self._snapshot is None or self._snapshot.signature != signature:
                self._snapshot = read_snapshot(index, signature)
            return self._snapshot

    def close(self) -> None:
        with self._lock:
            self._forget()

    # ---- reading -----------------------------------------------------------------------------
    def groups(self, *, offset: int, limit: int, min_size: int = 1) -> tuple[list[GroupRow], int, Totals]:
        """One page of the groups of at least ``min_size`` faces, largest first; their number; the totals."""
        snap = self.snapshot()
        shown = [row for row in snap.groups if row.size >= min_size]
        return shown[offset : offset + limit], len(shown), snap.totals

    def group_faces(self, group_id: int, *, offset: int, limit: int) -> tuple[GroupRow, list[FaceRecord], int]:
        """One page of a group's faces (ordered by photo, then box) and how many it has."""
        row = self.snapshot().group(group_id)
        faces = self.index().faces(group=group_id)
        return row, faces[offset : offset + limit], len(faces)

    def face(self, face_id: int) -> FaceView:
        """A face with its photo, the photo file checked to be the one indexed (PhotoGoneError, 410)."""
        view = self.snapshot().face(face_id)
        self._indexed_file(view)
        return view

    def person_photos(self, name: str, *, offset: int, limit: int) -> tuple[GroupRow, list[PhotoView], int]:
        """One page of the photos where the person called ``name`` appears (the library's ``find_by_name``),
        each with the boxes of their faces and the photo's size; and how many photos there are."""
        snap = self.snapshot()
        index = self.index()
        group_id = index.group_of_name(name)
        if group_id is None:
            raise NotFoundError(f"nobody in the archive is named {index.clean_name(name)!r}")
        hits = find_by_name(index, name)
        refs: dict[str, int] = {}
        for record in index.faces(group=group_id):
            refs.setdefault(record.photo, record.id)
        photos = []
        for hit in hits[offset : offset + limit]:
            face = snap.face(refs[hit.photo])
            width = height = None
            problem = None
            try:
                self._indexed_file(face)
                width, height = upright_size(Path(face.photo))
            except PhotoGoneError as err:
                problem = str(err)
            except (OSError, ValueError, Image.DecompressionBombError) as err:
                problem = f"the photo {Path(face.photo).name} can no longer be read ({type(err).__name__})"
            photos.append(PhotoView(face.id, hit.photo, list(hit.boxes), width, height, problem))
        return snap.group(group_id), photos, len(hits)

    def _indexed_file(self, face: FaceView) -> Path:
        """The photo file of ``face``, refused (PhotoGoneError) when it is not the file that was indexed."""
        path = Path(face.photo)
        try:
            found = path.stat()
        except OSError:
            raise PhotoGoneError(
                f"the photo {path.name} is no longer where it was indexed (moved or deleted); "
                "run 'convapps face index' on its folder again"
            ) from None
        indexed = (face.photo_size, face.photo_mtime_ns)
        if not stat.S_ISREG(found.st_mode) or (found.st_size, found.st_mtime_ns) != indexed:
            raise PhotoGoneError(
                f"the photo {path.name} changed since it was indexed; run 'convapps face index' on its folder again"
            )
        return path

    def _load(self, face: FaceView, max_side: int | None) -> NDArray[np.uint8]:
        """Decode the photo of ``face`` (at most ``max_side`` a side), one of ``max_decodes`` at a time. The
        pixel limits are the library's defaults, the ones indexing used: these are the owner's own files."""
        path = self._indexed_file(face)
        gate = decode_gate(self.settings)
        if not gate.acquire(timeout=self.settings.decode_wait_s):
            raise ServiceBusyError(f"{self.settings.max_decodes} images are being decoded (the limit); try again")
        try:
            return load_image(path, max_side=max_side, name=path.name)
        except ImageError as err:
            raise PhotoGoneError(f"the photo {path.name} can no longer be read: {err}") from err
        finally:
            gate.release()

    def crop_jpeg(self, face: FaceView, size: int) -> bytes:
        """A JPEG of the face's :func:`crop_region`, its longer side ``size`` pixels. A large photo is decoded
        at a reduced scale, just large enough for the crop."""
        try:
            width, height = upright_size(self._indexed_file(face))
        except (OSError, ValueError, Image.DecompressionBombError):
            raise PhotoGoneError(f"the photo {Path(face.photo).name} can no longer be read") from None
        region = crop_region(face.box, width, height)
        scale = min(1.0, size / max(region[2] - region[0], region[3] - region[1]))
        max_side = None if scale >= 1.0 else max(1, math.ceil(max(width, height) * scale))
        pixels = self._load(face, max_side)
        factor = pixels.shape[1] / width
        left, top, right, bottom = (round(v * factor) for v in region)
        crop = Image.fromarray(pixels[top : max(bottom, top + 1), left : max(right, left + 1)])
        longer = max(crop.size)
        target = (max(1, round(crop.width * size / longer)), max(1, round(crop.height * size / longer)))
        return jpeg_bytes(np.asarray(crop.resize(target, Image.Resampling.LANCZOS)))

    def photo_jpeg(self, face: FaceView, max_side: int) -> bytes:
        """A JPEG of the whole photo of ``face``, its longer side at most ``max_side`` pixels."""
        return jpeg_bytes(self._load(face, max_side))

    # ---- changes -----------------------------------------------------------------------------
    def name(self, group_id: int, name: str, gallery: Gallery) -> Naming:
        """Name an unnamed group and enroll that person in ``gallery`` from the group's faces (added to the
        person already enrolled under exactly that name, if any). Checked before anything changes: the
        group exists and has no name, no other group has the name, the gallery has no look-alike of it."""
        with self._write_lock:
            row = self.snapshot().group(group_id)
            index = self.index()
            if row.name:
                raise ConflictError(f"group {group_id} is already named {row.name!r}")
            clean = index.clean_name(name)
            other = index.group_of_name(clean)
            if other is not None and other != group_id:
                taken = next((r.name for r in self.snapshot().groups if r.id == other), None) or clean
                raise ConflictError(
                    f"group {other} is already named {taken!r}; if both groups are the same person, merge them "
                    f"('convapps face merge {other} {group_id}')"
                )
            added = clean in gallery.names()
            person = name_group(index, str(group_id), clean, gallery=gallery)  # checks the gallery first
            assert person is not None
            named = replace(row, name=clean)
            self._patch(named)
            return Naming(named, person, added)

    def _patch(self, row: GroupRow) -> None:
        """Put a group just named into the snapshot (the index file changed only by that)."""
        with self._lock:
            snap, location = self._snapshot, self.location
            if snap is None or location is None:
                return
            rows = tuple(row if r.id == row.id else r for r in snap.groups)
            totals = replace(snap.totals, named=sum(1 for r in rows if r.name))
            signature = index_signature(location)
            fresh = None if signature is None else replace(snap, groups=rows, totals=totals, signature=signature)
            self._snapshot = fresh

    def merge(self, group_id: int, others: Sequence[int]) -> tuple[GroupRow, int]:
        """Move every face of the ``others`` groups into ``group_id``; returns the merged group and the faces
        moved. A named group is never merged away (merge the other way round), and two groups with
        different names are not merged."""
        with self._write_lock:
            snap = self.snapshot()
            index = self.index()
            into = snap.group(group_id)
            rest = [snap.group(g) for g in dict.fromkeys(others) if g != group_id]
            if not rest:
                raise InvalidInputError("name at least one other group to merge into this one")
            for row in rest:
                if row.name and not into.name:
                    raise ConflictError(f"group {row.id} is named {row.name!r}: merge group {group_id} into it instead")
                if row.name and into.name and row.name != into.name:
                    raise ConflictError(
                        f"groups {group_id} and {row.id} have different names ({into.name!r}, {row.name!r})"
                    )
            moved = index.merge_groups(group_id, [r.id for r in rest])
            with self._lock:
                self._snapshot = None
            return self.snapshot().group(group_id), moved
