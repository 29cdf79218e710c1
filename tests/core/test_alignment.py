"""5-point similarity-transform geometry (and its agreement with dlib's get_face_chip_details)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convapps.core.alignment import (
    FIVE_POINT_TEMPLATE,
    alignment_matrix,
    chip_template,
    invert_affine,
    rotation_degrees,
    scale_factor,
    similarity_transform,
    transform_points,
)
from convapps.errors import InvalidInputError, ShapeError


def _similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = math.radians(angle_deg)
    rot = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return np.hstack([rot, [[tx], [ty]]])


def test_recovers_a_known_similarity_exactly() -> None:
    src = np.array([[10.0, 20.0], [40.0, 22.0], [70.0, 18.0], [100.0, 25.0], [55.0, 60.0]])
    truth = _similarity(17.0, 1.7, 5.0, -12.0)
    m = similarity_transform(src, transform_points(truth, src))
    np.testing.assert_allclose(m, truth, atol=1e-9)
    assert rotation_degrees(m) == pytest.approx(17.0)
    assert scale_factor(m) == pytest.approx(1.7)


def test_never_returns_a_reflection() -> None:
    src = chip_template(150, 0.25)
    mirrored = src * np.array([-1.0, 1.0])  # a mirror image: no rotation + scale reproduces it
    m = similarity_transform(src, mirrored)
    assert np.linalg.det(m[:, :2]) >= 0
    residual = np.abs(transform_points(m, src) - mirrored).max()
    assert residual > 10  # the best proper similarity cannot fit a reflection


def test_inverse_round_trip() -> None:
    m = _similarity(-33.0, 0.4, 100.0, 7.0)
    pts = np.array([[1.0, 2.0], [3.0, -4.0]])
    np.testing.assert_allclose(transform_points(invert_affine(m), transform_points(m, pts)), pts, atol=1e-12)


def test_chip_template_with_padding() -> None:
    # dlib's 150 px chip with padding 0.25: x = (0.25 + t) / 1.5 * 150
    t = chip_template(150, 0.25)
    np.testing.assert_allclose(t, (0.25 + FIVE_POINT_TEMPLATE) / 1.5 * 150)
    np.testing.assert_allclose(chip_template(100, 0.0), FIVE_POINT_TEMPLATE * 100)
    # the eye corners are level and the nose is below them, centred
    assert abs(t[0, 1] - t[2, 1]) < 1.0
    assert t[4, 1] > t[:4, 1].max()
    assert abs(t[4, 0] - 75) < 3


def test_alignment_puts_a_rotated_face_upright() -> None:
    template = chip_template(150, 0.25)
    face = transform_points(_similarity(25.0, 0.6, 40.0, 90.0), template)  # a face tilted by 25 degrees
    m = alignment_matrix(face)
    np.testing.assert_allclose(transform_points(m, face), template, atol=1e-9)
    assert rotation_degrees(m) == pytest.approx(-25.0)
    assert scale_factor(m) == pytest.approx(1 / 0.6)


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros(5), np.zeros((1, 2))])
def test_rejects_bad_shapes(bad: np.ndarray) -> None:
    with pytest.raises(ShapeError):
        similarity_transform(bad, bad)


def test_rejects_degenerate_points() -> None:
    with pytest.raises(InvalidInputError):
        similarity_transform(np.ones((5, 2)), np.arange(10.0).reshape(5, 2))
    with pytest.raises(ShapeError):
        alignment_matrix(np.arange(8.0).reshape(4, 2))


def test_agrees_with_dlib_chip_details_on_lfw(shared_data) -> None:  # type: ignore[no-untyped-def]
    dlib = pytest.importorskip("dlib")
    from convapps.face.pipeline import FaceConfig, FacePipeline
    from convapps.io.images import load_image

    pipe = FacePipeline(FaceConfig(flip=False))
    root = shared_data / "faces" / "lfw" / "lfw-deepfunneled"
    for name in ("AJ_Cook", "Aaron_Guiel", "Aaron_Peirsol"):
        face = pipe.detect(load_image(root / name / f"{name}_0001.jpg"))[0]
        m = alignment_matrix(face.landmarks)
        shape = dlib.full_object_detection(
            dlib.rectangle(*face.box), dlib.points([dlib.point(int(x), int(y)) for x, y in face.landmarks])
        )
        details = dlib.get_face_chip_details(shape, 150, 0.25)
        r = details.rect
        centre = np.array([(r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2])
        ours = transform_points(invert_affine(m), [[74.5, 74.5]])[0]
        assert np.linalg.norm(centre - ours) < 1.5
        assert rotation_degrees(m) == pytest.approx(-math.degrees(details.angle), abs=0.6)
        assert (1 / scale_factor(m)) == pytest.approx(r.width() / 150, rel=0.02)
