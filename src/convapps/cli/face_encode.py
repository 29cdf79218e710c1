"""``convapps face encode``: 128-d encodings of every face in many images, on all cores."""

from __future__ import annotations

from pathlib import Path

import click

from convapps.cli.face_options import build_config, pipeline_options


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .npz (names, face_index, boxes, embeddings) or .json.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@pipeline_options
def encode(
    inputs: tuple[Path, ...],
    output: Path,
    workers: int | None,
    detector: str,
    upsample: str,
    jitters: int,
    flip: bool,
    model: str | None,
) -> None:
    """Encode every face in IMAGES and FOLDERS (searched recursively) to OUTPUT.

    One row per face (largest first within an image): image name, face index, box (left, top, right,
    bottom) and the encoding f(x). Images are read one at a time by worker processes; a progress bar
    is shown on stderr. Images without a face are listed at the end; exits with status 3 if no image
    had a face.

    \b
    Example:
      convapps face encode photos/ -o faces.npz
    """
    from convapps.errors import NoFaceError
    from convapps.face.batch import collect_images, encode_images, write_results
    from convapps.models.registry import DLIB_RESNET

    paths = collect_images(inputs)
    if not paths:
        raise NoFaceError("no image files found in the given inputs")
    config = build_config(detector, upsample, jitters, flip)
    results = list(encode_images(paths, config=config, model=model, workers=workers))
    dim = next((r.embeddings.shape[1] for r in results if len(r.boxes)), DLIB_RESNET.space.dim)
    write_results(results, output, dim=dim)
    n_faces = sum(len(r.boxes) for r in results)
    for r in results:
        if r.error:
            click.echo(f"skipped: {r.error}", err=True)
        elif not r.boxes:
            click.echo(f"no face: {r.name}", err=True)
    click.echo(f"{n_faces} face(s) from {len(results)} image(s) -> {output}")
    if n_faces == 0:
        raise NoFaceError(f"no face found in any of the {len(results)} image(s)")
