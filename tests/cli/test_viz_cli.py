"""``convapps viz top-patches`` through ``main(argv)``: a small real run and every error message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from convapps.cli.main import main
from convapps.viz.samples import package_images


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    wanted = {"chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png"}
    for path in package_images():
        if path.name in wanted:
            shutil.copy(path, folder / path.name)
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return folder


def test_help_explains_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "viz", "top-patches", "--help")
    assert code == 0
    for text in ("IMAGES_DIR", "--network", "random:N", "top:N", "relu1_2", "index.html"):
        assert text in out
    flat = " ".join(out.split())  # help text is wrapped to the terminal
    assert "[vgg16-hed|vgg19|efficientnet-lite0]" in flat and "vgg16 = vgg16-hed" in flat  # from the registry
    assert "vgg16-hed 1, vgg19 1, efficientnet-lite0 16" in flat  # default batch sizes, from the registry


def test_network_names_aliases_and_did_you_mean(
    capsys: pytest.CaptureFixture[str], photos: Path, tmp_path: Path
) -> None:
    out = ["-o", str(tmp_path / "o")]
    code, _, err = run(capsys, "viz", "top-patches", str(photos), "--network", "vgg16", "--layers", "relu4_4", *out)
    assert code == 1 and "for vgg16-hed: did you mean 'relu4_3'?" in err  # the old name still works
    code, _, err = run(capsys, "viz", "top-patches", str(photos), "--network", "efficientnet-lite", *out)
    assert code == 2 and "unknown network 'efficientnet-lite': did you mean 'efficientnet-lite0'?" in err
    code, _, err = run(capsys, "viz", "top-patches", str(photos), "--network", "dlib-resnet", *out)
    assert code == 2 and "'dlib-resnet' is a face-encoder network" in err


def test_small_run_writes_grids_and_reports_skipped_files(
    capsys: pytest.CaptureFixture[str], photos: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = run(
        capsys,
        "viz",
        "top-patches",
        str(photos),
        "--network",
        "efficientnet-lite0",
        "--layers",
        "1-3",
        "--units",
        "0,5",
        "-k",
        "3",
        "--size",
        "96",
        "-o",
        str(out_dir),
    )
    assert code == 0, out
    assert "4 images through efficientnet-lite0-imagenet" in out
    assert "skipped 2 unreadable file(s): broken.jpg, notes.txt" in out
    assert "layer 2 (block2)" in out and "units 0, 5" in out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "index.html",
        "layer1_block0.png",
        "layer2_block2.png",
        "layer3_block4.png",
        "patches.json",
    ]
    assert "unit 5<br>" in (out_dir / "index.html").read_text()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--layers", "relu4_4"], 1, "unknown layer 'relu4_4' for vgg16-hed: did you mean 'relu4_3'?"),
        (["--layers", "2-7"], 2, "layer numbers must be within 1-5"),
        (["--units", "some"], 2, "malformed unit selection 'some'"),
        (["--units", "70"], 2, "unit 70 does not exist in relu1_2, which has 64 units"),
    ],
)
def test_bad_options_say_what_to_do(
    capsys: pytest.CaptureFixture[str], photos: Path, tmp_path: Path, argv: list[str], code: int, message: str
) -> None:
    got, _, err = run(capsys, "viz", "top-patches", str(photos), "-o", str(tmp_path / "o"), *argv)
    assert got == code
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_empty_missing_and_unreadable_folders(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "viz", "top-patches", str(empty), "-o", str(tmp_path / "o"))
    assert code == 2 and "is empty" in err
    code, _, err = run(capsys, "viz", "top-patches", str(tmp_path / "nope"), "-o", str(tmp_path / "o"))
    assert code == 1 and "does not exist" in err
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_text("x")
    code, _, err = run(
        capsys, "viz", "top-patches", str(junk), "--network", "efficientnet-lite0", "-o", str(tmp_path / "o")
    )
    assert code == 2 and "none of the 1 files is a readable image" in err


def test_vgg19_top_patches_name_the_papers_layers(
    capsys: pytest.CaptureFixture[str], photos: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "vgg19"
    argv = ["viz", "top-patches", str(photos), "--network", "vgg19", "--layers", "1,3", "--units", "0"]
    code, out, _ = run(capsys, *argv, "-k", "2", "--size", "64", "-o", str(out_dir))
    assert code == 0, out
    assert "4 images through vgg19-imagenet-keras" in out and "layer 3 (relu3_4)" in out
    assert {"layer1_relu1_2.png", "layer3_relu3_4.png"} <= {p.name for p in out_dir.iterdir()}
