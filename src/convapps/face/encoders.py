"""Face encoders f(x): aligned chips in, D-dimensional encodings out.

An encoder is anything with a :class:`~convapps.embedding_space.EmbeddingSpace`, a default threshold
tau (squared L2) and ``encode_chips``. The default is dlib's pretrained ResNet (128-d); a model trained
with ``convapps face train`` is loaded from its file by ``convapps.face.trained_encoder``. The role itself
(:class:`FaceEncoder`, :func:`check_chips`) is defined in :mod:`convapps.face.encoder_role` and re-exported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import InvalidInputError
from convapps.face.encoder_role import FaceEncoder, check_chips
from convapps.models.dlib_face import load_resnet_encoder
from convapps.models.dlib_resnet_torch import load_torch_resnet
from convapps.models.registry import DLIB_RESNET
from convapps.models.spec import FaceEncoderSpec


class DlibResnetEncoder:
    """dlib's ResNet face encoder (``dlib_face_recognition_resnet_model_v1``), 128-d, chips 150x150.

    Backends give the same numbers (within 1e-5): ``"torch"`` (default) runs the same weights as a torch
    module (:mod:`convapps.nn.dlib_resnet`), 5-10x faster on a CPU than dlib's own ``"dlib"`` build.
    ``jitters > 0`` averages the encodings of that many random small crops/flips/rotations of each chip
    (dlib's ``num_jitters``, always run by dlib; costs ``jitters`` times the encoding time).
    """

    spec: FaceEncoderSpec = DLIB_RESNET
    space: EmbeddingSpace = DLIB_RESNET.space
    supports_jitter: bool = True
    batch_size: int = 32

    def __init__(self, *, backend: Literal["torch", "dlib"] = "torch", default_tau: float | None = None) -> None:
        if backend not in ("torch", "dlib"):
            raise InvalidInputError(f"backend must be 'torch' or 'dlib', got {backend!r}")
        self.backend = backend
        self.default_tau = DLIB_RESNET.default_tau if default_tau is None else float(default_tau)
        self._torch_net = load_torch_resnet() if backend == "torch" else None
        self._dlib_net: Any = load_resnet_encoder() if backend == "dlib" else None

    def _dlib(self) -> Any:
        if self._dlib_net is None:
            self._dlib_net = load_resnet_encoder()
        return self._dlib_net

    def encode_chips(self, chips: NDArray[np.uint8], *, jitters: int = 0) -> NDArray[np.float32]:
        """Encode ``(N, 150, 150, 3)`` uint8 chips (aligned like ``dlib.get_face_chip``) -> ``(N, 128)``."""
        batch = check_chips(chips, self.spec.chip_size)
        if jitters < 0:
            raise InvalidInputError(f"jitters must be >= 0, got {jitters}")
        if len(batch) == 0:
            return np.zeros((0, self.space.dim), dtype=np.float32)
        if self._torch_net is None or jitters > 0:
            out = self._dlib().compute_face_descriptor(list(batch), int(jitters))
            return np.asarray([np.asarray(v) for v in out], dtype=np.float32).reshape(len(batch), self.space.dim)
        import torch

        parts = []
        with torch.inference_mode():
            for start in range(0, len(batch), self.batch_size):
                chunk = torch.from_numpy(batch[start : start + self.batch_size])
                parts.append(self._torch_net(chunk).numpy())  # type: ignore[operator]
        return np.concatenate(parts).astype(np.float32)


def load_encoder(model: str | Path | None = None) -> FaceEncoder:
    """The encoder for ``model``: ``None`` (or ``"dlib"``) = dlib's ResNet run by torch, ``"dlib-native"`` =
    the same run by dlib itself; a path = a model file written by ``convapps face train``.

    Trained models are read by :func:`convapps.face.trained_encoder.load_trained_encoder`, imported here on
    first use (it imports torch); that module depends only on :mod:`convapps.face.encoder_role`, not on
    this one.

    Raises:
        ModelNotAvailableError: the weights package is not installed.
        NotFoundError/CheckpointError: the trained-model file is missing, truncated or not a face model.
    """
    if model is None or (isinstance(model, str) and model in ("dlib", DLIB_RESNET.space.model_id)):
        return DlibResnetEncoder()
    if model == "dlib-native":
        return DlibResnetEncoder(backend="dlib")
    from convapps.face.trained_encoder import load_trained_encoder

    return load_trained_encoder(Path(model))


__all__ = ["DlibResnetEncoder", "FaceEncoder", "check_chips", "load_encoder"]
