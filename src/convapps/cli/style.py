"""``convapps style``: neural style transfer."""

from __future__ import annotations

import click


@click.group()
def style() -> None:
    """Neural style transfer: generate an image G with the content of C and the style of S.

    Minimises J(G) = alpha J_content(C, G) + beta J_style(S, G) over the pixels of G, with a
    pretrained VGG16 whose weights stay fixed.
    """
