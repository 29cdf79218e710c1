"""``convapps nd``: ConvNets over 1D signals and 3D volumes, and the conv shape calculator."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from convapps.cli.shape_spec import layer_from_spec, layers_from_options
from convapps.core.shapes import ConvLayer, LayerReport, TensorShape, layer_stack
from convapps.errors import InvalidInputError


@click.group()
def nd() -> None:
    """ConvNets over 1D signals (an EKG) and 3D volumes (a CT scan).

    The lecture's generalisation of convolution: a 1D filter slides along time, a 3D filter through a
    volume; input and filter channels match, and each filter gives one output channel.

    \b
      shape         output shape of conv layers, or of every layer of a model (--model conv1d|conv3d)
      train-ecg     train the 1D ConvNet on ECG beats (UCR files, an annotated WFDB record)
      train-volume  train the 3D ConvNet on volumes (MedMNIST 3D .npz)
      predict       classify a record or a volume with a trained model.pt
    """


def _fmt_dims(value: int | tuple[int, ...] | str) -> str:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)


def render_stack(shape: TensorShape, reports: Sequence[LayerReport]) -> str:
    """A table of the stack: one row per layer with output shape, parameters and receptive field."""
    header = ("layer", "type", "filters", "kernel", "stride", "padding", "output", "params", "receptive field")
    rows = [("input", "", "", "", "", "", str(shape), "", "x".join("1" for _ in shape.spatial))]
    for r in reports:
        layer = r.layer
        rows.append(
            (
                str(r.index),
                layer.kind,
                "" if layer.filters is None else str(layer.filters),
                _fmt_dims(layer.kernel),
                _fmt_dims(layer.stride),
                _fmt_dims(layer.padding),
                str(r.output),
                f"{r.parameters:,}",
                "x".join(str(f.size) for f in r.receptive_field),
            )
        )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]
    total = sum(r.parameters for r in reports)
    path = " -> ".join([str(shape), *(str(r.output) for r in reports)])
    lines += ["", f"shapes: {path}", f"output: {reports[-1].output}   parameters: {total:,}"]
    return "\n".join(lines)


def stack_as_json(shape: TensorShape, reports: Sequence[LayerReport]) -> str:
    """The same report as JSON (one object per layer)."""
    return json.dumps(
        {
            "input": str(shape),
            "layers": [
                {
                    "index": r.index,
                    "type": r.layer.kind,
                    "filters": r.layer.filters,
                    "kernel": r.layer.kernel,
                    "stride": r.layer.stride,
                    "padding": r.layer.padding,
                    "output": str(r.output),
                    "parameters": r.parameters,
                    "receptive_field": [f.size for f in r.receptive_field],
                    "jump": [f.jump for f in r.receptive_field],
                }
                for r in reports
            ],
            "output": str(reports[-1].output),
            "parameters": sum(r.parameters for r in reports),
        },
        indent=2,
    )


@nd.command("shape")
@click.argument("input_shape", metavar="SHAPE")
@click.option("--filters", help="Filters per conv layer, comma-separated for a stack: 16 or 16,32.")
@click.option("--kernel", help="Filter size f: 5 (every dimension) or 3x5; one, or one per layer.")
@click.option("--stride", help="Stride s (default 1); one, or one per layer.")
@click.option("--padding", help="Padding p: an integer, 'valid' (p=0, default) or 'same'; one or per layer.")
@click.option("--dilation", help="Dilation (default 1); one, or one per layer.")
@click.option(
    "--layer",
    "layer_specs",
    multiple=True,
    help="A layer as conv:FILTERS:KERNEL[:STRIDE[:PADDING[:DILATION]]] or maxpool:KERNEL[:STRIDE]; repeat "
    "for a stack (instead of --filters).",
)
@click.option(
    "--model",
    help="Print every layer of a ConvNet instead: conv1d (the ECG net), conv3d (the volume net) or a "
    "model.pt written by train-ecg/train-volume. --filters/--kernel then set its blocks.",
)
@click.option("--pool", type=int, help="With --model: max-pool size after each block but the last (1: none).")
@click.option("--classes", type=int, default=2, show_default=True, help="With --model: number of classes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def shape(
    input_shape: str,
    filters: str | None,
    kernel: str | None,
    stride: str | None,
    padding: str | None,
    dilation: str | None,
    layer_specs: tuple[str, ...],
    model: str | None,
    pool: int | None,
    classes: int,
    as_json: bool,
) -> None:
    """Output shape of conv layers: floor((n + 2p - f) / s) + 1 per dimension, channels = filters.

    SHAPE is channels-last: 14x1 (1D signal, 1 channel), 32x32x3 (2D image), 14x14x14x1 (3D volume).

    \b
    Examples (the lecture's):
      convapps nd shape 14x1 --filters 16 --kernel 5            # EKG: 10x16
      convapps nd shape 14x1 --filters 16,32 --kernel 5         # 14x1 -> 10x16 -> 6x32
      convapps nd shape 14x14x14x1 --filters 16,32 --kernel 5   # 10x10x10x16 -> 6x6x6x32
      convapps nd shape 64x64x64x3 --filters 16 --kernel 4 --stride 2
      convapps nd shape 224x224x3 --layer conv:64:3:1:same --layer maxpool:2
      convapps nd shape 96x1 --model conv1d                     # every layer of the ECG net
      convapps nd shape 28x28x28x1 --model conv3d --filters 8,16 --kernel 3
    """
    parsed = TensorShape.parse(input_shape)
    if model is not None:
        _model_shapes(parsed, model, filters, kernel, pool, classes, as_json)
        return
    layers: list[ConvLayer]
    if layer_specs and filters:
        raise InvalidInputError("give either --filters/--kernel or --layer, not both")
    if layer_specs:
        layers = [layer_from_spec(spec) for spec in layer_specs]
    elif filters:
        if kernel is None:
            raise InvalidInputError("--filters needs --kernel (the filter size f)")
        layers = layers_from_options(filters, kernel, stride, padding, dilation)
    else:
        raise InvalidInputError("describe the layers with --filters and --kernel, or with --layer")
    reports = layer_stack(parsed, layers)
    click.echo(stack_as_json(parsed, reports) if as_json else render_stack(parsed, reports))


def _model_shapes(
    parsed: TensorShape,
    model: str,
    filters: str | None,
    kernel: str | None,
    pool: int | None,
    classes: int,
    as_json: bool,
) -> None:
    """``shape --model``: each layer's output by the lecture's formula, checked against torch."""
    from convapps.cli.nd_models import build_named_model, render_model_shapes
    from convapps.nd.model_shapes import model_layer_shapes

    net = build_named_model(model, parsed, filters=filters, kernel=kernel, pool=pool, classes=classes)
    rows = model_layer_shapes(net, parsed)
    if as_json:
        click.echo(json.dumps({"model": model, "input": str(parsed), "layers": [vars(r) for r in rows]}, indent=2))
    else:
        click.echo(render_model_shapes(model, parsed, rows))


def _register_training_commands() -> None:
    from convapps.cli.nd_train import predict, train_ecg, train_volume

    nd.add_command(train_ecg)
    nd.add_command(train_volume)
    nd.add_command(predict)


_register_training_commands()
