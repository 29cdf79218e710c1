"""Training and evaluation sets of LFW View 1 / View 2, split by identity, with the leak checks.

Protocol: train on the people of ``peopleDevTrain.txt`` having >= 2 images (a seeded 10% of
those identities is held out for validation / early stopping), choose thresholds on
``pairsDevTrain.txt``, report on ``pairsDevTest.txt``. :func:`view1_identities` asserts in code that no
identity of ``peopleDevTest.txt`` or ``pairsDevTest.txt`` is trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from convapps.errors import InvalidInputError
from convapps.face.lfw import (
    FaceImage,
    assert_disjoint_identities,
    check_lfw_root,
    identity_split,
    pair_images,
    people_images,
    read_pairs,
    read_people,
)


@dataclass(frozen=True)
class IdentitySet:
    """Images with integer identity labels ``(N,)`` (index into ``names``)."""

    images: list[FaceImage]
    labels: NDArray[np.int64]
    names: list[str]


def identity_set(images: Sequence[FaceImage]) -> IdentitySet:
    """Label ``images`` by person name (labels follow the sorted names)."""
    names = sorted({im.name for im in images})
    index = {n: i for i, n in enumerate(names)}
    return IdentitySet(list(images), np.asarray([index[im.name] for im in images], dtype=np.int64), names)


def view1_identities(
    root: Path, *, val_fraction: float = 0.1, seed: int = 0, max_people: int | None = None
) -> tuple[IdentitySet, IdentitySet]:
    """Train and validation identities of LFW View 1 (``peopleDevTrain.txt``, people with >= 2 images).

    ``max_people`` keeps a deterministic subset (the first names after a permutation seeded by ``seed``),
    for quick runs and tests. Raises :class:`~convapps.errors.IdentityLeakError` if a DevTest identity
    would be trained on.
    """
    check_lfw_root(root)
    people = {n: c for n, c in read_people(root / "peopleDevTrain.txt").items() if c >= 2}
    names = sorted(people)
    if max_people is not None:
        if max_people < 4:
            raise InvalidInputError(f"max_people must be >= 4 (two train and two validation people), got {max_people}")
        order = np.random.default_rng(seed).permutation(len(names))
        names = sorted(names[i] for i in order[:max_people])
    train_names, val_names = identity_split(names, val_fraction=val_fraction, seed=seed)
    if val_fraction > 0 and len(val_names) < 2:
        missing = 2 - len(val_names)
        val_names, train_names = sorted(val_names + train_names[:missing]), train_names[missing:]
    test_people = set(read_people(root / "peopleDevTest.txt"))
    test_people |= {im.name for im in pair_images(read_pairs(root / "pairsDevTest.txt"))}
    assert_disjoint_identities(train_names + val_names, test_people, what="peopleDevTrain vs View 1 DevTest")
    train = identity_set(people_images({n: people[n] for n in train_names}))
    val = identity_set(people_images({n: people[n] for n in val_names}))
    return train, val


def sample_pairs(
    labels: NDArray[np.int64], *, n_pairs: int, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Balanced random pairs over a labelled set (half same-person, half different), for Siamese training.

    Returns index arrays ``(M,)`` into the set and ``same`` ``(M,)``; only identities with >= 2 images give
    same-person pairs.
    """
    rng = np.random.default_rng(seed)
    by_id: dict[int, NDArray[np.int64]] = {}
    for label in np.unique(labels):
        by_id[int(label)] = np.nonzero(labels == label)[0]
    multi = [members for members in by_id.values() if len(members) >= 2]
    if not multi or len(by_id) < 2:
        raise InvalidInputError("need at least one identity with 2 images and two identities to form pairs")
    half = n_pairs // 2
    a_same, b_same = [], []
    for _ in range(half):
        members = multi[rng.integers(len(multi))]
        i, j = rng.choice(members, size=2, replace=False)
        a_same.append(i)
        b_same.append(j)
    a_diff = rng.integers(0, len(labels), size=4 * half)
    b_diff = rng.integers(0, len(labels), size=4 * half)
    keep = labels[a_diff] != labels[b_diff]
    a_diff, b_diff = a_diff[keep][:half], b_diff[keep][:half]
    first = np.concatenate([np.asarray(a_same), a_diff]).astype(np.int64)
    second = np.concatenate([np.asarray(b_same), b_diff]).astype(np.int64)
    same = np.r_[np.ones(len(a_same), bool), np.zeros(len(a_diff), bool)]
    return first, second, same
