"""The conv-arithmetic part of ``convapps tour`` (the start of ``make run``)."""

from __future__ import annotations

import pytest

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
