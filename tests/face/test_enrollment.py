"""Enrollment rules on real LFW photos: one chosen face, big and sharp enough, look-alikes warned about,
names unique; a refused photo leaves the gallery unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from convapps.errors import ConflictError, FaceQualityError, NoFaceError, SeveralFacesError
from convapps.face.enrollment import EnrollmentChecks, enroll, sharpness
from convapps.face.pipeline import FacePipeline, default_pipeline
from convapps.gallery import Gallery, open_gallery
from convapps.io.images import load_image

from .faces_data import blank, lfw, two_faces


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    return default_pipeline()


@pytest.fixture
def gallery(tmp_path: Path, pipeline: FacePipeline) -> Gallery:
    with open_gallery(tmp_path / "g.db", space=pipeline.encoder.space) as g:
        yield g


def test_sharpness_is_the_variance_of_the_laplacian() -> None:
    flat = np.full((10, 10, 3), 90, np.uint8)
    assert sharpness(flat) == 0.0
    dot = flat.copy()
    dot[5, 5] = 190  # one bright pixel: Laplacian -400 there, +100 at its 4 neighbours, 0 elsewhere (8x8)
    values = np.zeros(64)
    values[[4 * 8 + 4]] = -400
    values[[3 * 8 + 4, 5 * 8 + 4, 4 * 8 + 3, 4 * 8 + 5]] = 100
    assert sharpness(dot) == pytest.approx(values.var(), rel=1e-6)


def test_a_photo_with_several_faces_needs_a_chosen_face(
    gallery: Gallery, pipeline: FacePipeline, shared_data: Path
) -> None:
    group = two_faces(shared_data)
    with pytest.raises(SeveralFacesError, match="2 faces found"):
        enroll(gallery, "Aaron Peirsol", [group], pipeline=pipeline)
    assert len(gallery) == 0
    done = enroll(gallery, "Aaron Peirsol", [group], pipeline=pipeline, face_index=0)
    assert done.identity.n_encodings == 1 and done.warnings == ()
    with pytest.raises(NoFaceError, match="face 2 requested but 2 face"):
        enroll(gallery, "Abel", [group], pipeline=pipeline, face_index=2)


def test_small_and_blurry_faces_are_refused_with_the_reason(
    gallery: Gallery, pipeline: FacePipeline, shared_data: Path
) -> None:
    photo = Image.fromarray(load_image(lfw(shared_data, "Colin_Powell", 1)))
    blurred = np.asarray(photo.filter(ImageFilter.GaussianBlur(4)))
    with pytest.raises(FaceQualityError, match="too blurry"):
        enroll(gallery, "Colin Powell", [blurred], pipeline=pipeline)
    with pytest.raises(FaceQualityError, match=r"only \d+ px across; at least 200 px"):
        enroll(
            gallery, "Colin Powell", [np.asarray(photo)], pipeline=pipeline, checks=EnrollmentChecks(min_face_px=200)
        )
    with pytest.raises(NoFaceError):
        enroll(gallery, "Colin Powell", [np.asarray(photo), blank()], pipeline=pipeline)
    assert len(gallery) == 0
    assert enroll(gallery, "Colin Powell", [np.asarray(photo)], pipeline=pipeline).identity.n_encodings == 1


def test_a_look_alike_is_enrolled_with_a_warning_and_a_name_only_once(
    gallery: Gallery, pipeline: FacePipeline, shared_data: Path
) -> None:
    enroll(gallery, "Colin Powell", [lfw(shared_data, "Colin_Powell", 1)], pipeline=pipeline)
    twin = enroll(gallery, "C. Powell", [lfw(shared_data, "Colin_Powell", 2)], pipeline=pipeline)
    [warning] = twin.warnings
    assert warning.startswith("looks like Colin Powell (d = 0.") and len(gallery) == 2
    other = enroll(gallery, "Aaron Peirsol", [lfw(shared_data, "Aaron_Peirsol", 1)], pipeline=pipeline)
    assert other.warnings == ()
    with pytest.raises(ConflictError):
        enroll(gallery, "Aaron Peirsol", [lfw(shared_data, "Aaron_Peirsol", 2)], pipeline=pipeline)
    assert gallery.get("Aaron Peirsol").n_encodings == 1
