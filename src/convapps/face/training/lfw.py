"""LFW protocol files (``people*.txt``, ``pairs*.txt``), image paths and identity splits.

View 1 (development): ``peopleDevTrain.txt`` / ``peopleDevTest.txt`` list disjoint people;
``pairsDevTrain.txt`` / ``pairsDevTest.txt`` hold 1100 / 500 same-person pairs followed by as many
different-person pairs. View 2: ``pairs.txt`` holds 10 folds of 300 same + 300 different pairs,
``people.txt`` 10 folds of people. Images live in ``lfw-deepfunneled/<Name>/<Name>_<NNNN>.jpg``.
Train/validation/test splits are always by identity, never by image; :func:`assert_disjoint_identities`
enforces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convapps.errors import IdentityLeakError, NotFoundError

IMAGES_DIR = "lfw-deepfunneled"


@dataclass(frozen=True, order=True)
class FaceImage:
    """One LFW image: person name and image number (1-based)."""

    name: str
    number: int

    def path(self, root: Path) -> Path:
        """``root/lfw-deepfunneled/<name>/<name>_<number:04d>.jpg``."""
        return root / IMAGES_DIR / self.name / f"{self.name}_{self.number:04d}.jpg"


@dataclass(frozen=True)
class FacePair:
    """A verification pair; ``same`` is True for two images of one person; ``fold`` is 0 in View 1."""

    first: FaceImage
    second: FaceImage
    same: bool
    fold: int = 0


def check_lfw_root(root: Path) -> Path:
    """``root`` if it holds ``lfw-deepfunneled/``; otherwise a :class:`NotFoundError` saying what is expected."""
    if not (root / IMAGES_DIR).is_dir():
        raise NotFoundError(
            f"{root} is not an LFW folder: expected {root / IMAGES_DIR}/ and the people/pairs .txt files"
        )
    return root


def _lines(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise NotFoundError(f"LFW protocol file {path} does not exist")
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def read_people(path: Path) -> dict[str, int]:
    """People and image counts of ``peopleDevTrain.txt``/``peopleDevTest.txt`` (or all folds of ``people.txt``)."""
    rows = _lines(path)
    return {row[0]: int(row[1]) for row in rows if len(row) == 2}


def read_pairs(path: Path) -> list[FacePair]:
    """Pairs of ``pairsDevTrain.txt``, ``pairsDevTest.txt`` or ``pairs.txt`` (folds numbered 0..9)."""
    rows = _lines(path)
    header = [int(v) for v in rows[0]]
    folds, per_fold = (1, header[0]) if len(header) == 1 else (header[0], header[1])
    pairs: list[FacePair] = []
    body = rows[1:]
    for fold in range(folds):
        chunk = body[fold * 2 * per_fold : (fold + 1) * 2 * per_fold]
        for i, row in enumerate(chunk):
            if i < per_fold:
                pairs.append(FacePair(FaceImage(row[0], int(row[1])), FaceImage(row[0], int(row[2])), True, fold))
            else:
                pairs.append(FacePair(FaceImage(row[0], int(row[1])), FaceImage(row[2], int(row[3])), False, fold))
    return pairs


def people_images(people: dict[str, int], *, min_images: int = 1) -> list[FaceImage]:
    """All images of the people having at least ``min_images`` images, sorted by name then number."""
    return [
        FaceImage(name, k) for name in sorted(people) if people[name] >= min_images for k in range(1, people[name] + 1)
    ]


def pair_images(pairs: Iterable[FacePair]) -> list[FaceImage]:
    """The distinct images used by ``pairs``, sorted."""
    return sorted({img for pair in pairs for img in (pair.first, pair.second)})


def identity_split(names: Sequence[str], *, val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Split identities (never images) into train and validation names, deterministically for ``seed``."""
    ordered = sorted(names)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(ordered))
    n_val = round(len(ordered) * val_fraction)
    val = sorted(ordered[i] for i in perm[:n_val])
    train = sorted(ordered[i] for i in perm[n_val:])
    return train, val


def assert_disjoint_identities(train: Iterable[str], test: Iterable[str], *, what: str) -> None:
    """Raise :class:`IdentityLeakError` when a test identity also appears in training (``what`` names the sets)."""
    shared = sorted(set(train) & set(test))
    if shared:
        raise IdentityLeakError(f"{len(shared)} identities of {what} are in both training and test (e.g. {shared[0]})")


def fold_people(pairs: Sequence[FacePair], folds: Iterable[int]) -> set[str]:
    """Names of the people appearing in the pairs of ``folds``."""
    wanted = set(folds)
    return {img.name for p in pairs if p.fold in wanted for img in (p.first, p.second)}
