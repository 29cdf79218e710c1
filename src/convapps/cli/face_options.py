"""Click options shared by the face commands (detector, upsampling, test-time augmentation, model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _upsample(value: str) -> int | str:
    if value == "auto":
        return "auto"
    if value.isdigit() and int(value) <= 4:
        return int(value)
    raise click.BadParameter(f"expected 'auto' or 0..4, got {value!r}")


def pipeline_options(func: F) -> F:
    """Add --detector, --upsample, --jitters, --flip/--no-flip and --model to a command."""
    options = [
        click.option(
            "--detector",
            type=click.Choice(["hog", "cnn"]),
            default="hog",
            show_default=True,
            help="Face detector: dlib's HOG (fast) or its CNN/MMOD (slower, finds rotated and small faces).",
        ),
        click.option(
            "--upsample",
            default="auto",
            show_default=True,
            help="Detector upsampling steps (0..4), or 'auto': chosen from the image size, retried once higher.",
        ),
        click.option(
            "--jitters",
            type=click.IntRange(0, 100),
            default=0,
            show_default=True,
            help="Average the encodings of N randomly jittered copies of each face (N times slower).",
        ),
        click.option(
            "--flip/--no-flip",
            default=True,
            show_default=True,
            help="Average the encodings of each face and its mirror image (2x slower, more accurate).",
        ),
        click.option(
            "--model",
            default=None,
            metavar="PATH",
            help="A face model trained with 'convapps face train' (default: dlib's pretrained ResNet).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_config(detector: str, upsample: str, jitters: int, flip: bool, *, fallback: bool = False) -> Any:
    """The FaceConfig for the shared options (imports the library lazily)."""
    from convapps.face.pipeline import FaceConfig

    return FaceConfig(
        detector=detector,  # type: ignore[arg-type]
        upsample=_upsample(upsample),  # type: ignore[arg-type]
        jitters=jitters,
        flip=flip,
        fallback_whole_image=fallback,
    )


def build_pipeline(detector: str, upsample: str, jitters: int, flip: bool, model: str | None) -> Any:
    """A FacePipeline for the shared options."""
    from convapps.face.encoders import load_encoder
    from convapps.face.pipeline import FacePipeline

    return FacePipeline(build_config(detector, upsample, jitters, flip), load_encoder(model))
