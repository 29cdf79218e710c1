"""``convapps tour``: the main job of ``make run`` on embedded defaults."""

from __future__ import annotations

import click

from convapps.cli.nd import render_stack
from convapps.core.shapes import ConvLayer, TensorShape, layer_stack

LECTURE_STACKS: tuple[tuple[str, str, tuple[ConvLayer, ...]], ...] = (
    (
        "1D: an EKG signal, 16 then 32 filters of size 5",
        "14x1",
        (ConvLayer(filters=16, kernel=5), ConvLayer(filters=32, kernel=5)),
    ),
    (
        "3D: a CT volume, 16 then 32 filters 5x5x5",
        "14x14x14x1",
        (ConvLayer(filters=16, kernel=5), ConvLayer(filters=32, kernel=5)),
    ),
    ("3D: 32 filters 3x3x3, stride 1, no padding", "32x32x32x16", (ConvLayer(filters=32, kernel=3),)),
    ("3D: 16 filters 4x4x4, stride 2, no padding", "64x64x64x3", (ConvLayer(filters=16, kernel=4, stride=2),)),
)


def shape_tour() -> None:
    """Print the conv arithmetic of the lecture's 1D and 3D examples."""
    click.secho("== Conv arithmetic: output = floor((n + 2p - f) / s) + 1, channels = filters ==", bold=True)
    for title, text, layers in LECTURE_STACKS:
        shape = TensorShape.parse(text)
        click.echo(f"\n-- {title}")
        click.echo(render_stack(shape, layer_stack(shape, layers)))


@click.command()
def tour() -> None:
    """A short guided run of convapps on built-in examples (what `make run` does)."""
    shape_tour()
