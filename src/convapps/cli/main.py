"""Entry point of the ``convapps`` console script; maps library errors to exit codes in one place."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from convapps import __version__
from convapps.cli.lazy import LazyGroup
from convapps.errors import (
    AlreadyEnrolledError,
    ConvappsError,
    EmbeddingSpaceMismatchError,
    NoFaceError,
    SeveralFacesError,
)

# Hints that name CLI options: the library's messages never mention flags, the CLI adds them here.
HINTS: dict[type[ConvappsError], str] = {
    NoFaceError: "rotated or small faces: try --detector cnn or --upsample 2",
    AlreadyEnrolledError: "--skip-existing enrolls only the others",
    SeveralFacesError: "--face N chooses one",
    EmbeddingSpaceMismatchError: "pass --gallery with another gallery for this model",
}


def _hint(err: ConvappsError) -> str:
    for kind, hint in HINTS.items():
        if isinstance(err, kind):
            return f" ({hint})"
    return ""


GROUPS = {
    "face": "convapps.cli.face:face",
    "style": "convapps.cli.style:style",
    "viz": "convapps.cli.viz:viz",
    "nd": "convapps.cli.nd:nd",
    "tour": "convapps.cli.tour:tour",
    "serve": "convapps.cli.serve:serve",
}


@click.group(
    cls=LazyGroup,
    lazy_subcommands=GROUPS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="convapps")
def cli() -> None:
    """Special applications of ConvNets, from the lecture to working tools.

    \b
      face   verify two photos, recognise people from a one-photo-per-person gallery
      style  neural style transfer: paint a photo in the style of a painting
      viz    what ConvNet units respond to: top-9 image patches per unit
      nd     ConvNets over 1D signals (ECG) and 3D volumes (CT); conv shape calculator
      tour   a short guided run on built-in examples
      serve  the web service and browser UI (HTTP API with keys, jobs, audit log)

    Every command has --help. Models are pretrained and ship inside installed packages;
    nothing is downloaded.
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failure, 2 bad usage or input)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="convapps", standalone_mode=False)
    except ConvappsError as err:
        click.echo(f"convapps: error: {err}{_hint(err)}", err=True)
        return err.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("convapps: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("convapps: interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
