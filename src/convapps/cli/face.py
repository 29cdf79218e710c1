"""``convapps face``: face verification (1:1) and one-shot recognition (1:K).

Subcommands live in their own modules and are imported only when used; add one by adding a line to
``FACE_COMMANDS``.
"""

from __future__ import annotations

import click

from convapps.cli.lazy import LazyGroup

FACE_COMMANDS: dict[str, str] = {
    "detect": "convapps.cli.face_verify:detect",
    "verify": "convapps.cli.face_verify:verify",
    "encode": "convapps.cli.face_encode:encode",
    "evaluate": "convapps.cli.face_evaluate:evaluate",
    "evaluate-lfw": "convapps.cli.face_evaluate:evaluate_lfw",
    "train": "convapps.cli.face_train:train",
    "train-siamese": "convapps.cli.face_train:train_siamese",
    "enroll": "convapps.cli.face_gallery:enroll",
    "enroll-dir": "convapps.cli.face_gallery:enroll_dir",
    "identify": "convapps.cli.face_gallery:identify",
    "identify-video": "convapps.cli.face_video:identify_video",
    "verify-id": "convapps.cli.face_gallery:verify_id",
    "list": "convapps.cli.face_gallery:list_people",
    "remove": "convapps.cli.face_gallery:remove",
    "rename": "convapps.cli.face_gallery:rename",
    "export": "convapps.cli.face_gallery:export",
    "import": "convapps.cli.face_gallery:import_",
    "index": "convapps.cli.face_archive:index",
    "cluster": "convapps.cli.face_archive:cluster",
    "people": "convapps.cli.face_archive:people",
    "name": "convapps.cli.face_archive:name",
    "find": "convapps.cli.face_archive:find",
    "merge": "convapps.cli.face_archive:merge",
    "split": "convapps.cli.face_archive:split",
    "sheet": "convapps.cli.face_archive:sheet",
}


@click.group(cls=LazyGroup, lazy_subcommands=FACE_COMMANDS)
def face() -> None:
    """Face verification and one-shot face recognition with 128-d encodings.

    Verification: is this photo the claimed person? d(img1, img2) = ||f(img1) - f(img2)||^2 <= tau.
    Recognition: which of the K enrolled people is this, or "not recognized"?
    Archive: index every face of a photo folder, group unknown people, name them, find them everywhere.
    """
