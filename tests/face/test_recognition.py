"""One-shot recognition with the real dlib model on LFW photos, on both gallery backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import AlreadyEnrolledError, ConflictError, NoFaceError, NotFoundError
from convapps.face.enrollment import enroll
from convapps.face.pipeline import FacePipeline, default_pipeline
from convapps.face.recognition import NOT_RECOGNIZED, enroll_folder, folder_people, identify, verify_id
from convapps.gallery import Gallery, open_gallery
from convapps.io.images import load_image


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    return default_pipeline()


@pytest.fixture(scope="module")
def photos(shared_data: Path) -> dict[str, Path]:
    root = shared_data / "faces" / "lfw" / "lfw-deepfunneled"
    return {
        "aaron1": root / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg",
        "aaron2": root / "Aaron_Peirsol" / "Aaron_Peirsol_0002.jpg",
        "colin1": root / "Colin_Powell" / "Colin_Powell_0001.jpg",
        "colin2": root / "Colin_Powell" / "Colin_Powell_0002.jpg",
        "stranger": root / "Serena_Williams" / "Serena_Williams_0001.jpg",
    }


@pytest.fixture(params=["sqlite", "milvus"])
def gallery(request: pytest.FixtureRequest, tmp_path: Path, pipeline: FacePipeline) -> Gallery:
    url = f"{tmp_path}/g.db" if request.param == "sqlite" else f"milvus:///{tmp_path}/g-milvus.db"
    g = open_gallery(url, space=pipeline.encoder.space)
    request.addfinalizer(g.close)
    return g


def test_one_shot_enroll_identify_stranger_and_remove(
    gallery: Gallery, pipeline: FacePipeline, photos: dict[str, Path]
) -> None:
    aaron = enroll(gallery, "Aaron Peirsol", [photos["aaron1"]], pipeline=pipeline).identity  # ONE photo
    enroll(gallery, "Colin Powell", [photos["colin1"]], pipeline=pipeline)
    assert aaron.n_encodings == 1

    [face] = identify(gallery, photos["aaron2"], pipeline=pipeline)  # another photo of him
    assert face.identity is not None and face.identity.name == "Aaron Peirsol"
    assert face.distance < 0.2 and face.decision.score < face.tau
    assert face.decision.second is not None and face.decision.second.identity.name == "Colin Powell"
    assert face.decision.margin > 0 and "2 people, FAR 1% per search" in face.decision.threshold.reason

    [stranger] = identify(gallery, photos["stranger"], pipeline=pipeline)  # never enrolled
    assert stranger.identity is None and stranger.label == NOT_RECOGNIZED
    assert stranger.decision.score > stranger.tau and stranger.nearest is not None
    assert stranger.sentence.startswith("Not recognized")

    gallery.remove("Aaron Peirsol")
    [after] = identify(gallery, photos["aaron2"], pipeline=pipeline)
    assert after.label == NOT_RECOGNIZED and after.nearest.name == "Colin Powell"  # type: ignore[union-attr]


def test_every_face_of_a_group_photo_is_identified(
    gallery: Gallery, pipeline: FacePipeline, photos: dict[str, Path]
) -> None:
    enroll(gallery, "Colin Powell", [photos["colin1"]], pipeline=pipeline)
    group = np.concatenate([load_image(photos["colin2"]), load_image(photos["stranger"])], axis=1)
    results = identify(gallery, group, pipeline=pipeline)
    assert len(results) == 2
    by_side = sorted(results, key=lambda r: r.box[0])
    assert [r.label for r in by_side] == ["Colin Powell", NOT_RECOGNIZED]
    assert by_side[1].box[0] >= 250  # the stranger is in the right half


def test_verify_id_against_a_claimed_identity(
    gallery: Gallery, pipeline: FacePipeline, photos: dict[str, Path]
) -> None:
    enroll(gallery, "Colin Powell", [photos["colin1"]], pipeline=pipeline)
    assert verify_id(gallery, photos["colin2"], "Colin Powell", pipeline=pipeline).same
    impostor = verify_id(gallery, photos["aaron2"], "Colin Powell", pipeline=pipeline)
    assert not impostor.same and impostor.distance > impostor.tau
    with pytest.raises(NotFoundError, match="Colin Powell"):
        verify_id(gallery, photos["aaron2"], "Colin Powel", pipeline=pipeline)


def test_image_without_a_face_and_duplicates_leave_the_gallery_unchanged(
    gallery: Gallery, pipeline: FacePipeline, photos: dict[str, Path]
) -> None:
    blank = np.full((200, 200, 3), 127, np.uint8)
    with pytest.raises(NoFaceError):
        enroll(gallery, "nobody", [photos["aaron1"], blank], pipeline=pipeline)
    assert len(gallery) == 0
    enroll(gallery, "Aaron", [photos["aaron1"]], pipeline=pipeline)
    with pytest.raises(ConflictError):
        enroll(gallery, "Aaron", [photos["aaron2"]], pipeline=pipeline)
    assert enroll(gallery, "Aaron", [photos["aaron2"]], pipeline=pipeline, add=True).identity.n_encodings == 2
    with pytest.raises(NoFaceError):
        identify(gallery, blank, pipeline=pipeline)


def test_enroll_folder_one_subfolder_per_person(
    tmp_path: Path, pipeline: FacePipeline, photos: dict[str, Path]
) -> None:
    layout = tmp_path / "people"
    for person in ("Ann", "Bob"):
        (layout / person).mkdir(parents=True)
        (layout / person / "a.jpg").write_bytes(b"x")
    (layout / ".hidden").mkdir()
    assert list(folder_people(layout)) == ["Ann", "Bob"]
    with open_gallery(tmp_path / "g.db", space=pipeline.encoder.space) as gallery:
        subset = {"Aaron_Peirsol": [photos["aaron1"], photos["aaron2"]], "Colin_Powell": [photos["colin1"]]}
        added = enroll_folder(gallery, subset, pipeline=pipeline)
        assert [p.name for p in added] == ["Aaron_Peirsol", "Colin_Powell"]
        assert gallery.get("Aaron_Peirsol").n_encodings == 2
        with pytest.raises(AlreadyEnrolledError, match="already enrolled"):
            enroll_folder(gallery, subset, pipeline=pipeline)
        assert enroll_folder(gallery, subset, pipeline=pipeline, skip_existing=True) == []
