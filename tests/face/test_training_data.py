"""P x K sampler, LFW protocol parsing, identity splits and verification figures (hand-computed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from convapps.errors import IdentityLeakError, InvalidInputError
from convapps.face.training.datasets import pair_distances, pair_index, sample_pairs, view1_identities
from convapps.face.training.evaluation import (
    accuracy_at,
    auc,
    best_threshold,
    equal_error_rate,
    kfold_accuracy,
    roc_curve,
    tar_at_far,
    verification_report,
)
from convapps.face.training.lfw import (
    FaceImage,
    assert_disjoint_identities,
    identity_split,
    read_pairs,
    read_people,
)
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


def test_identity_split_is_by_identity_and_deterministic() -> None:
    names = [f"person_{i}" for i in range(20)]
    train, val = identity_split(names, val_fraction=0.25, seed=3)
    assert len(val) == 5 and not set(train) & set(val) and sorted(train + val) == sorted(names)
    assert identity_split(names, val_fraction=0.25, seed=3) == (train, val)
    with pytest.raises(IdentityLeakError, match="1 identities"):
        assert_disjoint_identities(train, [val[0], train[0]], what="test")


def test_protocol_files(tmp_path: Path) -> None:
    (tmp_path / "pairs.txt").write_text("2\t1\nA\t1\t2\nA\t1\tB\t3\nC\t2\t4\nC\t1\tD\t1\n")
    pairs = read_pairs(tmp_path / "pairs.txt")
    assert [(p.same, p.fold) for p in pairs] == [(True, 0), (False, 0), (True, 1), (False, 1)]
    assert pairs[1].second == FaceImage("B", 3)
    assert FaceImage("A", 7).path(tmp_path) == tmp_path / "lfw-deepfunneled" / "A" / "A_0007.jpg"
    (tmp_path / "people.txt").write_text("2\nA\t3\nB\t1\n")
    assert read_people(tmp_path / "people.txt") == {"A": 3, "B": 1}
    index = pair_index(pairs)
    assert len(index.images) == 7 and index.same.tolist() == [True, False, True, False]
    enc = np.zeros((7, 2), dtype=np.float32)
    enc[index.second[1]] = [3.0, 4.0]
    assert pair_distances(enc, index)[1] == pytest.approx(25.0)


def test_roc_eer_tar_hand_computed() -> None:
    d = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    same = np.array([1, 1, 0, 1, 0, 0])
    far, tar, _ = roc_curve(d, same)
    assert far.tolist() == pytest.approx([0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    assert tar.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    assert auc(far, tar) == pytest.approx(8 / 9)  # 8 of 9 (same, different) pairs ordered correctly
    assert equal_error_rate(far, tar) == pytest.approx(1 / 3)
    assert tar_at_far(far, tar, 1e-3) == pytest.approx(2 / 3)
    tau = best_threshold(d, same)
    assert 0.2 <= tau < 0.3 or 0.4 <= tau < 0.5
    assert accuracy_at(d, same, tau) == pytest.approx(5 / 6)
    report = verification_report(d, same, tau=0.45)
    assert report.accuracy == pytest.approx(5 / 6) and report.n_same == 3
    assert report.far_resolution == pytest.approx(1 / 3)


def test_kfold_accuracy_picks_tau_on_other_folds() -> None:
    d = np.array([0.1, 0.9, 0.2, 0.8, 0.15, 0.5])
    same = np.array([1, 0, 1, 0, 1, 0])
    folds = np.array([0, 0, 1, 1, 2, 2])
    # fold 2: tau from folds 0, 1 is the midpoint of 0.2 (last same) and 0.8 (first different) = 0.5,
    # so its different-person pair at d = 0.5 is accepted: accuracy 1/2
    assert kfold_accuracy(d, same, folds).tolist() == pytest.approx([1.0, 1.0, 0.5])


def test_sample_pairs_balanced_and_valid() -> None:
    labels = np.repeat(np.arange(6), 3)
    first, second, same = sample_pairs(labels, n_pairs=40, seed=0)
    assert same.sum() == 20 and len(same) == 40
    assert ((labels[first] == labels[second]) == same).all() and (first != second).all()


@pytest.mark.shared_data
def test_view1_split_never_trains_on_devtest_people(shared_data: Path) -> None:
    root = shared_data / "faces" / "lfw"
    train, val = view1_identities(root, seed=0)
    assert len(train.names) + len(val.names) == 1184  # people of peopleDevTrain.txt with >= 2 images
    assert not set(train.names) & set(val.names)
    test_people = set(read_people(root / "peopleDevTest.txt"))
    assert not (set(train.names) | set(val.names)) & test_people
    assert len(train.images) + len(val.images) == 6671
