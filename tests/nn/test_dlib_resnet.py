"""dlib's add_prev (mismatched shapes) as reproduced in the torch port."""

from __future__ import annotations

import torch

from convapps.nn.dlib_resnet import add_prev


def test_add_prev_same_shape_is_a_sum() -> None:
    a, b = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(add_prev(a, b), a + b)


def test_add_prev_zero_fills_missing_rows_columns_and_channels() -> None:
    # the residual branch of a stride-2 block: 8x8 -> 3x3 conv output vs 4x4 pooled shortcut, 64 -> 128 channels
    conv = torch.ones(1, 128, 3, 3)
    shortcut = torch.full((1, 64, 4, 4), 2.0)
    out = add_prev(conv, shortcut)
    assert out.shape == (1, 128, 4, 4)
    assert out[0, 0, 0, 0] == 3.0  # both
    assert out[0, 0, 3, 3] == 2.0  # only the shortcut has row/column 3
    assert out[0, 100, 0, 0] == 1.0  # only the conv branch has channel 100
    assert out[0, 100, 3, 0] == 0.0  # neither
