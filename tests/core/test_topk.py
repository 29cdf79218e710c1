"""Streaming top-k: equals a brute-force top-k over all images, whatever the batching."""

from __future__ import annotations

import pytest
import torch

from convapps.core.topk import StreamingTopK, spatial_argmax
from convapps.errors import InvalidInputError


def brute_force(acts: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    per_image = acts.amax(dim=(2, 3)).T  # (C, N)
    values, images = torch.sort(per_image, dim=1, descending=True, stable=True)
    return values[:, :k], images[:, :k]


def test_spatial_argmax_by_hand() -> None:
    acts = torch.zeros(1, 2, 3, 4)
    acts[0, 0, 2, 1] = 5.0
    acts[0, 1, 0, 3] = -1.0
    acts[0, 1] -= 2.0
    acts[0, 1, 1, 2] = -0.5
    best = spatial_argmax(acts)
    assert best.values.tolist() == [[5.0, -0.5]]
    assert best.rows.tolist() == [[2, 1]]
    assert best.cols.tolist() == [[1, 2]]


@pytest.mark.parametrize("batch", [1, 7, 50])
def test_matches_brute_force_for_any_batching(batch: int) -> None:
    torch.manual_seed(0)
    acts = torch.randn(50, 6, 5, 4)
    tracker = StreamingTopK(6, k=9)
    for start in range(0, 50, batch):
        tracker.update(acts[start : start + batch], list(range(start, min(start + batch, 50))))
    result = tracker.result()
    values, images = brute_force(acts, 9)
    assert torch.equal(result.values, values)
    assert torch.equal(result.images, images)
    for unit in range(6):
        for slot in range(9):
            image = int(result.images[unit, slot])
            row, col = int(result.rows[unit, slot]), int(result.cols[unit, slot])
            assert acts[image, unit, row, col] == result.values[unit, slot]
    assert result.count == 50
    assert torch.allclose(result.mean_activation, acts.mean(dim=(0, 2, 3)), atol=1e-6)


def test_at_most_one_patch_per_image() -> None:
    acts = torch.zeros(3, 1, 4, 4)
    acts[0, 0] = 10.0  # image 0 is the best everywhere: still only one slot
    acts[1, 0, 0, 0] = 5.0
    acts[2, 0, 3, 3] = 4.0
    tracker = StreamingTopK(1, k=9)
    tracker.update(acts, [0, 1, 2])
    result = tracker.result()
    assert result.images[0].tolist() == [0, 1, 2, -1, -1, -1, -1, -1, -1]
    assert result.filled(0) == 3
    assert result.values[0, 3] == float("-inf")
    assert (int(result.rows[0, 2]), int(result.cols[0, 2])) == (3, 3)


def test_ties_keep_the_earlier_image_and_nan_never_wins() -> None:
    tracker = StreamingTopK(1, k=2)
    tracker.update(torch.ones(2, 1, 2, 2), [0, 1])
    tracker.update(torch.full((2, 1, 2, 2), float("nan")), [2, 3])
    tracker.update(torch.ones(1, 1, 2, 2), [4])
    assert tracker.result().images[0].tolist() == [0, 1]


def test_memory_is_bounded_by_units_times_k() -> None:
    tracker = StreamingTopK(4, k=3)
    for start in range(0, 1000, 100):
        tracker.update(torch.randn(100, 4, 2, 2), list(range(start, start + 100)))
    result = tracker.result()
    assert result.values.shape == (4, 3)
    assert result.count == 1000


def test_refuses_repeated_ids_and_wrong_shapes() -> None:
    tracker = StreamingTopK(2, k=3)
    tracker.update(torch.zeros(2, 2, 1, 1), [0, 1])
    with pytest.raises(InvalidInputError, match="increasing"):
        tracker.update(torch.zeros(1, 2, 1, 1), [1])
    with pytest.raises(InvalidInputError):
        tracker.update(torch.zeros(1, 3, 1, 1), [5])
    with pytest.raises(InvalidInputError):
        StreamingTopK(0)
