"""``convapps face detect`` and ``convapps face verify``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from convapps.cli.face_options import build_pipeline, pipeline_options


@click.command()
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Save an annotated copy (PNG/JPEG)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the faces as JSON.")
@pipeline_options
def detect(
    image: Path,
    output: Path | None,
    as_json: bool,
    detector: str,
    upsample: str,
    jitters: int,
    flip: bool,
    model: str | None,
) -> None:
    """Find the faces in IMAGE: box (left, top, right, bottom), detector score, 5 landmarks.

    Faces are listed largest first; index 0 is the face 'verify' uses by default. Exits with status 3
    when there is no face.

    \b
    Example:
      convapps face detect group.jpg -o annotated.png
    """
    from convapps.errors import NoFaceError
    from convapps.face.annotate import annotate_faces
    from convapps.io.images import load_image, save_image

    rgb = load_image(image)
    faces = build_pipeline(detector, upsample, 0, False, model).detect(rgb)
    if output is not None:
        save_image(annotate_faces(rgb, faces), output)
    if as_json:
        rows = [
            {"index": i, "box": list(f.box), "score": round(f.score, 4), "landmarks": f.landmarks.tolist()}
            for i, f in enumerate(faces)
        ]
        click.echo(json.dumps({"image": str(image), "faces": rows}))
    else:
        click.echo(f"{image}: {len(faces)} face(s)")
        for i, f in enumerate(faces):
            click.echo(f"  face {i}: box (left, top, right, bottom) = {f.box}  score {f.score:.2f}")
        if output is not None:
            click.echo(f"annotated image: {output}")
    if not faces:
        raise NoFaceError(f"{image}: no face found")


@click.command()
@click.argument("image1", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("image2", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--tau", type=click.FloatRange(min=0), help="Threshold on the SQUARED L2 distance (default: the model's)."
)
@click.option("--tau-l2", type=click.FloatRange(min=0), help="Threshold on the plain L2 distance (0.6 = tau 0.36).")
@click.option("--face", "face_both", type=click.IntRange(min=0), help="Face index (0 = largest) in both images.")
@click.option("--face1", type=click.IntRange(min=0), help="Face index in IMAGE1 (default 0, the largest).")
@click.option("--face2", type=click.IntRange(min=0), help="Face index in IMAGE2 (default 0, the largest).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pipeline_options
def verify(
    image1: Path,
    image2: Path,
    tau: float | None,
    tau_l2: float | None,
    face_both: int | None,
    face1: int | None,
    face2: int | None,
    as_json: bool,
    detector: str,
    upsample: str,
    jitters: int,
    flip: bool,
    model: str | None,
) -> None:
    """Are IMAGE1 and IMAGE2 the same person? d = ||f(img1) - f(img2)||^2 <= tau.

    f is dlib's pretrained 128-d ResNet encoding of the aligned face. The distance d and tau are in
    squared L2 units (the lecture's form): face_recognition's plain L2 threshold 0.6 is tau = 0.36.
    With several faces the largest is used (and a note says so); --face N picks another. Exits with
    status 0 whatever the decision, 3 when an image has no face (the message names it).

    \b
    Example:
      convapps face verify me.jpg passport.jpg --json
    """
    from convapps.core.distances import l2_to_squared, squared_to_l2
    from convapps.errors import InvalidInputError
    from convapps.face.verification import verify as run_verify

    if tau is not None and tau_l2 is not None:
        raise InvalidInputError("give --tau (squared L2) or --tau-l2 (plain L2), not both")
    threshold = l2_to_squared(tau_l2) if tau_l2 is not None else tau
    default = 0 if face_both is None else face_both
    faces = (default if face1 is None else face1, default if face2 is None else face2)
    pipeline = build_pipeline(detector, upsample, jitters, flip, model)
    result = run_verify(image1, image2, tau=threshold, pipeline=pipeline, faces=faces)
    if as_json:
        click.echo(json.dumps({"image1": str(image1), "image2": str(image2), **result.to_dict()}))
        return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if max(result.n_faces) > 1:
        click.echo("hint: --face1/--face2 (or --face N for both) pick another face (0 = the largest)", err=True)
    click.echo(f"distance  {result.distance:.4f}   (squared L2; plain L2 {result.l2_distance:.4f})")
    click.echo(f"tau       {result.tau:.4f}   (squared L2; plain L2 {squared_to_l2(result.tau):.4f})")
    click.echo(
        f"decision  {'SAME person' if result.same else 'DIFFERENT people'}   (d {'<=' if result.same else '>'} tau)"
    )
