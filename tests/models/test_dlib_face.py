"""dlib face models: shipped files, cached loaders, spec, and the torch port of the ResNet (same numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from convapps.core.distances import l2_to_squared
from convapps.face.encoders import DlibResnetEncoder, FaceEncoder, load_encoder
from convapps.models.dlib_face import load_landmarks5, load_resnet_encoder, model_file
from convapps.models.dlib_resnet_torch import load_torch_resnet, read_dlib_resnet
from convapps.models.registry import DLIB_RESNET


def test_spec() -> None:
    assert DLIB_RESNET.space.dim == 128 and DLIB_RESNET.space.metric == "squared_l2"
    assert DLIB_RESNET.chip_size == 150 and DLIB_RESNET.chip_padding == 0.25
    assert l2_to_squared(DLIB_RESNET.reference_l2_threshold) == pytest.approx(0.36)
    assert 0.2 < DLIB_RESNET.default_tau < 0.6 and "pairsDevTrain" in DLIB_RESNET.default_tau_source


def test_files_and_cached_loaders() -> None:
    assert model_file("landmarks5").name == "shape_predictor_5_face_landmarks.dat"
    assert load_resnet_encoder() is load_resnet_encoder()
    assert load_landmarks5() is load_landmarks5()
    assert load_torch_resnet() is load_torch_resnet()


def test_weights_file_layout() -> None:
    convs, affines, fc = read_dlib_resnet(model_file("encoder"))
    assert len(convs) == len(affines) == 29  # ResNet-29
    assert convs[0][1][:5] == [32, 7, 7, 2, 2] and fc.shape == (256, 128)


def test_torch_port_matches_dlib(shared_data) -> None:  # type: ignore[no-untyped-def]
    from convapps.face.pipeline import FaceConfig, FacePipeline
    from convapps.io.images import load_image

    pipe = FacePipeline(FaceConfig(flip=False))
    root = shared_data / "faces" / "lfw" / "lfw-deepfunneled"
    chips = []
    for name in ("Aaron_Peirsol", "Abel_Pacheco"):
        rgb = load_image(root / name / f"{name}_0001.jpg")
        chips.append(pipe.align(rgb, pipe.detect(rgb)[0]))
    batch = np.stack(chips)
    ours = DlibResnetEncoder(backend="torch").encode_chips(batch)
    native = DlibResnetEncoder(backend="dlib").encode_chips(batch)
    assert ours.shape == (2, 128) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, native, atol=1e-5)


def test_load_encoder() -> None:
    enc = load_encoder(None)
    assert isinstance(enc, FaceEncoder) and enc.space == DLIB_RESNET.space
    assert isinstance(load_encoder("dlib-native"), DlibResnetEncoder)
    with pytest.raises(Exception, match="trained"):
        load_encoder("/nonexistent/model.pt")
