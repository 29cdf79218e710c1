"""``convapps viz``: what deep ConvNets are learning."""

from __future__ import annotations

import click


@click.group()
def viz() -> None:
    """What are deep ConvNets learning? The image patches that most activate a unit, layers 1 to 5."""
