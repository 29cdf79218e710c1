"""P x K sampler, balanced random pairs and the View 1 identity split (no DevTest person is trained on)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from convapps.errors import InvalidInputError
from convapps.face.lfw import read_people
from convapps.face.training.datasets import identity_set, sample_pairs, view1_identities
from convapps.face.training.sampler import PKSampler


def test_pk_sampler_batches_have_p_identities_with_k_images() -> None:
    labels = np.repeat(np.arange(10), [5, 5, 5, 2, 2, 2, 3, 3, 1, 7])
    sampler = PKSampler(labels, p=4, k=3)
    torch.manual_seed(0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 9 // 4  # identity 8 has one image: never sampled
    for idx in batches:
        ids, counts = np.unique(labels[idx], return_counts=True)
        assert len(ids) == 4 and (counts == 3).all() and 8 not in ids
    torch.manual_seed(0)
    assert all((a == b).all() for a, b in zip(batches, list(sampler), strict=True))  # seeded by torch's RNG


def test_pk_sampler_rejects_too_few_identities() -> None:
    with pytest.raises(InvalidInputError, match="identities"):
        PKSampler(np.array([0, 0, 1, 1]), p=3, k=2)
    with pytest.raises(InvalidInputError, match="K >= 2"):
        PKSampler(np.array([0, 0, 1, 1]), p=2, k=1)


def test_sample_pairs_balanced_and_valid() -> None:
    labels = np.repeat(np.arange(6), 3)
    first, second, same = sample_pairs(labels, n_pairs=40, seed=0)
    assert same.sum() == 20 and len(same) == 40
    assert ((labels[first] == labels[second]) == same).all() and (first != second).all()


def test_identity_set_labels_follow_sorted_names() -> None:
    from convapps.face.lfw import FaceImage

    data = identity_set([FaceImage("B", 1), FaceImage("A", 2), FaceImage("B", 2)])
    assert data.names == ["A", "B"] and data.labels.tolist() == [1, 0, 1]


@pytest.mark.shared_data
def test_view1_split_never_trains_on_devtest_people(shared_data: Path) -> None:
    root = shared_data / "faces" / "lfw"
    train, val = view1_identities(root, seed=0)
    assert len(train.names) + len(val.names) == 1184  # people of peopleDevTrain.txt with >= 2 images
    assert not set(train.names) & set(val.names)
    test_people = set(read_people(root / "peopleDevTest.txt"))
    assert not (set(train.names) | set(val.names)) & test_people
    assert len(train.images) + len(val.images) == 6671
