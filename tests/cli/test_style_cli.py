"""``convapps style transfer`` end to end, in-process through ``main(argv)``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from convapps.cli.main import main
from convapps.io.images import load_image


def _painting(size: int = 96) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    r = 0.5 + 0.5 * np.sin((x + y) / 3.0)
    g = 0.5 + 0.5 * np.sin(x / 4.0 + 2.0 * np.cos(y / 6.0))
    b = 0.5 + 0.5 * np.cos((x - 2 * y) / 5.0)
    return (np.stack([r, g, b], axis=2) * 255).astype(np.uint8)


@pytest.fixture()
def images(tmp_path: Path) -> tuple[Path, Path]:
    content = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).resize((80, 80), Image.Resampling.LANCZOS).save(content)
    style = tmp_path / "painting.jpg"
    Image.fromarray(_painting()).save(style, quality=95)
    return content, style


def test_transfer_end_to_end(images: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, style = images
    out = tmp_path / "result.png"
    argv = [
        "style",
        "transfer",
        str(content),
        str(style),
        "-o",
        str(out),
        "--preset",
        "preview",
        "--size",
        "80",
        "--scales",
        "2",
        "--iterations",
        "30,15",
        "--beta",
        "20",
        "--init",
        "noise",
        "--threads",
        "2",
    ]
    assert main(argv) == 0
    result = load_image(out)
    assert result.shape == (80, 80, 3)
    original = load_image(content)
    assert np.abs(result.astype(float) - original.astype(float)).mean() > 10  # not the photo
    meta = json.loads(out.with_suffix(".json").read_text())
    costs = meta["costs"]
    assert costs["initial"]["style"] / costs["final"]["style"] >= 10
    assert meta["settings"]["iterations"] == [30, 15] and meta["settings"]["beta"] == 20
    assert meta["preset"] == "preview" and meta["model"] == "vgg19-imagenet-keras"
    assert [s["width"] for s in meta["timing"]["scales"]] == [40, 80]
    assert meta["timing"]["total_seconds"] > 0
    assert "lower)" in capsys.readouterr().out


def test_bad_inputs_exit_with_clear_messages(
    images: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, style = images
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    assert main(["style", "transfer", str(not_image), str(style), "-o", str(tmp_path / "x.png")]) == 1
    assert "not an image" in capsys.readouterr().err
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((10, 10, 3), dtype=np.uint8)).save(tiny)
    assert main(["style", "transfer", str(content), str(tiny), "-o", str(tmp_path / "x.png")]) == 1
    assert "too small" in capsys.readouterr().err
    code = main(["style", "transfer", str(content), str(style), "--style-layers", "relu9_1:1", "--quiet"])
    assert code == 1 and "unknown layer 'relu9_1'" in capsys.readouterr().err
    assert main(["style", "transfer", str(content), str(style), "--scales", "0"]) == 2
    assert "scales must be >= 1" in capsys.readouterr().err


def test_grayscale_rgba_and_cmyk_inputs_are_converted(images: tuple[Path, Path], tmp_path: Path) -> None:
    content, style = images
    gray, rgba, cmyk = tmp_path / "g.png", tmp_path / "a.png", tmp_path / "c.jpg"
    Image.open(content).convert("L").save(gray)
    Image.open(style).convert("RGBA").save(rgba)
    Image.open(style).convert("CMYK").save(cmyk)
    out = tmp_path / "g_out.png"
    argv = [
        "style",
        "transfer",
        str(gray),
        str(rgba),
        str(cmyk),
        "-o",
        str(out),
        "--size",
        "48",
        "--scales",
        "1",
        "--iterations",
        "2",
        "--quiet",
    ]
    assert main(argv) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert any("grayscale" in note for note in meta["notes"])
    assert len(meta["inputs"]["styles"]) == 2


def test_vgg19_network_paints_with_the_original_imagenet_weights(images: tuple[Path, Path], tmp_path: Path) -> None:
    content, style = images
    out = tmp_path / "vgg19.png"
    argv = [
        "style",
        "transfer",
        str(content),
        str(style),
        "-o",
        str(out),
        "--network",
        "vgg19",
        "--size",
        "64",
        "--iterations",
        "12",
        "--threads",
        "2",
        "--quiet",
    ]
    assert main(argv) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["model"] == "vgg19-imagenet-keras" and meta["settings"]["network"] == "vgg19"
    assert meta["costs"]["initial"]["style"] / meta["costs"]["final"]["style"] >= 3
    assert main([*argv[:6], "--network", "resnet50"]) == 2  # not a choice: click's usage error
    strong = tmp_path / "strong.png"
    assert main([*argv[:5], str(strong), "--strength", "strong", "--size", "48", "--iterations", "1", "--quiet"]) == 0
    assert json.loads(strong.with_suffix(".json").read_text())["settings"]["beta"] == pytest.approx(8.0)
    assert main([*argv[:5], str(strong), "--strength", "0.25", "--beta", "3", "--iterations", "1", "--quiet"]) == 0
    assert json.loads(strong.with_suffix(".json").read_text())["settings"]["beta"] == 3.0  # --beta wins
    assert main([*argv[:5], str(strong), "--strength", "loud", "--iterations", "1", "--quiet"]) == 2
