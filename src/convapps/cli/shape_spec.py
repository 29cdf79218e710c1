"""Parsing of the layer-stack options of ``convapps nd shape`` into :class:`ConvLayer` objects."""

from __future__ import annotations

from convapps.core.shapes import ConvLayer, Padding
from convapps.errors import InvalidInputError


def parse_dims(text: str, what: str) -> int | tuple[int, ...]:
    """``"5"`` -> 5 (every spatial dimension); ``"3x5"`` -> (3, 5) (one value per dimension)."""
    parts = text.strip().lower().split("x")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise InvalidInputError(f"malformed {what} {text!r}: expected an integer like 5 or 3x3x3") from None
    return values[0] if len(values) == 1 else values


def parse_padding(text: str) -> Padding:
    """An integer (``"1"``, ``"1x0"``), ``"same"`` or ``"valid"``."""
    lowered = text.strip().lower()
    if lowered in ("same", "valid"):
        return "same" if lowered == "same" else "valid"
    return parse_dims(lowered, "padding")


def _split(text: str | None, count: int, what: str) -> list[str]:
    if text is None:
        return []
    values = [v for v in text.split(",") if v.strip()]
    if len(values) == 1:
        return values * count
    if len(values) != count:
        raise InvalidInputError(f"--{what} has {len(values)} values for {count} layers; give 1 or {count}")
    return values


def layers_from_options(
    filters: str, kernel: str, stride: str | None, padding: str | None, dilation: str | None
) -> list[ConvLayer]:
    """Build a conv stack from comma-separated ``--filters 16,32 --kernel 5 [--stride ...]``."""
    try:
        counts = [int(v) for v in filters.split(",") if v.strip()]
    except ValueError:
        raise InvalidInputError(f"malformed --filters {filters!r}: expected integers like 16,32") from None
    if not counts:
        raise InvalidInputError("--filters needs at least one number")
    n = len(counts)
    kernels = _split(kernel, n, "kernel")
    strides = _split(stride, n, "stride") or ["1"] * n
    pads = _split(padding, n, "padding") or ["0"] * n
    dils = _split(dilation, n, "dilation") or ["1"] * n
    return [
        ConvLayer(
            filters=count,
            kernel=parse_dims(k, "kernel"),
            stride=parse_dims(s, "stride"),
            padding=parse_padding(p),
            dilation=parse_dims(d, "dilation"),
        )
        for count, k, s, p, d in zip(counts, kernels, strides, pads, dils, strict=True)
    ]


def layer_from_spec(spec: str) -> ConvLayer:
    """``conv:FILTERS:KERNEL[:STRIDE[:PADDING[:DILATION]]]`` or ``maxpool|avgpool:KERNEL[:STRIDE[:PADDING]]``.

    Pooling strides default to the kernel size (the usual non-overlapping pooling).
    """
    parts = spec.strip().lower().split(":")
    kind = parts[0]
    if kind == "conv" and 3 <= len(parts) <= 6:
        filters = parse_dims(parts[1], "filters")
        if not isinstance(filters, int):
            raise InvalidInputError(f"malformed layer {spec!r}: filters must be one integer")
        return ConvLayer(
            filters=filters,
            kernel=parse_dims(parts[2], "kernel"),
            stride=parse_dims(parts[3], "stride") if len(parts) > 3 else 1,
            padding=parse_padding(parts[4]) if len(parts) > 4 else 0,
            dilation=parse_dims(parts[5], "dilation") if len(parts) > 5 else 1,
        )
    if kind in ("maxpool", "avgpool") and 2 <= len(parts) <= 4:
        kernel = parse_dims(parts[1], "kernel")
        return ConvLayer(
            kind="maxpool" if kind == "maxpool" else "avgpool",
            kernel=kernel,
            stride=parse_dims(parts[2], "stride") if len(parts) > 2 else kernel,
            padding=parse_padding(parts[3]) if len(parts) > 3 else 0,
        )
    raise InvalidInputError(
        f"malformed layer {spec!r}: expected conv:FILTERS:KERNEL[:STRIDE[:PADDING[:DILATION]]] "
        "or maxpool:KERNEL[:STRIDE[:PADDING]]"
    )
