"""``convapps face``: face verification (1:1) and one-shot recognition (1:K).

Subcommands live in their own modules and are imported only when used; add one by adding a line to
``FACE_COMMANDS``.
"""

from __future__ import annotations

import click

from convapps.cli.lazy import LazyGroup

FACE_COMMANDS: dict[str, str] = {}


@click.group(cls=LazyGroup, lazy_subcommands=FACE_COMMANDS)
def face() -> None:
    """Face verification and one-shot face recognition with 128-d encodings.

    Verification: is this photo the claimed person? d(img1, img2) = ||f(img1) - f(img2)||^2 <= tau.
    Recognition: which of the K enrolled people is this, or "not recognized"?
    """
