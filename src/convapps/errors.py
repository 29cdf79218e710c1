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


class DataFileError(ConvappsError):
    """A signal or volume file could not be read (unknown format, bad header, truncated data).

    The message names the file and what is wrong with it.
    """

    http_status = 415


class CheckpointError(ConvappsError):
    """A training checkpoint or saved model is missing, truncated or from another model."""


class EngineError(ConvappsError):
    """The batch engine could not start (the embedded Ray did not come up)."""

    http_status = 503


class GalleryError(ConvappsError):
    """An identity gallery could not be opened or used. The message names the gallery."""

    http_status = 503


class GalleryLockedError(GalleryError):
    """Another process holds the gallery's write lock longer than the lock timeout."""


class GalleryUnreadableError(GalleryError):
    """The gallery file is not readable, not a database, or not a convapps gallery."""


class GalleryUnavailableError(GalleryError):
    """A gallery server (Milvus) is not reachable."""


class AlreadyEnrolledError(ConflictError):
    """Names of a bulk enroll or import are already in the gallery (skip them to resume)."""


class EmbeddingSpaceMismatchError(ConflictError):
    """Encodings of one model were offered to a gallery that stores another model's encodings."""


class NoFaceError(ConvappsError):
    """No face was found in an image (or the requested face index does not exist). The message names it."""

    exit_code = 3
    http_status = 422


class SeveralFacesError(InvalidInputError):
    """A photo to enroll shows several faces and none was chosen. The message says how many."""


class FaceQualityError(InvalidInputError):
    """A face is too small or too blurry to be encoded reliably. The message says why."""


class IdentityLeakError(InvalidInputError):
    """A test identity appears in the training data (splits must be by identity, never by image)."""


class NotAVideoError(InvalidInputError):
    """A file is not a video with a decodable video stream (an image, audio only, garbage). It names the file."""

    http_status = 415
