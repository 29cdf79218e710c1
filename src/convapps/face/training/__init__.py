"""Data side of learning the similarity function: LFW protocol files, identity splits, the P x K batch
sampler, cached chips/encodings and the verification evaluation report (issue #5).

The trainers that run the fit loop live in :mod:`convapps.training.similarity` (``training/`` sits above
``face/`` in the layer order)."""
