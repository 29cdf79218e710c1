"""``convapps face enroll | enroll-dir | identify | verify-id | list | remove | rename | export | import``.

One-shot recognition against a gallery of enrolled people (their encodings, never their photos).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from convapps.cli.face_options import build_pipeline, pipeline_options

GALLERY_HELP = (
    "Where the gallery lives: a path or sqlite:///abs/path.db (SQLite), milvus:///abs/path.db (Milvus Lite), "
    "milvus://host:19530 (Milvus server). Default: $CONVAPPS_GALLERY, else gallery.db in your data folder."
)


def gallery_option(func: Any) -> Any:
    return click.option(
        "--gallery", "gallery_url", envvar="CONVAPPS_GALLERY", default=None, metavar="URL", help=GALLERY_HELP
    )(func)


def _open(url: str | None, space: Any = None, mode: str = "exact", *, create: bool = True) -> Any:
    from convapps.gallery import open_gallery

    return open_gallery(url, space=space, mode=mode, create=create)  # type: ignore[arg-type]


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _metadata(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--meta")
        out[key] = value
    return out


@click.command("enroll")
@click.argument("name")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Metadata to store with the person (repeatable).")
@click.option(
    "--face",
    "face_index",
    type=click.IntRange(0),
    default=None,
    help="Which face of each photo to enroll (0 = the largest); needed when a photo shows several faces.",
)
@click.option("--add", is_flag=True, help="Add these photos to an already enrolled person instead of failing.")
@gallery_option
@pipeline_options
def enroll(
    name: str,
    images: tuple[Path, ...],
    meta: tuple[str, ...],
    face_index: int | None,
    add: bool,
    gallery_url: str | None,
    **pipe: Any,
) -> None:
    """Enroll NAME from one photo (one-shot) or a few: their encodings are stored, not the photos.

    Every photo must show one clear face (or --face N chooses one of several), at least 40 px across and
    sharp; if one does not, nothing is stored. Enrolling someone who looks like an already enrolled person
    (within the verification tau) works but warns. Example:

    \b
        convapps face enroll "Ada Lovelace" ada.jpg
        convapps face enroll "Ada Lovelace" ada2.jpg --add --meta team=math
    """
    from convapps.face.enrollment import encode_for_enrollment, store

    metadata = _metadata(meta)
    pipeline = build_pipeline(**pipe)
    encodings = encode_for_enrollment(list(images), pipeline=pipeline, face_index=face_index)
    with _open(gallery_url, pipeline.encoder.space) as gallery:
        done = store(gallery, name, encodings, metadata=metadata, add=add, tau=pipeline.default_tau)
        person = done.identity
        for warning in done.warnings:
            click.echo(f"warning: {person.name} {warning}", err=True)
        click.echo(f"enrolled {person.name!r} (id {person.id}, {person.n_encodings} encoding(s)) in {gallery.url}")


@click.command("enroll-dir")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--skip-existing", is_flag=True, help="Skip people already enrolled (to resume an interrupted run).")
@gallery_option
@pipeline_options
def enroll_dir(folder: Path, skip_existing: bool, gallery_url: str | None, **pipe: Any) -> None:
    """Enroll everyone in FOLDER: one sub-folder per person, named after them, holding their photos.

    All photos are encoded first (an image without a face stops the run with the gallery unchanged);
    then each person is stored in their own transaction.
    """
    from tqdm import tqdm

    from convapps.face.recognition import enroll_folder, folder_people

    people = folder_people(folder)
    pipeline = build_pipeline(**pipe)
    with (
        _open(gallery_url, pipeline.encoder.space) as gallery,
        tqdm(total=len(people), desc="encode", unit="person", file=sys.stderr, leave=False) as bar,
    ):
        done = enroll_folder(
            gallery, people, pipeline=pipeline, skip_existing=skip_existing, progress=lambda _: bar.update()
        )
        click.echo(f"enrolled {len(done)} people ({len(people) - len(done)} skipped) in {gallery.url}")


def _annotate(rgb: Any, results: list[Any]) -> Any:
    import numpy as np
    from PIL import Image, ImageDraw

    img = Image.fromarray(np.ascontiguousarray(rgb))
    draw = ImageDraw.Draw(img)
    width = max(2, round(max(img.size) / 250))
    for r in results:
        color = (0, 200, 0) if r.identity is not None else (230, 40, 40)
        left, top, right, bottom = r.box
        draw.rectangle((left, top, right, bottom), outline=color, width=width)
        text = r.label
        box = draw.textbbox((left, bottom + 2), text)
        draw.rectangle(box, fill=color)
        draw.text((left, bottom + 2), text, fill=(255, 255, 255))
    return np.asarray(img, dtype=np.uint8)


@click.command("identify")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--far",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.01,
    show_default=True,
    help="Target false-accept rate per search: the share of strangers who may get a name. tau is chosen for "
    "this rate and the number of people enrolled.",
)
@click.option(
    "--tau",
    type=click.FloatRange(min=0),
    default=None,
    help="A fixed threshold on the squared L2 distance to the nearest photo instead (0.36 = face_recognition's "
    "0.6); ignores --far.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a copy of the photo with boxes and names (PNG or JPEG).",
)
@click.option(
    "--search",
    "mode",
    type=click.Choice(["exact", "ann"]),
    default="exact",
    show_default=True,
    help="Exact nearest-neighbour search, or an approximate HNSW index (for very large galleries).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@gallery_option
@pipeline_options
def identify(
    image: Path,
    far: float,
    tau: float | None,
    output: Path | None,
    mode: str,
    as_json: bool,
    gallery_url: str | None,
    **pipe: Any,
) -> None:
    """Who is in IMAGE? Every face gets an enrolled name, or "not recognized".

    With K people enrolled a stranger gets K chances to look like someone, so tau is chosen for K: at
    most --far of strangers (1% by default) get a name, whatever the size of the gallery. Each face shows
    the nearest and second-nearest people, the margin between them and the tau used, with its reason.
    """
    from convapps.face.recognition import identify as identify_faces
    from convapps.io.images import load_image, save_image

    pipeline = build_pipeline(**pipe)
    rgb = load_image(image)
    with _open(gallery_url, pipeline.encoder.space, mode, create=False) as gallery:
        results = identify_faces(gallery, rgb, far=far, tau=tau, pipeline=pipeline)
    if output is not None:
        save_image(_annotate(rgb, results), output)
    if as_json:
        _echo_json([r.to_dict() for r in results])
        return
    click.echo(results[0].decision.threshold.reason)
    for r in results:
        click.echo(f"face {r.face_index} at {r.box}: {r.sentence}")
        d = r.decision
        if d.nearest is not None:
            second = f"; second {d.second.identity.name!r} {d.second.score:.3f}" if d.second else ""
            margin = f", margin {d.margin:.3f}" if d.second else ""
            click.echo(
                f"    nearest {d.nearest.identity.name!r} score {d.score:.3f} (squared L2 {r.distance:.3f})"
                f"{second}{margin}; tau {r.tau:.3f}"
            )
    if output is not None:
        click.echo(f"annotated image written to {output}", err=True)


@click.command("verify-id")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("name")
@click.option("--tau", type=float, default=None, help="Threshold on the squared L2 distance (default: the model's).")
@click.option(
    "--face",
    "face_index",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Which face of the photo to check (0 = the largest).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@gallery_option
@pipeline_options
def verify_id(
    image: Path, name: str, tau: float | None, face_index: int, as_json: bool, gallery_url: str | None, **pipe: Any
) -> None:
    """Is IMAGE the enrolled person NAME? (1:1 verification against a claimed identity.)"""
    from convapps.face.recognition import verify_id as verify

    pipeline = build_pipeline(**pipe)
    with _open(gallery_url, pipeline.encoder.space, create=False) as gallery:
        result = verify(gallery, image, name, tau=tau, pipeline=pipeline, face_index=face_index)
    if as_json:
        _echo_json(
            {
                "name": result.name,
                "same": result.same,
                "distance": result.distance,
                "tau": result.tau,
                "box": list(result.box),
            }
        )
        return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    verdict = "same person" if result.same else "NOT the claimed person"
    sign = "<=" if result.same else ">"
    click.echo(f"{verdict}: {result.name!r}  (distance {result.distance:.4f} {sign} tau {result.tau:.4f})")


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@gallery_option
def list_people(as_json: bool, gallery_url: str | None) -> None:
    """List enrolled people: id, name, number of encodings, metadata."""
    with _open(gallery_url, create=False) as gallery:
        people, space = gallery.identities(), gallery.space
        url = gallery.url
    if as_json:
        _echo_json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "encodings": p.n_encodings,
                    "metadata": dict(p.metadata),
                    "created_at": p.created_at,
                }
                for p in people
            ]
        )
        return
    click.echo(f"{len(people)} people in {url}" + (f" (model {space.describe()})" if space else ""), err=True)
    for p in people:
        meta = " ".join(f"{k}={v}" for k, v in p.metadata.items())
        click.echo(f"{p.id:>6}  {p.name}  [{p.n_encodings} encoding(s)]" + (f"  {meta}" if meta else ""))


@click.command("remove")
@click.argument("name")
@gallery_option
def remove(name: str, gallery_url: str | None) -> None:
    """Remove NAME and all their encodings from the gallery."""
    with _open(gallery_url, create=False) as gallery:
        person = gallery.remove(name)
        click.echo(f"removed {person.name!r} (id {person.id}) from {gallery.url}")


@click.command("rename")
@click.argument("old")
@click.argument("new")
@gallery_option
def rename(old: str, new: str, gallery_url: str | None) -> None:
    """Rename an enrolled person (their id and encodings are kept)."""
    with _open(gallery_url, create=False) as gallery:
        person = gallery.rename(old, new)
        click.echo(f"renamed {old!r} to {person.name!r} (id {person.id})")


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@gallery_option
def export(file: Path, gallery_url: str | None) -> None:
    """Write every person's encodings (no photos) to FILE (.npz) for 'convapps face import'."""
    from convapps.gallery.transfer import export_gallery

    with _open(gallery_url, create=False) as gallery:
        count = export_gallery(gallery, file)
    click.echo(f"exported {count} people to {file}")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-existing", is_flag=True, help="Skip names already enrolled instead of failing.")
@gallery_option
def import_(file: Path, skip_existing: bool, gallery_url: str | None) -> None:
    """Enroll everyone from an export FILE in one transaction (all or nothing); the models must match."""
    from convapps.gallery.transfer import import_gallery, read_export

    space, people = read_export(file)
    with _open(gallery_url, space) as gallery:
        added = import_gallery(gallery, people, skip_existing=skip_existing)
        click.echo(f"imported {len(added)} people ({len(people) - len(added)} skipped) into {gallery.url}")
