"""The face pipeline on real LFW photos: detection, alignment, encoding, face choice, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convapps.errors import InvalidInputError, NoFaceError
from convapps.face.pipeline import FaceConfig, FacePipeline, auto_upsample, default_pipeline
from convapps.io.images import load_image

from .faces_data import blank, lfw, two_faces


@pytest.fixture(scope="module")
def pipe() -> FacePipeline:
    return default_pipeline()


def test_auto_upsample_policy() -> None:
    assert auto_upsample(250, 250) == 0  # an LFW photo: the face (~1/3 of the side) is >= 80 px
    assert auto_upsample(200, 300) == 1  # 200 / 3 = 67 px < 80 px: one doubling
    assert auto_upsample(100, 100) == 2
    assert auto_upsample(4000, 3000) == 0
    assert auto_upsample(10, 10) == 3  # capped


def test_auto_upsample_floor_and_pixel_budget() -> None:
    # a floor in pixels: 40 px faces need one doubling to reach the 80 px window, 28 px two
    assert auto_upsample(250, 250, min_face_px=40) == 1
    assert auto_upsample(250, 250, min_face_px=28) == 2
    assert auto_upsample(250, 250, min_face_px=200) == 0  # the fraction rule already asks for less
    # the budget: 1000 x 1000 may be scanned at 4 MP (1 step) within 5 MP, not at 16 MP
    assert auto_upsample(1000, 1000, min_face_px=28, max_pixels=5_000_000) == 1
    assert auto_upsample(1000, 1000, min_face_px=28, max_pixels=16_000_000) == 2
    assert auto_upsample(3000, 4000, min_face_px=28, max_pixels=16_000_000) == 0


def test_min_face_px_finds_the_small_face_beside_large_ones(shared_data) -> None:  # type: ignore[no-untyped-def]
    # a group photo: two full-size LFW faces and one shrunk to a third (its face ~35 px): the single-photo
    # default stops once the big faces are found; a 28 px floor adds a pass that finds the small one too
    people = [("Aaron_Peirsol", 250), ("Abel_Pacheco", 250), ("Tony_Blair", 84)]
    canvas = np.full((250, 600, 3), 118, np.uint8)
    x = 0
    for name, side in people:
        tile = np.asarray(Image.fromarray(load_image(lfw(shared_data, name, 1))).resize((side, side)))
        canvas[125 - side // 2 : 125 - side // 2 + side, x : x + side] = tile
        x += side + 8
    default = FacePipeline(FaceConfig(), default_pipeline().encoder).detect(canvas)
    floored = FacePipeline(FaceConfig(min_face_px=28), default_pipeline().encoder).detect(canvas)
    assert len(default) == 2
    assert len(floored) == 3
    small = floored[-1]  # largest first: the small face is last, inside the third tile
    assert small.box[0] >= 508 and small.box[2] - small.box[0] < 50
    assert {f.box for f in default} <= {f.box for f in floored}  # the big faces are the same boxes


def test_config_rejects_bad_values() -> None:
    with pytest.raises(InvalidInputError):
        FaceConfig(detector="haar")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        FaceConfig(upsample=9)
    with pytest.raises(InvalidInputError):
        FaceConfig(jitters=-1)


def test_detect_one_lfw_face(shared_data, pipe: FacePipeline) -> None:  # type: ignore[no-untyped-def]
    rgb = load_image(lfw(shared_data, "Aaron_Peirsol", 1))
    faces = pipe.detect(rgb)
    assert len(faces) == 1
    left, top, right, bottom = faces[0].box
    assert 60 < left < 100 and 60 < top < 110 and 160 < right < 200 and 160 < bottom < 210
    assert faces[0].landmarks.shape == (5, 2)
    # eye corners above the nose, all inside the box
    assert faces[0].landmarks[:4, 1].max() < faces[0].landmarks[4, 1]
    chip = pipe.align(rgb, faces[0])
    assert chip.shape == (150, 150, 3) and chip.dtype == np.uint8


def test_several_faces_largest_first(shared_data, pipe: FacePipeline) -> None:  # type: ignore[no-untyped-def]
    faces = pipe.detect(two_faces(shared_data))
    assert len(faces) == 2
    assert faces[0].area > faces[1].area
    assert faces[0].box[2] < 250 <= faces[1].box[0]  # the big face is on the left
    encodings = pipe.encode_faces(two_faces(shared_data), name="two.png")
    assert [e.face_index for e in encodings] == [0, 1]
    assert all(e.n_faces == 2 for e in encodings)


def test_no_face_raises_naming_the_image(pipe: FacePipeline) -> None:
    assert pipe.detect(blank()) == []
    assert pipe.encode_faces(blank()) == []
    with pytest.raises(NoFaceError, match=r"^blank\.png: no face found"):
        pipe.encode_one(blank(), name="blank.png")


def test_face_index_out_of_range(shared_data, pipe: FacePipeline) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoFaceError, match="face 1 requested but 1 face"):
        pipe.encode_one(load_image(lfw(shared_data, "Aaron_Peirsol", 1)), 1, name="a.jpg")


def test_whole_image_fallback() -> None:
    fallback = FacePipeline(FaceConfig(fallback_whole_image=True, flip=False))
    enc = fallback.encode_one(blank(), name="blank.png")
    assert not enc.detected and enc.box == (0, 0, 199, 199)
    assert enc.embedding.shape == (128,)


def test_flip_averages_chip_and_mirror(shared_data, pipe: FacePipeline) -> None:  # type: ignore[no-untyped-def]
    rgb = load_image(lfw(shared_data, "Aaron_Peirsol", 1))
    chip = pipe.align(rgb, pipe.detect(rgb)[0])
    plain = pipe.encoder.encode_chips(np.stack([chip, chip[:, ::-1]]))
    np.testing.assert_allclose(pipe.encode_chips(chip[None])[0], plain.mean(axis=0), atol=1e-6)
    # the mirror image of a face is still the same person
    assert float(np.sum((plain[0] - plain[1]) ** 2)) < 0.1


def test_cnn_detector_finds_the_same_face(shared_data) -> None:  # type: ignore[no-untyped-def]
    rgb = load_image(lfw(shared_data, "Aaron_Peirsol", 1))
    faces = FacePipeline(FaceConfig(detector="cnn", upsample=0, flip=False)).detect(rgb)
    assert len(faces) == 1
    left, top, right, bottom = faces[0].box
    assert abs((left + right) / 2 - 128) < 20 and abs((top + bottom) / 2 - 128) < 25
