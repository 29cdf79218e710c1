"""``convapps tour``, the start of ``make run``: the conv arithmetic, then every capability's demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convapps.cli.main import main
from convapps.cli.tour import shape_tour


def test_shape_tour_prints_every_lecture_example(capsys: pytest.CaptureFixture[str]) -> None:
    shape_tour()
    lines = capsys.readouterr().out.splitlines()
    for expected in (
        "shapes: 14x1 -> 10x16 -> 6x32",
        "shapes: 14x14x14x1 -> 10x10x10x16 -> 6x6x6x32",
        "shapes: 32x32x32x16 -> 30x30x30x32",
        "shapes: 64x64x64x3 -> 31x31x31x16",
    ):
        assert expected in lines


def test_whole_tour_runs_every_capability(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make run`` starts with ``convapps tour``: every capability's demo on package-shipped images."""
    monkeypatch.chdir(tmp_path)
    assert main(["tour"]) == 0
    out = capsys.readouterr().out
    assert "astronaut vs a mirrored close crop of the astronaut:" in out
    same = re.search(r"mirrored close crop of the astronaut: d = ([0-9.]+), tau = ([0-9.]+) -> SAME person", out)
    other = re.search(r"Grace Hopper \(matplotlib\): d = ([0-9.]+), tau = ([0-9.]+) -> DIFFERENT people", out)
    assert same and other and float(same[1]) < float(same[2]) < float(other[1])
    falls = re.search(r"J_style ([0-9.e+-]+) -> ([0-9.e+-]+),", out)
    assert falls and float(falls[2]) < float(falls[1]) / 5
    for written in ("tour_style_astronaut.png", "tour_viz"):
        assert (tmp_path / "out" / written).exists()
    assert "waveform_ecg.dcm: 12 leads" in out
