"""The face index of a photo archive: every face of every photo, with where it is, grouped into people.

Unlike the :class:`~convapps.gallery.base.Gallery` (named people, a few photos each), an archive index
holds unnamed faces by the million. It keeps three things:

* photos: path, content hash (SHA-256 of the bytes), size and modification time, number of faces, or the
  reason the photo could not be read. A photo's record is written in the same step as its faces, after
  them, so an index interrupted at any moment (even by SIGKILL) holds each photo either completely or
  not at all, and a re-run re-indexes exactly the photos without a record, with no duplicate faces;
* faces: photo, box (left, top, right, bottom), detector score, encoding f(x), group;
* groups: the people found by clustering (:mod:`convapps.face.archive.clustering`), unnamed until a
  user names one; named groups are kept when the index is clustered again.

This module holds the value types and the :class:`ArchiveIndex` contract; backends store: SQLite
(:mod:`~convapps.gallery.archive_sqlite`, one transaction per batch of photos) and Milvus
(:mod:`~convapps.gallery.archive_milvus`, a server or a Lite folder: no transactions, so a photo's record
is the commit point of its write, and faces of a photo without a record are invisible to every read).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import EmbeddingSpaceMismatchError, GalleryUnreadableError, InvalidInputError
from convapps.gallery.base import as_encodings
from convapps.gallery.closing import ClosingStore
from convapps.gallery.names import validate_name

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class PhotoRecord:
    """One indexed photo. ``error`` is set (and ``n_faces`` 0) when it could not be read."""

    path: str
    content_hash: str
    size: int
    mtime_ns: int
    n_faces: int = 0
    error: str | None = None


@dataclass(frozen=True)
class FaceRecord:
    """One face of the archive; ``group`` is None until the index is clustered."""

    id: int
    photo: str
    box: Box
    score: float
    group: int | None = None
    embedding: NDArray[np.float32] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class GroupRecord:
    """One group of faces (a person): its id, size, name (None until named) and a representative face
    (the face nearest the group's mean encoding)."""

    id: int
    size: int
    name: str | None
    representative: FaceRecord | None


@dataclass(frozen=True)
class NewFaces:
    """The faces found in one photo, to be stored with it: boxes ``(F, 4)``, scores ``(F,)``, encodings ``(F, D)``."""

    boxes: Sequence[Box]
    scores: Sequence[float]
    encodings: NDArray[np.float32]

    @classmethod
    def none(cls, dim: int) -> NewFaces:
        """No face in the photo."""
        return cls([], [], np.zeros((0, dim), np.float32))

    def checked(self, dim: int) -> NewFaces:
        """The same faces, validated: one box, score and encoding each, boxes well-formed, encodings finite."""
        n = len(self.boxes)
        if len(self.scores) != n or len(self.encodings) != n:
            raise InvalidInputError(
                f"{n} boxes, {len(self.scores)} scores and {len(self.encodings)} encodings: need one of each per face"
            )
        for box in self.boxes:
            if len(box) != 4 or box[2] < box[0] or box[3] < box[1]:
                raise InvalidInputError(f"bad face box {box}: need (left, top, right, bottom)")
        encodings = as_encodings(self.encodings, dim) if n else np.zeros((0, dim), np.float32)
        return NewFaces([tuple(int(v) for v in b) for b in self.boxes], [float(s) for s in self.scores], encodings)  # type: ignore[misc]


class ArchiveIndex(ClosingStore):
    """The contract every archive backend keeps (see module doc). Use as a context manager."""

    url: str

    def __init__(self, space: EmbeddingSpace) -> None:
        self.space = space

    # ---- photos -------------------------------------------------------------------------------
    @abstractmethod
    def photos(self) -> dict[str, PhotoRecord]:
        """Every indexed photo by path (readable or not)."""

    @abstractmethod
    def _put_photos(self, items: Sequence[tuple[PhotoRecord, NewFaces]]) -> None:
        """Store each photo's faces, then its record, replacing what the index held for that path."""

    def put_photos(self, items: Iterable[tuple[PhotoRecord, NewFaces]]) -> None:
        """Store photos with their faces (validated first; a photo already indexed is replaced whole)."""
        checked = []
        for record, faces in items:
            if not record.path:
                raise InvalidInputError("a photo needs a path")
            faces = faces.checked(self.space.dim)
            checked.append((PhotoRecord(**{**record.__dict__, "n_faces": len(faces.boxes)}), faces))
        if checked:
            self._put_photos(checked)

    @abstractmethod
    def drop_photos(self, paths: Iterable[str]) -> int:
        """Forget photos (and their faces); returns how many were indexed."""

    # ---- faces and groups ---------------------------------------------------------------------
    @abstractmethod
    def face_encodings(self, *, unnamed_only: bool = False) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Ids ``(F,)`` and encodings ``(F, D)`` of every face (or of those not in a named group)."""

    @abstractmethod
    def faces(
        self, *, group: int | None = None, photo: str | None = None, with_encodings: bool = False
    ) -> list[FaceRecord]:
        """Faces of one group or one photo (or all), ordered by photo path then box."""

    @abstractmethod
    def assign_groups(self, face_ids: Sequence[int], labels: Sequence[int]) -> int:
        """Replace the unnamed groups by ``labels`` (faces with one label form one new group) for the given
        faces, which must not be in a named group; returns the number of new groups."""

    @abstractmethod
    def groups(self) -> list[GroupRecord]:
        """Every group, largest first."""

    def group(self, group: int) -> GroupRecord | None:
        """One group by id (None when there is none); backends answer without reading every group."""
        return next((g for g in self.groups() if g.id == group), None)

    @abstractmethod
    def name_group(self, group: int, name: str) -> None:
        """Give a group a person's name (unique among groups)."""

    @abstractmethod
    def merge_groups(self, into: int, others: Sequence[int]) -> int:
        """Move every face of ``others`` into ``into`` and drop the emptied groups; returns faces moved."""

    @abstractmethod
    def split_faces(self, face_ids: Sequence[int]) -> int:
        """Move the given faces out of their group(s) into one new unnamed group; returns its id."""

    @abstractmethod
    def group_of_name(self, name: str) -> int | None:
        """The group named ``name`` (case and spacing as validated names compare), or None."""

    @staticmethod
    def clean_name(name: str) -> str:
        """The validated display form of a person's name."""
        return validate_name(name)


def check_archive_meta(url: str, meta: dict[str, str], space: EmbeddingSpace, *, version: str) -> None:
    """Refuse an archive index written in another format ``version`` or holding encodings of another
    embedding space than ``space`` (one-line errors naming ``url``)."""
    if meta.get("version") != version:
        raise GalleryUnreadableError(
            f"archive index {url} has format version {meta.get('version')}; this convapps reads {version}"
        )
    stored = EmbeddingSpace.from_json(meta["space"])
    if stored != space:
        raise EmbeddingSpaceMismatchError(
            f"archive index {url} holds encodings of {stored.describe()}, not {space.describe()}"
        )


def group_representatives(groups: NDArray[np.int64], x: NDArray[np.float32]) -> tuple[NDArray[np.int64], ...]:
    """Per group of faces (ascending id): its id, size, and the position of the face nearest the group's
    mean encoding (the first such face in the given order on ties). ``groups`` ``(F,)``, ``x`` ``(F, D)``."""
    ids, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    sums = np.zeros((len(ids), x.shape[1]), np.float64)
    np.add.at(sums, inverse, x)
    d = ((x - (sums / sizes[:, None])[inverse]) ** 2).sum(axis=1)
    order = np.lexsort((np.arange(len(x)), d, inverse))
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    return ids, sizes, order[starts]
