"""Face verification and recognition: detect, align (5 points), encode (128-d), compare.

Entry points: :func:`convapps.face.verification.verify`, :class:`convapps.face.pipeline.FacePipeline`,
:func:`convapps.face.encoders.load_encoder`. Nothing heavy is imported here; models load on first use.
"""
