"""A small synthetic photo archive, made with the library (no face model needed): photos with coloured
"faces" at hand-made boxes and hand-made encodings, stored and grouped in an archive index."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from convapps.gallery import open_archive_index
from convapps.gallery.archive_base import NewFaces, PhotoRecord
from convapps.models.registry import DLIB_RESNET

SPACE = DLIB_RESNET.space
Box = tuple[int, int, int, int]

PEOPLE = {  # person -> (photo, face box) of each of their faces; colours tell the faces apart in crops
    "a": [(0, (40, 30, 120, 110)), (1, (200, 60, 280, 140)), (2, (60, 120, 150, 210)), (3, (250, 20, 330, 100))],
    "b": [(0, (220, 150, 300, 230)), (1, (30, 160, 100, 230)), (4, (150, 80, 230, 160))],
    "c": [(4, (20, 20, 70, 70))],
}
COLOURS = {"a": (220, 40, 40), "b": (40, 200, 60), "c": (40, 60, 220)}
LONER_COLOUR = (250, 200, 40)


@dataclass
class Archive:
    """The synthetic archive: photo paths, and per person the ids and boxes of their faces."""

    index_path: Path
    photos: list[Path]
    faces: dict[str, list[tuple[int, Path, Box]]]
    groups: dict[str, int]
    big_face: int
    ungrouped_face: int


def make_photo(path: Path, boxes: list[tuple[Box, tuple[int, int, int]]], size: tuple[int, int] = (400, 300)) -> Path:
    """A photo: a smooth gradient with each face box filled with its person's colour (PNG: exact pixels)."""
    width, height = size
    x = np.linspace(0, 255, width)[None, :, None]
    y = np.linspace(0, 255, height)[:, None, None]
    pixels = np.concatenate([np.broadcast_to(x, (height, width, 1)), np.broadcast_to(y, (height, width, 1))], axis=2)
    pixels = np.concatenate([pixels, np.full((height, width, 1), 128.0)], axis=2).astype(np.uint8)
    for (left, top, right, bottom), colour in boxes:
        pixels[top:bottom, left:right] = colour
    Image.fromarray(pixels).save(path)
    return path


def record(path: Path, error: str | None = None) -> PhotoRecord:
    st = path.stat()
    return PhotoRecord(
        str(path), hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns, error=error
    )


def encodings(centre: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return (centre[None, :] + 0.01 * rng.standard_normal((n, SPACE.dim))).astype(np.float32)


def build_archive(folder: Path) -> Archive:
    """7 readable photos (one of them 2400x1800), 1 unreadable; 10 faces: groups of 5, 3 and 1, one not grouped."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    boxes_of: dict[int, list[tuple[str, Box]]] = {}
    for person, faces in PEOPLE.items():
        for photo, box in faces:
            boxes_of.setdefault(photo, []).append((person, box))
    photos = [make_photo(folder / f"photo{i}.png", [(b, COLOURS[p]) for p, b in boxes_of.get(i, [])]) for i in range(5)]
    big_box = (1500, 900, 1800, 1200)  # a large photo: its crop is decoded at a reduced scale
    photos.append(make_photo(folder / "big.png", [(big_box, COLOURS["a"])], size=(2400, 1800)))
    loner_box = (100, 100, 180, 180)
    photos.append(make_photo(folder / "later.png", [(loner_box, LONER_COLOUR)]))
    junk = folder / "notes.txt"
    junk.write_text("not a photo")
    centres = {p: rng.standard_normal(SPACE.dim).astype(np.float32) for p in (*PEOPLE, "loner")}
    index_path = folder.parent / "archive.db"
    with open_archive_index(index_path, space=SPACE) as index:
        items = []
        for i in range(5):
            people = boxes_of.get(i, [])
            faces = NewFaces(
                [b for _, b in people],
                [0.9 - 0.1 * k for k in range(len(people))],
                np.concatenate([encodings(centres[p], 1, rng) for p, _ in people]),
            )
            items.append((record(photos[i]), faces))
        items.append((record(photos[5]), NewFaces([big_box], [0.99], encodings(centres["a"], 1, rng))))
        items.append((record(junk, error="not an image"), NewFaces.none(SPACE.dim)))
        index.put_photos(items)
        person_of = {(str(photos[i]), box): person for i, people in boxes_of.items() for person, box in people}
        person_of[(str(photos[5]), big_box)] = "a"
        stored = index.faces()
        labels = {"a": 0, "b": 1, "c": 2}
        index.assign_groups([f.id for f in stored], [labels[person_of[(f.photo, f.box)]] for f in stored])
        index.put_photos([(record(photos[6]), NewFaces([loner_box], [0.8], encodings(centres["loner"], 1, rng)))])
        faces_by_person: dict[str, list[tuple[int, Path, Box]]] = {p: [] for p in PEOPLE}
        group_ids: dict[str, int] = {}
        for face in index.faces():
            if face.group is not None:
                person = person_of[(face.photo, face.box)]
                faces_by_person[person].append((face.id, Path(face.photo), face.box))
                group_ids[person] = face.group
        big = next(f.id for f in index.faces(photo=str(photos[5])))
        loner = next(f.id for f in index.faces(photo=str(photos[6])))
    return Archive(index_path, photos, faces_by_person, group_ids, big, loner)
