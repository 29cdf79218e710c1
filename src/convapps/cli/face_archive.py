"""``convapps face index | cluster | people | name | find | merge | split | sheet``: a photo archive.

Index every face of a folder of photos, group the faces into people without names, name a group once
(and enroll it for recognition), then find that person in every photo.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from convapps.cli.face_gallery import gallery_option

INDEX_ENV = "CONVAPPS_ARCHIVE_INDEX"
INDEX_HELP = (
    "Where the archive's face index lives: a path or sqlite:///abs/path.db, milvus://host:19530[/db] "
    "(a Milvus server or cluster) or milvus:///abs/path.db (Milvus Lite). "
    f"Default: ${INDEX_ENV}, else archive.db in your data folder."
)


def index_option(func: Any) -> Any:
    return click.option("--index", "index_url", envvar=INDEX_ENV, default=None, metavar="URL", help=INDEX_HELP)(func)


def _default_index() -> Path:
    from platformdirs import user_data_path

    return user_data_path("convapps", appauthor=False) / "archive.db"


def _open_index(url: str | None, model: str | None = None, *, create: bool = False) -> Any:
    from convapps.gallery import open_archive_index

    if model is None:  # the default encoder's space comes from the registry: no weights to load
        from convapps.models.registry import DLIB_RESNET

        space = DLIB_RESNET.space
    else:
        from convapps.face.encoders import load_encoder

        space = load_encoder(model).space
    return open_archive_index(url or _default_index(), space=space, create=create)


@click.command("index")
@click.argument("archive", type=click.Path(exists=True, file_okay=False, path_type=Path))
@index_option
@click.option(
    "--engine",
    type=click.Choice(["ray", "local"]),
    default="ray",
    show_default=True,
    help="ray: Ray Data batch inference (an embedded local Ray, or --ray-address); local: worker processes.",
)
@click.option("--ray-address", default=None, metavar="ADDR", help="A Ray cluster, e.g. ray://head:10001 or 'auto'.")
@click.option("--workers", type=click.IntRange(1), default=None, help="Worker processes / Ray actors [one per core].")
@click.option(
    "--threads-per-worker",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Math threads inside each worker (1 keeps a shared machine responsive).",
)
@click.option(
    "--min-face",
    type=click.IntRange(10, 400),
    default=None,
    metavar="PX",
    help="Smallest face to find, in pixels [28; 40 is ~4x faster on photos under 4 MP, 80 faster still].",
)
@click.option("--model", default=None, metavar="PATH", help="A face model from 'convapps face train' [dlib ResNet].")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def index(
    archive: Path,
    index_url: str | None,
    engine: str,
    ray_address: str | None,
    workers: int | None,
    threads_per_worker: int,
    min_face: int | None,
    model: str | None,
    quiet: bool,
) -> None:
    """Find, encode and store every face of every photo under ARCHIVE (recursively).

    Runs again to catch up: only new or changed photos are encoded, deleted ones are dropped; an
    interrupted run continues where it stopped. Unreadable files are listed and skipped.

    \b
        convapps face index ~/Pictures --index archive.db
        convapps face index /data/photos --index archive.db --ray-address auto
    """
    import dataclasses

    from convapps.engine.runners import EngineConfig
    from convapps.face.archive.indexing import ARCHIVE_FACE_CONFIG, index_archive

    faces = ARCHIVE_FACE_CONFIG if min_face is None else dataclasses.replace(ARCHIVE_FACE_CONFIG, min_face_px=min_face)
    kind = "ray" if ray_address else engine
    config = EngineConfig(kind=kind, workers=workers, threads_per_worker=threads_per_worker, ray_address=ray_address)  # type: ignore[arg-type]
    with _open_index(index_url, model, create=True) as store:
        report = index_archive(archive, store, config=faces, model=model, engine=config, progress=not quiet)
    click.echo(f"{report.summary()} -> {store.url}")
    for path, why in report.unreadable[:20]:
        click.echo(f"skipped {why if path in why else f'{path}: {why}'}", err=True)
    if len(report.unreadable) > 20:
        click.echo(f"... and {len(report.unreadable) - 20} more unreadable files", err=True)


@click.command("cluster")
@index_option
@click.option(
    "--method",
    type=click.Choice(["linkage", "chinese-whispers", "hdbscan"]),
    default="linkage",
    show_default=True,
    help="linkage: average linkage (measured best on LFW); chinese-whispers: dlib's recipe; hdbscan: density.",
)
@click.option("--threshold", type=float, default=None, help="The method's cut [measured default per method].")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def cluster(index_url: str | None, method: str, threshold: float | None, quiet: bool) -> None:
    """Group the indexed faces into people (named groups are kept as they are).

    A face seen only once stays a group of its own, it is never forced into another group. Progress
    (linkage): the nearest-neighbour graph, then the merges.
    """
    from convapps.face.archive.clustering import ClusterConfig
    from convapps.face.archive.people import cluster_index

    bars = _StageBars(disable=quiet)
    try:
        with _open_index(index_url) as store:
            report = cluster_index(store, ClusterConfig(method=method, threshold=threshold), progress=bars)  # type: ignore[arg-type]
    finally:
        bars.close()
    click.echo(report.summary())


class _StageBars:
    """A tqdm bar on stderr per stage of a ``progress(stage, done, total)`` callback."""

    def __init__(self, *, disable: bool) -> None:
        from tqdm import tqdm

        self.tqdm = tqdm
        self.disable = disable
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            unit = "face" if total is not None else " merges"
            options = {"file": sys.stderr, "disable": self.disable, "dynamic_ncols": True}
            bar = self.tqdm(total=total, desc=stage, unit=unit, **options)
            self.bars[stage] = bar
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


@click.command("people")
@index_option
@click.option("--min-size", type=click.IntRange(1), default=2, show_default=True, help="Hide smaller groups.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def people(index_url: str | None, min_size: int, as_json: bool) -> None:
    """List the groups (people) of the archive, largest first, with a representative face."""
    with _open_index(index_url) as store:
        every = store.groups()
    groups = [g for g in every if g.size >= min_size]
    hidden = len(every) - len(groups)
    if as_json:
        rows = [
            {
                "group": g.id,
                "size": g.size,
                "name": g.name,
                "photo": g.representative.photo if g.representative else None,
                "box": list(g.representative.box) if g.representative else None,
            }
            for g in groups
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not groups:
        click.echo("no groups yet: run 'convapps face cluster' after indexing" if not hidden else "")
    for g in groups:
        where = f"{g.representative.photo} {list(g.representative.box)}" if g.representative else "-"
        click.echo(f"group {g.id:>5}  {g.size:>5} faces  {g.name or '(unnamed)':<24}  {where}")
    if hidden:
        click.echo(f"({hidden} smaller groups hidden; --min-size 1 shows them)")


@click.command("name")
@click.argument("group")
@click.argument("name")
@index_option
@gallery_option
@click.option("--no-enroll", is_flag=True, help="Only name the group; do not enroll the person in the gallery.")
def name(group: str, name: str, index_url: str | None, gallery_url: str | None, no_enroll: bool) -> None:
    """Name GROUP (its id, or its current name) as NAME, and enroll that person in the gallery from the
    group's faces so 'convapps face identify' recognises them."""
    from convapps.face.archive.people import name_group
    from convapps.gallery import open_gallery

    with _open_index(index_url) as store:
        if no_enroll:
            name_group(store, group, name)
            click.echo(f"named group {group} {name!r}")
            return
        with open_gallery(gallery_url, space=store.space) as gallery:
            person = name_group(store, group, name, gallery=gallery)
    assert person is not None
    click.echo(f"named group {group} {person.name!r}; enrolled with {person.n_encodings} face(s) in {gallery.url}")


@click.command("find")
@click.argument("who")
@index_option
@click.option("--tau", type=float, default=None, help="Squared-L2 cut for a face photo query [the model's tau].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def find(who: str, index_url: str | None, tau: float | None, as_json: bool) -> None:
    """List every photo where WHO appears, with boxes: WHO is a name given with 'convapps face name', or
    a photo of the person's face."""
    from convapps.face.archive.people import find_by_face, find_by_name

    with _open_index(index_url) as store:
        if Path(who).is_file():
            from convapps.face.pipeline import default_pipeline
            from convapps.io.images import load_image

            pipe = default_pipeline()
            probe = pipe.encode_one(load_image(who), name=who).embedding
            hits = find_by_face(store, probe, tau=pipe.default_tau if tau is None else tau)
        else:
            hits = find_by_name(store, who)
    if as_json:
        rows = [{"photo": h.photo, "boxes": [list(b) for b in h.boxes], "distance": h.distance} for h in hits]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for hit in hits:
        extra = f"  d={hit.distance:.3f}" if hit.distance is not None else ""
        click.echo(f"{hit.photo}  {' '.join(str(list(b)) for b in hit.boxes)}{extra}")
    click.echo(f"{len(hits)} photo(s)", err=True)


@click.command("merge")
@click.argument("group")
@click.argument("others", nargs=-1, required=True)
@index_option
def merge(group: str, others: tuple[str, ...], index_url: str | None) -> None:
    """Move every face of the OTHERS groups into GROUP (ids or names)."""
    from convapps.face.archive.people import resolve_group

    with _open_index(index_url) as store:
        into = resolve_group(store, group).id
        moved = store.merge_groups(into, [resolve_group(store, o).id for o in others])
    click.echo(f"moved {moved} face(s) into group {into}")


@click.command("split")
@click.argument("faces", nargs=-1, required=True, type=int)
@index_option
def split(faces: tuple[int, ...], index_url: str | None) -> None:
    """Move FACES (ids, as the contact sheet shows them) out of their group into a new group."""
    with _open_index(index_url) as store:
        group = store.split_faces(list(faces))
    click.echo(f"{len(faces)} face(s) now in group {group}")


@click.command("sheet")
@click.argument("group")
@index_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="HTML file [group-N.html].")
def sheet(group: str, index_url: str | None, out: Path | None) -> None:
    """Write an HTML contact sheet of GROUP's faces (id or name) for review."""
    from convapps.face.archive.people import contact_sheet, resolve_group

    with _open_index(index_url) as store:
        record = resolve_group(store, group)
        path = contact_sheet(store, group, out or Path(f"group-{record.id}.html"))
    click.echo(f"wrote {path} ({min(record.size, 200)} faces)")
