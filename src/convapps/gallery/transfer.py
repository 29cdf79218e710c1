"""Export and import a gallery's encodings (never images) as one ``.npz`` file, read without pickle.

Arrays: ``format`` and ``space`` (JSON strings), ``names`` (K,), ``metadata`` (K,) JSON strings,
``counts`` (K,) encodings per person, ``encodings`` (sum(counts), D) float32 in person order.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import AlreadyEnrolledError, GalleryUnreadableError
from convapps.gallery.base import Gallery, Identity, Metadata

FORMAT = "convapps-gallery-export-1"
Person = tuple[str, NDArray[np.float32], Metadata]


def export_gallery(gallery: Gallery, file: Path) -> int:
    """Write every person of ``gallery`` to ``file``; returns the number of people."""
    space = gallery.space
    names, metas, counts, blocks = [], [], [], []
    for person, encodings in gallery.export():
        names.append(person.name)
        metas.append(json.dumps(dict(person.metadata)))
        counts.append(len(encodings))
        blocks.append(encodings)
    dim = space.dim if space else 0
    with Path(file).open("wb") as fh:
        np.savez(
            fh,
            format=np.array(FORMAT),
            space=np.array(space.to_json() if space else "null"),
            names=np.array(names, dtype=str),
            metadata=np.array(metas, dtype=str),
            counts=np.array(counts, dtype=np.int64),
            encodings=np.concatenate(blocks).astype(np.float32) if blocks else np.zeros((0, dim), np.float32),
        )
    return len(names)


def read_export(file: Path) -> tuple[EmbeddingSpace | None, list[Person]]:
    """The space and people of an export file; GalleryUnreadableError if it is not one."""
    try:
        with np.load(file, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT:
                raise GalleryUnreadableError(f"{file} is not a convapps gallery export")
            space_json = str(data["space"])
            names, metas = data["names"].tolist(), data["metadata"].tolist()
            counts, encodings = data["counts"], data["encodings"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise GalleryUnreadableError(f"{file} is not a readable convapps gallery export: {exc}") from exc
    space = None if space_json == "null" else EmbeddingSpace.from_json(space_json)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    if len(names) != len(counts) or offsets[-1] != len(encodings):
        raise GalleryUnreadableError(f"{file} is inconsistent (counts do not match the encodings)")
    people = [(n, encodings[offsets[i] : offsets[i + 1]], json.loads(metas[i])) for i, n in enumerate(names)]
    return space, people


def import_gallery(gallery: Gallery, people: list[Person], *, skip_existing: bool = False) -> list[Identity]:
    """Enroll ``people`` in ONE transaction (all or nothing); existing names fail unless skipped."""
    existing = {p.name for p in gallery.identities()}
    clash = [n for n, _, _ in people if n in existing]
    if clash and not skip_existing:
        raise AlreadyEnrolledError(f"{len(clash)} name(s) already enrolled, e.g. {clash[0]!r}")
    todo = [p for p in people if p[0] not in existing]
    return gallery.enroll_many(todo) if todo else []
