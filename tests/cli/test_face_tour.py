"""The face part of ``convapps tour``: same person for a mirrored crop, different for Grace Hopper."""

from __future__ import annotations

import re

import pytest

from convapps.cli.tour import face_tour


def test_face_tour_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    face_tour()
    out = capsys.readouterr().out
    assert "astronaut (skimage): 1 face" in out
    same = re.search(r"mirrored close crop of the astronaut: d = ([0-9.]+), tau = ([0-9.]+) -> SAME person", out)
    other = re.search(r"Grace Hopper \(matplotlib\): d = ([0-9.]+), tau = ([0-9.]+) -> DIFFERENT people", out)
    assert same and other, out
    assert float(same.group(1)) < 0.05 < float(other.group(1))
