"""One error hierarchy for the whole library.

Every error the library raises on purpose derives from :class:`ConvappsError`. Messages are one line
and say what to do. The CLI maps ``exit_code`` to the process exit status in one place
(``convapps.cli.main``); the web layer maps ``http_status`` in one place.
"""

from __future__ import annotations


class ConvappsError(Exception):
    """Base of all convapps errors; ``str(err)`` is a one-line, user-facing message."""

    exit_code: int = 1
    http_status: int = 400


class InvalidInputError(ConvappsError):
    """Input the caller gave is malformed (a bad shape spec, an unknown option value)."""

    exit_code = 2
    http_status = 422


class ShapeError(InvalidInputError):
    """A layer cannot be applied to an input of that shape (kernel larger than padded input...)."""


class ImageError(ConvappsError):
    """An image could not be read safely. The message names the file."""

    http_status = 415


class NotAnImageError(ImageError):
    """The bytes are not an image of a supported format."""


class TruncatedImageError(ImageError):
    """The image file ends before its pixel data does."""


class ImageTooLargeError(ImageError):
    """The image has more pixels than the configured limit (a possible decompression bomb)."""

    http_status = 413


class ModelNotAvailableError(ConvappsError):
    """Pretrained weights are not installed. The message names the package to install."""

    http_status = 503


class NotFoundError(ConvappsError):
    """A named thing (identity, layer, file) does not exist."""

    http_status = 404


class ConflictError(ConvappsError):
    """The operation conflicts with what is stored (a duplicate name...)."""

    http_status = 409
