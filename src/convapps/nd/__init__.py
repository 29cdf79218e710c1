"""ConvNets over 1D signals (ECG beats, records) and 3D volumes (CT scans): load data, train, predict.

    from convapps import nd

    data = nd.ecg_from_ucr("ECG200_TRAIN.txt", "ECG200_TEST.txt")       # (N, 1, T), z-scored
    config = nd.ConvNetConfig(ndim=1, num_classes=len(data.classes))
    run = nd.train_and_report(data, task="ecg", model_config=config,
                              fit_config=nd.FitConfig(epochs=50, patience=10), out_dir="out/ecg200")
    run.outcome.test.accuracy                                            # also out/ecg200/report.json
    nd.predict_file("out/ecg200/model.pt", "ECG200_TEST.txt").summary()

The front door (each name keeps its own docstring):

- data: :func:`ecg_from_ucr` (UCR files), :func:`ecg_from_record` (beats of an annotated WFDB record),
  :func:`volume_from_npz` (MedMNIST 3D archives); all give a :class:`ClassifierData`, which also wraps
  your own ``(N, C, *spatial)`` arrays.
- training: :class:`ConvNetConfig` (the 1D/3D net), :class:`FitConfig` (the fit loop's settings),
  :func:`train_classifier` (in memory) and :func:`train_and_report` (also writes ``model.pt``,
  ``report.json`` and confusion-matrix PNGs).
- prediction: :func:`load_bundle` (a saved ``model.pt``) and :func:`predict_file` (classify a UCR
  file, a record, a volume or an archive split); :func:`explain_file` (saliency PNGs next to the model).
- anchors: :func:`anchor_scores` (MiniRocket, 1-NN DTW, 1-NN Euclidean from aeon: class scores on test
  signals, for the same reports as the nets); ``ConvNetConfig(arch="inception")`` builds InceptionTime.

Importing this package is cheap: every name is imported (with torch) on first use. Deeper modules
(``nd.beats``, ``nd.datasets``, ``nd.model_shapes``, ``nd.training.ensemble``...) are for maintainers
and benchmarks.
"""

from convapps.lazy_exports import lazy_exports

_EXPORTS = {
    "ClassifierData": "convapps.nd.datasets",
    "ConvNetConfig": "convapps.nn.convnet",
    "explain_file": "convapps.nd.explain",
    "FitConfig": "convapps.training.config",
    "ecg_from_record": "convapps.nd.ecg",
    "ecg_from_ucr": "convapps.nd.ecg",
    "anchor_scores": "convapps.nd.anchors",
    "load_bundle": "convapps.nd.bundle",
    "predict_file": "convapps.nd.predict",
    "train_and_report": "convapps.nd.training.runs",
    "train_classifier": "convapps.nd.training.classifier",
    "volume_from_npz": "convapps.nd.volume",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
