"""The ``convapps`` entry point: help texts, the shape calculator's exact output, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from convapps.cli.main import main

CONSOLE_SCRIPT = Path(sys.executable).parent / "convapps"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["nd", "--help"],
        ["nd", "shape", "--help"],
        ["face", "--help"],
        ["style", "--help"],
        ["viz", "--help"],
        ["tour", "--help"],
    ],
)
def test_every_help_explains_itself(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "Usage: convapps" in out
    assert len(out.splitlines()) >= 4


def test_root_help_lists_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--help")
    for group in ("face", "style", "viz", "nd", "tour"):
        assert f"  {group}" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["14x1", "--filters", "16", "--kernel", "5"], "shapes: 14x1 -> 10x16"),
        (["14x1", "--filters", "16,32", "--kernel", "5"], "shapes: 14x1 -> 10x16 -> 6x32"),
        (
            ["14x14x14x1", "--filters", "16,32", "--kernel", "5"],
            "shapes: 14x14x14x1 -> 10x10x10x16 -> 6x6x6x32",
        ),
        (
            ["32x32x32x16", "--filters", "32", "--kernel", "3", "--stride", "1", "--padding", "0"],
            "shapes: 32x32x32x16 -> 30x30x30x32",
        ),
        (
            ["64x64x64x3", "--filters", "16", "--kernel", "4", "--stride", "2", "--padding", "valid"],
            "shapes: 64x64x64x3 -> 31x31x31x16",
        ),
        (
            ["224x224x3", "--layer", "conv:64:3:1:same", "--layer", "maxpool:2"],
            "shapes: 224x224x3 -> 224x224x64 -> 112x112x64",
        ),
    ],
)
def test_nd_shape_prints_the_lecture_examples(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, _ = run(capsys, "nd", "shape", *argv)
    assert code == 0
    assert expected in out.splitlines()


def test_nd_shape_table_has_parameters_and_receptive_field(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "nd", "shape", "14x1", "--filters", "16", "--kernel", "5")
    row = next(line for line in out.splitlines() if line.startswith("1 "))
    assert row.split() == ["1", "conv", "16", "5", "1", "0", "10x16", "96", "5"]
    assert out.splitlines()[-1] == "output: 10x16   parameters: 96"


def test_nd_shape_json(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "nd", "shape", "14x14x14x1", "--filters", "16", "--kernel", "5", "--json")
    report = json.loads(out)
    assert report["output"] == "10x10x10x16"
    assert report["layers"][0]["parameters"] == (125 + 1) * 16


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["14x", "--filters", "16", "--kernel", "5"], "malformed shape '14x'"),
        (["4x1", "--filters", "16", "--kernel", "5"], "larger than the padded input"),
        (["14x1", "--filters", "16", "--kernel", "5", "--stride", "0"], "stride must be >= 1"),
        (["14x1", "--filters", "16"], "--filters needs --kernel"),
        (["14x1"], "describe the layers"),
        (["14x1", "--filters", "16,32", "--kernel", "5,3,1"], "--kernel has 3 values for 2 layers"),
        (["14x1", "--layer", "conv:x"], "malformed layer"),
    ],
)
def test_invalid_specs_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "nd", "shape", *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("convapps: error: ")
    assert message in err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "nd", "nope")
    assert code == 2
    assert "No such command 'nope'" in err


def test_installed_console_script_runs_and_sets_exit_codes() -> None:
    ok = subprocess.run(
        [str(CONSOLE_SCRIPT), "nd", "shape", "14x1", "--filters", "16", "--kernel", "5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and "output: 10x16" in ok.stdout
    bad = subprocess.run([str(CONSOLE_SCRIPT), "nd", "shape", "14x"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "malformed shape" in bad.stderr


def test_help_does_not_import_torch() -> None:
    code = "import sys; from convapps.cli.main import main; main(['--help']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")
