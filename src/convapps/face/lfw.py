"""The LFW protocol: people and pairs files, image paths, identity splits and the disjointness check.

View 1 (development): ``peopleDevTrain.txt`` / ``peopleDevTest.txt`` list disjoint people;
``pairsDevTrain.txt`` / ``pairsDevTest.txt`` hold 1100 / 500 same-person pairs followed by as many
different-person pairs (header ``N``). View 2: ``pairs.txt`` holds 10 folds of 300 same + 300 different
pairs (header ``10 300``), ``people.txt`` 10 folds of people. View 1 is for choosing hyper-parameters
such as tau, View 2 only reports the final accuracy. Images live in
``lfw-deepfunneled/<Name>/<Name>_<NNNN>.jpg``. Train/validation/test splits are always by identity,
never by image; :func:`assert_disjoint_identities` enforces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.core.distances import squared_l2_distance
from convapps.errors import DataFileError, IdentityLeakError, NotFoundError

IMAGES_DIR = "lfw-deepfunneled"


@dataclass(frozen=True, order=True)
class FaceImage:
    """One LFW image: person name and image number (1-based)."""

    name: str
    number: int

    @property
    def stem(self) -> str:
        """``<name>_<number:04d>``, the file name without ``.jpg``."""
        return f"{self.name}_{self.number:04d}"

    def in_folder(self, images: Path) -> Path:
        """``images/<name>/<name>_<number:04d>.jpg`` for a folder of images laid out like LFW's."""
        return images / self.name / f"{self.stem}.jpg"

    def path(self, root: Path) -> Path:
        """``root/lfw-deepfunneled/<name>/<name>_<number:04d>.jpg`` for an LFW folder ``root``."""
        return self.in_folder(root / IMAGES_DIR)


@dataclass(frozen=True)
class FacePair:
    """A verification pair; ``same`` is True for two images of one person; ``fold`` is 0-based (0 in View 1)."""

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


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank lines of a protocol file as ``(line number, fields)``."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise NotFoundError(f"LFW protocol file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataFileError(f"{path}: cannot read the protocol file ({type(err).__name__})") from None
    return [(i + 1, line.split()) for i, line in enumerate(text.splitlines()) if line.strip()]


def read_people(path: Path) -> dict[str, int]:
    """People and image counts of ``peopleDevTrain.txt``/``peopleDevTest.txt`` (or all folds of ``people.txt``)."""
    return {row[0]: int(row[1]) for _, row in _rows(path) if len(row) == 2 and row[1].isdigit()}


def _pair(file: Path, line: int, row: list[str], fold: int) -> FacePair:
    if len(row) == 3 and row[1].isdigit() and row[2].isdigit():
        return FacePair(FaceImage(row[0], int(row[1])), FaceImage(row[0], int(row[2])), True, fold)
    if len(row) == 4 and row[1].isdigit() and row[3].isdigit():
        return FacePair(FaceImage(row[0], int(row[1])), FaceImage(row[2], int(row[3])), False, fold)
    raise DataFileError(f"{file}: line {line} is not 'name n1 n2' or 'name1 n1 name2 n2'")


def read_pairs(path: Path) -> list[FacePair]:
    """Pairs of ``pairsDevTrain.txt``, ``pairsDevTest.txt`` or ``pairs.txt`` (folds numbered 0..9).

    The header is ``N`` (one fold) or ``FOLDS N``; each fold holds N same-person pairs, then N
    different-person pairs.

    Raises:
        NotFoundError: the file does not exist.
        DataFileError: the header, the number of pairs or a line is malformed (the message names file and line).
    """
    file = Path(path)
    rows = _rows(file)
    if not rows or len(rows[0][1]) not in (1, 2) or not all(v.isdigit() for v in rows[0][1]):
        raise DataFileError(f"{file}: first line must be 'N' or 'FOLDS N' (an LFW pairs file)")
    header = [int(v) for v in rows[0][1]]
    folds, per_fold = (1, header[0]) if len(header) == 1 else (header[0], header[1])
    body = rows[1:]
    if len(body) != folds * 2 * per_fold:
        raise DataFileError(f"{file}: expected {folds * 2 * per_fold} pairs after the header, found {len(body)}")
    pairs = []
    for i, (line, row) in enumerate(body):
        fold, within = divmod(i, 2 * per_fold)
        pair = _pair(file, line, row, fold)
        if pair.same != (within < per_fold):
            raise DataFileError(f"{file}: line {line}: same/different pairs are not in the expected order")
        pairs.append(pair)
    return pairs


def limit_pairs(pairs: Sequence[FacePair], per_fold: int) -> list[FacePair]:
    """The first ``per_fold`` same-person and ``per_fold`` different-person pairs of each fold (quick runs)."""
    counts: dict[tuple[int, bool], int] = {}
    kept = []
    for pair in pairs:
        key = (pair.fold, pair.same)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= per_fold:
            kept.append(pair)
    return kept


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


@dataclass(frozen=True)
class PairIndex:
    """Pairs as indices into their distinct ``images`` (each image is encoded once): ``first``, ``second``,
    ``same`` and ``folds``, all ``(M,)``."""

    images: list[FaceImage]
    first: NDArray[np.int64]
    second: NDArray[np.int64]
    same: NDArray[np.bool_]
    folds: NDArray[np.int64]


def pair_index(pairs: Sequence[FacePair]) -> PairIndex:
    """Index ``pairs`` over their distinct images (sorted)."""
    images = pair_images(pairs)
    where = {im: i for i, im in enumerate(images)}
    return PairIndex(
        images,
        np.asarray([where[p.first] for p in pairs], dtype=np.int64),
        np.asarray([where[p.second] for p in pairs], dtype=np.int64),
        np.asarray([p.same for p in pairs], dtype=bool),
        np.asarray([p.fold for p in pairs], dtype=np.int64),
    )


def pair_distances(encodings: NDArray[np.floating], index: PairIndex) -> NDArray[np.float64]:
    """The lecture's ``d = ||f(x_i) - f(x_j)||^2`` of every pair ``(M,)``, from encodings ``(N, D)`` of
    ``index.images``."""
    e = np.asarray(encodings, dtype=np.float64)
    if len(index.first) == 0:
        return np.zeros(0, dtype=np.float64)
    return np.asarray(squared_l2_distance(e[index.first], e[index.second]), dtype=np.float64)
