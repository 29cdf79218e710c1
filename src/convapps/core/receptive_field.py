"""Receptive-field arithmetic of a stack of convolution / pooling layers, per spatial dimension.

For layer l with kernel k_l, stride s_l, padding p_l (the padding added *before* the input) and dilation
d_l, the effective kernel is k'_l = d_l (k_l - 1) + 1 and, starting from the input pixels
(size r_0 = 1, jump j_0 = 1, first pixel lo_0 = 0):

    j_l  = j_{l-1} * s_l                         (distance in input pixels between adjacent units)
    r_l  = r_{l-1} + (k'_l - 1) * j_{l-1}        (receptive-field size in input pixels)
    lo_l = lo_{l-1} - p_l * j_{l-1}              (first input pixel seen by unit 0; may be negative)

Unit i of layer l then sees input pixels [lo_l + i j_l, lo_l + i j_l + r_l - 1] (inclusive), a box that can
reach into the padding (negative indices or indices >= n).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from convapps.errors import InvalidInputError


@dataclass(frozen=True)
class Window1d:
    """One layer's sliding window along one spatial dimension."""

    kernel: int
    stride: int = 1
    padding: int = 0
    """Padding added before the input (for symmetric padding, the lecture's p)."""
    dilation: int = 1

    def __post_init__(self) -> None:
        if self.kernel < 1 or self.stride < 1 or self.dilation < 1 or self.padding < 0:
            raise InvalidInputError(
                f"invalid window kernel={self.kernel} stride={self.stride} padding={self.padding} "
                f"dilation={self.dilation}: kernel, stride and dilation must be >= 1, padding >= 0"
            )

    @property
    def effective_kernel(self) -> int:
        """k' = d (k - 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of the units of one layer along one dimension, in input pixels."""

    size: int
    jump: int
    start: int
    """First input pixel seen by unit 0 (negative when it reaches into the padding)."""

    def box(self, index: int) -> tuple[int, int]:
        """Input-pixel interval ``[lo, hi)`` (half-open) seen by the unit at ``index``."""
        lo = self.start + index * self.jump
        return lo, lo + self.size

    @property
    def center_offset(self) -> float:
        """Centre of unit 0's field in input pixels: start + (size - 1) / 2."""
        return self.start + (self.size - 1) / 2


INPUT_FIELD = ReceptiveField(size=1, jump=1, start=0)


def next_receptive_field(previous: ReceptiveField, window: Window1d) -> ReceptiveField:
    """Apply one window to a receptive field (the three recurrences in the module docstring)."""
    return ReceptiveField(
        size=previous.size + (window.effective_kernel - 1) * previous.jump,
        jump=previous.jump * window.stride,
        start=previous.start - window.padding * previous.jump,
    )


def receptive_fields(windows: Sequence[Window1d]) -> list[ReceptiveField]:
    """Receptive field after each window of a stack (``len(windows)`` entries, input excluded)."""
    fields: list[ReceptiveField] = []
    field = INPUT_FIELD
    for window in windows:
        field = next_receptive_field(field, window)
        fields.append(field)
    return fields
