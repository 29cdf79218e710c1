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

    def first_unit_inside(self) -> int:
        """Smallest unit index whose field starts at pixel >= 0: ``ceil(-start / jump)`` (0 if start >= 0)."""
        return max(0, -(self.start // self.jump))

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


@dataclass(frozen=True)
class PixelBox:
    """A half-open box of input pixels ``[top, bottom) x [left, right)``; may extend past the image."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        """``bottom - top``."""
        return self.bottom - self.top

    @property
    def width(self) -> int:
        """``right - left``."""
        return self.right - self.left

    def inside(self, height: int, width: int) -> bool:
        """True when the whole box lies inside an image of ``height x width`` pixels."""
        return self.top >= 0 and self.left >= 0 and self.bottom <= height and self.right <= width

    def clip(self, height: int, width: int) -> PixelBox:
        """The part of the box inside an image of ``height x width`` (may be empty)."""
        top, left = min(max(self.top, 0), height), min(max(self.left, 0), width)
        return PixelBox(top, left, max(top, min(self.bottom, height)), max(left, min(self.right, width)))


@dataclass(frozen=True)
class ReceptiveField2d:
    """Receptive field of a 2D layer's units: one :class:`ReceptiveField` per axis (rows, then columns)."""

    rows: ReceptiveField
    cols: ReceptiveField

    def box(self, i: int, j: int) -> PixelBox:
        """Input pixels seen by the unit at activation position ``(i, j)`` (row i, column j).

        ``top = start_rows + i * jump_rows``, ``bottom = top + size_rows``; likewise for columns.
        """
        top, bottom = self.rows.box(i)
        left, right = self.cols.box(j)
        return PixelBox(top, left, bottom, right)


@dataclass(frozen=True)
class LayerWindow:
    """One named layer of a 2D stack: its window along rows and along columns."""

    name: str
    rows: Window1d
    cols: Window1d

    @classmethod
    def square(cls, name: str, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> LayerWindow:
        """The same window along both axes (a k x k kernel, symmetric in height and width)."""
        window = Window1d(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
        return cls(name=name, rows=window, cols=window)


def receptive_field_stack(layers: Sequence[LayerWindow]) -> list[tuple[str, ReceptiveField2d]]:
    """``(name, field)`` after each layer of a 2D stack, in order (the recurrences of the module docstring).

    Pointwise layers (ReLU, batch norm, 1x1 convolutions) are windows of kernel 1, stride 1: they keep
    the field. Residual additions do not widen it either (the skip path sees a subset of the same pixels).
    """
    row_fields = receptive_fields([layer.rows for layer in layers])
    col_fields = receptive_fields([layer.cols for layer in layers])
    return [
        (layer.name, ReceptiveField2d(rows=r, cols=c))
        for layer, r, c in zip(layers, row_fields, col_fields, strict=True)
    ]
