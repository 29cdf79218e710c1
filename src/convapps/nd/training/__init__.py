"""Training of the ``nd`` classifiers on the generic fit loop (:mod:`convapps.training`).

- :mod:`~convapps.nd.training.classifier`: ``train_classifier``, one ConvNet fitted on a
  :class:`~convapps.nd.datasets.ClassifierData` (weighted cross-entropy, augmentation, early stopping).
- :mod:`~convapps.nd.training.runs`: ``train_and_report`` (also writes ``model.pt``, ``report.json``,
  confusion PNGs, checkpoints) and ``cross_validate``.
- :mod:`~convapps.nd.training.ensemble`: ``train_fold_ensemble``, k fold models with averaged outputs.
- :mod:`~convapps.nd.training.anchor_runs`: the anchors (MiniRocket, 1-NN) on the same splits and reports.
- :mod:`~convapps.nd.training.hybrid`: a net (or fold ensemble) and MiniRocket, probabilities averaged.
- :mod:`~convapps.nd.training.report`: ``report.json``, confusion-matrix PNGs, one-line summaries.
"""
