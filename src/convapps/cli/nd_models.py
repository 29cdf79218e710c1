"""``convapps nd shape --model ...``: every layer of the 1D/3D ConvNet, lecture formula vs torch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convapps.core.shapes import TensorShape
from convapps.errors import CheckpointError, InvalidInputError

if TYPE_CHECKING:
    from convapps.nn.convnet import ConvNetConfig, Ndim

MODEL_NAMES: dict[str, Ndim] = {"conv1d": 1, "ecg": 1, "conv3d": 3, "volume": 3}


def parse_ints(text: str | None, what: str) -> tuple[int, ...] | None:
    """``"16,32"`` -> ``(16, 32)``; ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InvalidInputError(f"malformed {what} {text!r}: expected integers like 16,32") from None
    if not values:
        raise InvalidInputError(f"{what} needs at least one integer")
    return values


TRAIN_HINT = "train one with 'convapps nd train-ecg' or 'convapps nd train-volume'"


def load_model_bundle(path: Path) -> Any:
    """:func:`convapps.nd.bundle.load_bundle`, with a hint how to make one when the file does not exist."""
    from convapps.nd.bundle import load_bundle

    try:
        return load_bundle(path)
    except CheckpointError as err:
        if path.exists():
            raise
        raise CheckpointError(f"{err}; {TRAIN_HINT}") from None


def block_kernels(kernels: tuple[int, ...] | None, defaults: tuple[int, ...], blocks: int) -> tuple[int, ...]:
    """One kernel size per block: a single ``--kernel`` value is repeated; without ``--kernel`` the
    model's defaults are cut or extended (last value repeated) to the number of blocks."""
    if kernels is None:
        return tuple(defaults[min(i, len(defaults) - 1)] for i in range(blocks))
    return kernels * blocks if len(kernels) == 1 else kernels


def build_named_model(
    name: str, shape: TensorShape, *, filters: str | None, kernel: str | None, pool: int | None, classes: int
) -> Any:
    """The default ``conv1d``/``conv3d`` net (or a saved ``model.pt``) for an input of ``shape``."""
    from convapps.nn.convnet import ConvNet, ConvNetConfig

    if name.lower() not in MODEL_NAMES:
        if Path(name).suffix == ".pt" or Path(name).is_file():
            return load_model_bundle(Path(name)).build()
        raise InvalidInputError(f"unknown model {name!r}: use conv1d, conv3d or a model.pt written by nd train-*")
    ndim = MODEL_NAMES[name.lower()]
    defaults = ConvNetConfig(ndim=ndim) if ndim == 1 else _default_3d()
    channels = parse_ints(filters, "--filters") or defaults.channels
    kernels = block_kernels(parse_ints(kernel, "--kernel"), defaults.kernels, len(channels))
    config = ConvNetConfig(
        ndim=ndim,
        in_channels=shape.channels,
        num_classes=classes,
        channels=channels,
        kernels=kernels,
        pool=defaults.pool if pool is None else pool,
        dropout=defaults.dropout,
    )
    return ConvNet(config)


def _default_3d() -> ConvNetConfig:
    from convapps.nn.conv3d import convnet3d

    return convnet3d().config


def render_model_shapes(name: str, shape: TensorShape, rows: Sequence[Any]) -> str:
    """Table: layer, torch module, output by the formula, output by torch, parameters."""
    header = ("layer", "module", "formula", "torch", "params")
    body = [("input", "", str(shape), str(shape), "")]
    body += [(r.name, r.kind, r.predicted, r.torch, f"{r.parameters:,}") for r in rows]
    widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in (header, *body)]
    total = sum(r.parameters for r in rows)
    lines += [
        "",
        f"model: {name}   input: {shape}   output: {rows[-1].torch}   parameters: {total:,}",
        f"all {len(rows)} layer shapes agree with torch (shapes channels-last, like the lecture)",
    ]
    return "\n".join(lines)
