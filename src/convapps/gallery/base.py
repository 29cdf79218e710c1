"""The identity gallery interface shared by every backend (SQLite, Milvus).

The lecture's face recognition keeps "a database of K persons" and stores their *encodings*
f(x) in R^D, not their images. A person is enrolled from one photo (one-shot) and can be added or
removed without retraining anything. Identification of a probe encoding q is

    d_k = min_j ||q - f(x_kj)||^2        (nearest encoding j of identity k)
    k*  = argmin_k d_k;  output k* if d_k* <= tau, else "not recognized".

This module holds the value types and :class:`Gallery`, an abstract base that validates inputs
(names, encoding shapes, the embedding space) once and leaves storage to the backends.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import EmbeddingSpaceMismatchError, InvalidInputError
from convapps.gallery.closing import ClosingStore
from convapps.gallery.names import (
    MAX_NAME_LENGTH,
    check_batch_distinct,
    check_name_free,
    name_skeleton,
    validate_name,
)

Metadata = Mapping[str, str | int | float | bool | None]
SearchMode = Literal["exact", "ann"]
__all__ = ["MAX_NAME_LENGTH", "Gallery", "Identity", "Match", "Metadata", "SearchMode", "validate_name"]


@dataclass(frozen=True)
class Identity:
    """One enrolled person. ``id`` never changes, even when the person is renamed."""

    id: int
    name: str
    n_encodings: int
    metadata: Metadata = field(default_factory=dict)
    created_at: str = ""


@dataclass(frozen=True)
class Match:
    """The nearest encoding of one identity to a probe: squared L2 ``distance`` (lower = closer)."""

    identity: Identity
    distance: float


def validate_metadata(metadata: Metadata | None) -> dict[str, str | int | float | bool | None]:
    """Copy metadata, allowing only string keys and JSON scalar values."""
    out: dict[str, str | int | float | bool | None] = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not (value is None or isinstance(value, str | int | float | bool)):
            raise InvalidInputError(f"metadata must map strings to strings/numbers/booleans, got {key!r}")
        out[key] = value
    return out


def as_encodings(encodings: ArrayLike, dim: int, *, what: str = "encodings") -> NDArray[np.float32]:
    """Return ``encodings`` as a C-contiguous float32 array of shape (N, D); refuse NaN/inf or bad shapes."""
    arr = np.asarray(encodings, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise InvalidInputError(f"{what} must have shape (N, {dim}), got {tuple(np.shape(encodings))}")
    if arr.shape[0] == 0:
        raise InvalidInputError(f"no {what} given")
    if not np.isfinite(arr).all():
        raise InvalidInputError(f"{what} contain NaN or infinite values")
    return np.ascontiguousarray(arr)


class Gallery(ClosingStore):
    """A store of identities and their encodings, searchable by nearest encoding.

    Open one with :func:`convapps.gallery.open_gallery`. Writes are atomic per call: an enroll,
    remove or rename either happens entirely or not at all. A gallery records the embedding space of
    its encodings when the first person is enrolled and then refuses any other space.
    """

    url: str
    mode: SearchMode = "exact"

    def __init__(self, *, space: EmbeddingSpace | None) -> None:
        self._bound = space
        self._skeletons: dict[str, str] = {}

    # ---- the embedding space --------------------------------------------------------------------
    @property
    def space(self) -> EmbeddingSpace | None:
        """The space recorded in the gallery (``None`` while the gallery is empty and unbound)."""
        return self._stored_space() or self._bound

    def _check_space(self) -> EmbeddingSpace:
        stored = self._stored_space()
        if self._bound is None:
            if stored is None:
                raise InvalidInputError(f"gallery {self.url} is empty: open it with an encoder's space")
            return stored
        if stored is not None and stored != self._bound:
            raise EmbeddingSpaceMismatchError(
                f"gallery {self.url} holds encodings of {stored.describe()}, "
                f"not {self._bound.describe()}; use another gallery for this model"
            )
        return self._bound

    # ---- writes -------------------------------------------------------------------------------
    def enroll(self, name: str, encodings: ArrayLike, *, metadata: Metadata | None = None) -> Identity:
        """Add a new person with one or more encodings (shape (N, D) or (D,)) in one transaction.

        Raises ConflictError if the name is taken.
        """
        return self.enroll_many([(name, encodings, metadata)])[0]

    def enroll_many(self, people: Iterable[tuple[str, ArrayLike, Metadata | None]]) -> list[Identity]:
        """Add several new people in ONE transaction (all or none); for bulk import and benchmarks."""
        space = self._check_space()
        rows = [(validate_name(n), as_encodings(e, space.dim), validate_metadata(m)) for n, e, m in people]
        check_batch_distinct(r[0] for r in rows)
        taken = self._taken_skeletons()
        for name, _, _ in rows:
            check_name_free(name, taken)
        return self._insert_people(rows, space)

    def check_new_name(self, name: str, *, renaming: str | None = None) -> str:
        """``name`` validated for a new person (or for renaming the person called ``renaming``): the
        name rules of :mod:`convapps.gallery.names`, not enrolled and not confusable with an enrolled name.

        Raises:
            ConflictError: the name is taken.
            InvalidInputError: the name breaks a rule or is confusable with an enrolled name.
        """
        return check_name_free(name, self._taken_skeletons(), renaming=renaming)

    def names(self) -> list[str]:
        """The names of everyone enrolled (backends may answer faster than :meth:`identities`)."""
        return [p.name for p in self.identities()]

    def _taken_skeletons(self) -> dict[str, str]:
        """Every enrolled name -> its :func:`name_skeleton`, computed once per name and gallery object."""
        cache = self._skeletons
        names = self.names()
        if len(cache) > 2 * len(names) + 1024:  # names renamed or removed since: start afresh
            cache.clear()
        return {name: cache[name] if name in cache else cache.setdefault(name, name_skeleton(name)) for name in names}

    def add_encodings(self, name: str, encodings: ArrayLike) -> Identity:
        """Add more encodings to an existing person (the decision uses the nearest one)."""
        space = self._check_space()
        return self._append(validate_name(name), as_encodings(encodings, space.dim), space)

    @abstractmethod
    def remove(self, name: str) -> Identity:
        """Delete a person and all their encodings; NotFoundError if unknown."""

    @abstractmethod
    def rename(self, old: str, new: str) -> Identity:
        """Give a person a new name, keeping their id; NotFoundError / ConflictError, InvalidInputError
        for a name confusable with another person's (backends check ``check_new_name(new, renaming=old)``)."""

    # ---- reads --------------------------------------------------------------------------------
    @abstractmethod
    def get(self, name: str) -> Identity:
        """The person called ``name``; NotFoundError (with close matches) if unknown."""

    @abstractmethod
    def identities(self) -> list[Identity]:
        """Every enrolled person, ordered by id."""

    @abstractmethod
    def encodings_of(self, name: str) -> NDArray[np.float32]:
        """The stored encodings of one person, shape (N, D)."""

    def encodings_by_id(self, people: Sequence[Identity]) -> dict[int, NDArray[np.float32]]:
        """The stored encodings of several people at once, by id (backends may serve them from memory)."""
        return {person.id: self.encodings_of(person.name) for person in people}

    @abstractmethod
    def __len__(self) -> int:
        """Number of enrolled people K."""

    def export(self) -> Iterator[tuple[Identity, NDArray[np.float32]]]:
        """Yield every person with their encodings (for ``face export``)."""
        for person in self.identities():
            yield person, self.encodings_of(person.name)

    def search(self, probes: ArrayLike, *, k: int = 1) -> list[list[Match]]:
        """For each probe encoding (shape (B, D) or (D,)), the ``k`` nearest identities.

        Each identity's distance is that of its nearest encoding; lists are sorted by distance and
        shorter than ``k`` when fewer people are enrolled. Exact unless the gallery was opened with
        ``mode="ann"``.
        """
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}")
        space = self._check_space()
        return self._search(as_encodings(probes, space.dim, what="probe encodings"), k)

    # ---- backend hooks ------------------------------------------------------------------------
    @abstractmethod
    def _stored_space(self) -> EmbeddingSpace | None: ...

    @abstractmethod
    def _insert_people(
        self,
        rows: Sequence[tuple[str, NDArray[np.float32], dict[str, str | int | float | bool | None]]],
        space: EmbeddingSpace,
    ) -> list[Identity]: ...

    @abstractmethod
    def _append(self, name: str, encodings: NDArray[np.float32], space: EmbeddingSpace) -> Identity: ...

    @abstractmethod
    def _search(self, queries: NDArray[np.float32], k: int) -> list[list[Match]]: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, mode={self.mode!r})"
