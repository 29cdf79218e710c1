"""The embedding space of an encoder: which encodings f(x) can be compared with each other.

Two encodings are comparable only when the same model produced them: the lecture's
``d(a, b) = ||f(a) - f(b)||^2`` between encodings of two different networks means nothing, even
when both are 128-d. An :class:`EmbeddingSpace` names the model, the dimension D and the metric.
Encoders carry one (``encoder.space``), a gallery records the space of its first enrollment and
refuses any other, and the registry of networks (:mod:`convapps.models.registry`) states the space
of each shipped face encoder.

It sits at the bottom of the package (next to :mod:`convapps.errors`) so that ``models/`` and
``gallery/`` both use it without importing each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from convapps.errors import InvalidInputError

SQUARED_L2 = "squared_l2"
"""The lecture's distance ``||f(a) - f(b)||^2``; the only metric convapps' encoders use."""


@dataclass(frozen=True)
class EmbeddingSpace:
    """Which encodings can be compared: same model, same size D, same metric.

    Attributes:
        model_id: stable name of the encoder's weights, e.g. ``"dlib_face_recognition_resnet_model_v1"``.
        dim: size D of an encoding (> 0).
        metric: how two encodings are compared; ``"squared_l2"`` is ``||f(a) - f(b)||^2``.
    """

    model_id: str
    dim: int
    metric: str = SQUARED_L2

    def __post_init__(self) -> None:
        if not self.model_id:
            raise InvalidInputError("an embedding space needs a model id")
        if self.dim < 1:
            raise InvalidInputError(f"an embedding space needs a dimension >= 1, got {self.dim}")

    def to_dict(self) -> dict[str, str | int]:
        """``{"model_id": ..., "dim": ..., "metric": ...}``, the form galleries store."""
        return {"model_id": self.model_id, "dim": self.dim, "metric": self.metric}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbeddingSpace:
        """Inverse of :meth:`to_dict`."""
        return cls(model_id=str(data["model_id"]), dim=int(data["dim"]), metric=str(data["metric"]))

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON (key order ``model_id, dim, metric``)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> EmbeddingSpace:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise InvalidInputError(f"an embedding space must be a JSON object, got {text!r}")
        return cls.from_dict(data)

    def describe(self) -> str:
        """``'model' (128-d, squared_l2)``, for messages."""
        return f"{self.model_id!r} ({self.dim}-d, {self.metric})"
