"""verify() on LFW pairs: same person below tau, different people above it, no face, several faces."""

from __future__ import annotations

import pytest

from convapps.errors import NoFaceError
from convapps.face.verification import verify
from convapps.models.registry import DLIB_RESNET

from .faces_data import blank, lfw, two_faces


def test_same_person_below_tau(shared_data) -> None:  # type: ignore[no-untyped-def]
    r = verify(lfw(shared_data, "Aaron_Peirsol", 1), lfw(shared_data, "Aaron_Peirsol", 2))
    assert r.same and r.distance < r.tau == DLIB_RESNET.default_tau
    assert r.distance < 0.2
    assert r.l2_distance == pytest.approx(r.distance**0.5)


def test_different_people_above_tau(shared_data) -> None:  # type: ignore[no-untyped-def]
    r = verify(lfw(shared_data, "Aaron_Peirsol", 1), lfw(shared_data, "Abel_Pacheco", 1))
    assert not r.same and r.distance > r.tau
    assert r.distance > 0.45


def test_explicit_tau_changes_the_decision(shared_data) -> None:  # type: ignore[no-untyped-def]
    r = verify(lfw(shared_data, "Aaron_Peirsol", 1), lfw(shared_data, "Aaron_Peirsol", 2), tau=0.01)
    assert not r.same and r.tau == 0.01


def test_no_face_names_the_image(shared_data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoFaceError, match="<image 2>: no face found"):
        verify(lfw(shared_data, "Aaron_Peirsol", 1), blank())


def test_several_faces_uses_largest_and_says_so(shared_data) -> None:  # type: ignore[no-untyped-def]
    group = two_faces(shared_data)
    r = verify(group, lfw(shared_data, "Aaron_Peirsol", 2))
    assert r.same and r.faces[0][0] == 0 and r.n_faces == (2, 1)
    assert any("2 faces found, used the largest" in n for n in r.notes)
    other = verify(group, lfw(shared_data, "Abel_Pacheco", 2), faces=(1, 0))
    assert other.same and other.faces[0][0] == 1
