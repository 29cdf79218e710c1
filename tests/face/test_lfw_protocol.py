"""LFW protocol files: pairs and people readers (strict, with file and line in messages), image paths,
identity splits, the disjointness check and pair indexing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import DataFileError, IdentityLeakError, NotFoundError
from convapps.face.lfw import (
    FaceImage,
    FacePair,
    assert_disjoint_identities,
    check_lfw_root,
    fold_people,
    identity_split,
    limit_pairs,
    pair_distances,
    pair_index,
    read_pairs,
    read_people,
)


def test_read_view2_pairs(shared_data: Path) -> None:
    lfw = shared_data / "faces" / "lfw"
    pairs = read_pairs(lfw / "pairs.txt")
    assert len(pairs) == 6000
    assert sorted({p.fold for p in pairs}) == list(range(10))
    assert sum(p.same for p in pairs) == 3000
    first = pairs[0]
    assert first.same and first.first == FaceImage("Abel_Pacheco", 1) and first.second == FaceImage("Abel_Pacheco", 4)
    assert first.first.path(lfw) == lfw / "lfw-deepfunneled" / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg"
    assert all(p.first.path(lfw).is_file() and p.second.path(lfw).is_file() for p in pairs[:50])
    # View 2 folds are identity-disjoint
    assert_disjoint_identities(fold_people(pairs, range(1, 10)), fold_people(pairs, [0]), what="View 2 fold 0")


def test_read_view1_pairs(shared_data: Path) -> None:
    lfw = shared_data / "faces" / "lfw"
    pairs = read_pairs(lfw / "pairsDevTrain.txt")
    assert len(pairs) == 2200 and {p.fold for p in pairs} == {0}
    assert [p.same for p in pairs[1099:1101]] == [True, False]
    assert check_lfw_root(lfw) == lfw


def test_malformed_pairs_file(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.txt"
    bad.write_text("1\nA 1 2\nB 1\n")
    with pytest.raises(DataFileError, match=r"pairs.txt: line 3 is not"):
        read_pairs(bad)
    bad.write_text("1\nA 1 2\nB x C 2\n")
    with pytest.raises(DataFileError, match="line 3"):
        read_pairs(bad)
    bad.write_text("1\nA 1 B 2\nC 1 2\n")
    with pytest.raises(DataFileError, match="line 2: same/different pairs are not in the expected order"):
        read_pairs(bad)
    bad.write_text("2\nA 1 2\nB 1 C 2\n")
    with pytest.raises(DataFileError, match="expected 4 pairs after the header, found 2"):
        read_pairs(bad)
    bad.write_text("hello\n")
    with pytest.raises(DataFileError, match="first line"):
        read_pairs(bad)
    with pytest.raises(NotFoundError, match="does not exist"):
        read_pairs(tmp_path / "missing.txt")
    with pytest.raises(NotFoundError, match="not an LFW folder"):
        check_lfw_root(tmp_path)


def test_protocol_files_and_pair_index(tmp_path: Path) -> None:
    (tmp_path / "pairs.txt").write_text("2\t1\nA\t1\t2\nA\t1\tB\t3\n\nC\t2\t4\nC\t1\tD\t1\n")
    pairs = read_pairs(tmp_path / "pairs.txt")
    assert [(p.same, p.fold) for p in pairs] == [(True, 0), (False, 0), (True, 1), (False, 1)]
    assert pairs[1].second == FaceImage("B", 3) and pairs[1].second.stem == "B_0003"
    assert FaceImage("A", 7).path(tmp_path) == tmp_path / "lfw-deepfunneled" / "A" / "A_0007.jpg"
    assert FaceImage("A", 7).in_folder(tmp_path) == tmp_path / "A" / "A_0007.jpg"
    (tmp_path / "people.txt").write_text("2\nA\t3\nB\t1\n")
    assert read_people(tmp_path / "people.txt") == {"A": 3, "B": 1}
    index = pair_index(pairs)
    assert len(index.images) == 7 and index.same.tolist() == [True, False, True, False]
    assert index.folds.tolist() == [0, 0, 1, 1]
    enc = np.zeros((7, 2), dtype=np.float32)
    enc[index.second[1]] = [3.0, 4.0]
    assert pair_distances(enc, index).tolist() == pytest.approx([0.0, 25.0, 0.0, 0.0])


def test_limit_pairs_keeps_first_of_each_kind_per_fold() -> None:
    a, b = FaceImage("A", 1), FaceImage("B", 1)
    pairs = [FacePair(a, a, same, fold) for fold in (0, 1) for same in (True, True, True, False, False)]
    kept = limit_pairs(pairs, 2)
    assert [(p.fold, p.same) for p in kept] == [(f, s) for f in (0, 1) for s in (True, True, False, False)]
    assert limit_pairs([FacePair(a, b, False, 0)], 5) == [FacePair(a, b, False, 0)]


def test_identity_split_is_by_identity_and_deterministic() -> None:
    names = [f"person_{i}" for i in range(20)]
    train, val = identity_split(names, val_fraction=0.25, seed=3)
    assert len(val) == 5 and not set(train) & set(val) and sorted(train + val) == sorted(names)
    assert identity_split(names, val_fraction=0.25, seed=3) == (train, val)
    with pytest.raises(IdentityLeakError, match="1 identities"):
        assert_disjoint_identities(train, [val[0], train[0]], what="test")
