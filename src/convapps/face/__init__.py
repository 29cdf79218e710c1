"""Face verification and recognition: detect, align (5 points), encode (128-d), compare.

The front door (:mod:`convapps.face.api`):

    from convapps import face
    face.verify("me.jpg", "passport.jpg")                    # 1:1: d = ||f(a) - f(b)||^2 <= tau
    face.enroll("Ada Lovelace", "ada.jpg", gallery="team.db")  # one-shot: one photo is enough
    face.identify("group.jpg", gallery="team.db")            # 1:K: a name or "not recognized" per face
    face.detect("group.jpg"), face.encode("group.jpg")       # boxes + landmarks, (N, 128) encodings
    face.identify_video("door.mp4", gallery="team.db", out="named.mp4")   # detect, track, one name per track

Deeper modules (``pipeline``, ``recognition``, ``verification``, ``lfw``, ``training``) are for
maintainers and advanced use. Models load on first use, never at import.
"""

from convapps.face.api import detect, encode, enroll, identify, identify_video, recognise_stream, verify, verify_id
from convapps.face.enrollment import Enrollment, EnrollmentChecks
from convapps.face.pipeline import FaceConfig, FacePipeline
from convapps.face.recognition import NOT_RECOGNIZED, IdentityVerification, Recognition
from convapps.face.verification import VerificationResult

__all__ = [
    "NOT_RECOGNIZED",
    "Enrollment",
    "EnrollmentChecks",
    "FaceConfig",
    "FacePipeline",
    "IdentityVerification",
    "Recognition",
    "VerificationResult",
    "detect",
    "encode",
    "enroll",
    "identify",
    "identify_video",
    "recognise_stream",
    "verify",
    "verify_id",
]
