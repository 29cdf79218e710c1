"""The encoder role: ``f`` of the lecture, aligned face chips in, D-dimensional encodings out.

:class:`FaceEncoder` is what the pipeline, the gallery and the evaluation need from an encoder (dlib's
pretrained ResNet in :mod:`convapps.face.encoders`, a trained model in :mod:`convapps.face.trained_encoder`);
:func:`check_chips` is the one shape check of a chip batch.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import InvalidInputError, ShapeError


@runtime_checkable
class FaceEncoder(Protocol):
    """The encoder role: ``f`` of the lecture, mapping aligned face chips to encodings."""

    space: EmbeddingSpace
    default_tau: float

    def encode_chips(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Encode ``(N, 150, 150, 3)`` RGB uint8 chips to ``(N, dim)`` float32 encodings."""
        ...


def check_chips(chips: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """Validate a ``(N, size, size, 3)`` uint8 batch (a single ``(size, size, 3)`` chip is promoted)."""
    arr = np.asarray(chips)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[1:] != (size, size, 3):
        raise ShapeError(f"expected chips of shape (N, {size}, {size}, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        raise InvalidInputError(f"chips must be uint8 RGB, got {arr.dtype}")
    return np.ascontiguousarray(arr)
