"""EmbeddingSpace: the JSON galleries store (unchanged), equality, refusal of degenerate spaces."""

from __future__ import annotations

import pytest

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import InvalidInputError


def test_json_is_the_stored_form() -> None:
    space = EmbeddingSpace("dlib_face_recognition_resnet_model_v1", 128)
    text = '{"model_id": "dlib_face_recognition_resnet_model_v1", "dim": 128, "metric": "squared_l2"}'
    assert space.to_json() == text  # what galleries written before hold: they must still open
    assert EmbeddingSpace.from_json(text) == space
    assert EmbeddingSpace.from_dict(space.to_dict()) == space
    assert space.describe() == "'dlib_face_recognition_resnet_model_v1' (128-d, squared_l2)"


def test_equality_is_by_model_dim_and_metric() -> None:
    assert EmbeddingSpace("m", 4) == EmbeddingSpace("m", 4, "squared_l2")
    assert EmbeddingSpace("m", 4) != EmbeddingSpace("m", 8)
    assert EmbeddingSpace("m", 4) != EmbeddingSpace("n", 4)
    assert EmbeddingSpace("m", 4) != EmbeddingSpace("m", 4, "cosine")


@pytest.mark.parametrize(("model_id", "dim"), [("", 4), ("m", 0), ("m", -3)])
def test_degenerate_spaces_are_refused(model_id: str, dim: int) -> None:
    with pytest.raises(InvalidInputError):
        EmbeddingSpace(model_id, dim)


def test_a_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="JSON object"):
        EmbeddingSpace.from_json("[1, 2]")
