"""End-to-end runs of issue #5 used by ``convapps face train`` and the benchmarks: LFW View 1 data as
tensors, training, the threshold chosen on ``pairsDevTrain.txt`` and the report on ``pairsDevTest.txt``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray

from convapps.face.trained_encoder import TrainedFaceEncoder, save_trained_encoder
from convapps.face.training.cache import ensure_chips, ensure_encodings, load_chips, load_encodings
from convapps.face.training.datasets import (
    IdentitySet,
    PairIndex,
    identity_set,
    pair_distances,
    pair_index,
    view1_identities,
)
from convapps.face.training.evaluation import VerificationReport, best_threshold, verification_report
from convapps.face.training.lfw import FaceImage, read_pairs
from convapps.nn.face_encoder import CNNSpec, CompactFaceCNN, ProjectionHead, chips_to_tensor
from convapps.training.loop import FitResult
from convapps.training.similarity import TripletTrainConfig, active_history, train_triplet_encoder

Arch = Literal["cnn", "projection"]
MODEL_FILE = "model.pt"


def cnn_inputs(images: list[FaceImage], cache: Path, *, size: int, chunk: int = 512) -> torch.Tensor:
    """Network inputs ``(N, 3, size, size)`` of cached chips (chunked to bound memory)."""
    parts = [
        chips_to_tensor(torch.from_numpy(load_chips(images[i : i + chunk], cache)), size=size)
        for i in range(0, len(images), chunk)
    ]
    return torch.cat(parts) if parts else torch.zeros(0, 3, size, size)


def set_tensors(
    root: Path, data: IdentitySet, cache: Path, *, arch: Arch, size: int, progress: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, labels)`` of an identity set: chips for the CNN, cached dlib encodings for the projection head."""
    if arch == "cnn":
        ensure_chips(root, data.images, cache, progress=progress)
        x = cnn_inputs(data.images, cache, size=size)
    else:
        ensure_encodings(root, data.images, cache, progress=progress)
        x = torch.from_numpy(load_encodings(data.images, cache))
    return x, torch.from_numpy(data.labels)


def encode_with(
    encoder: TrainedFaceEncoder, root: Path, images: list[FaceImage], cache: Path, *, progress: bool
) -> NDArray[np.float32]:
    """Encodings of ``images`` through ``encoder`` exactly as at inference (cached chips or dlib encodings)."""
    if encoder.kind == "projection":
        ensure_encodings(root, images, cache, progress=progress)
        return encoder.encode_pretrained(load_encodings(images, cache))
    ensure_chips(root, images, cache, progress=progress)
    return (
        np.concatenate(
            [encoder.encode_chips(load_chips(images[i : i + 512], cache)) for i in range(0, len(images), 512)]
        )
        if images
        else np.zeros((0, encoder.space.dim), dtype=np.float32)
    )


def view1_pairs(root: Path) -> tuple[PairIndex, PairIndex]:
    """``pairsDevTrain.txt`` (threshold) and ``pairsDevTest.txt`` (report) as pair indices."""
    return pair_index(read_pairs(root / "pairsDevTrain.txt")), pair_index(read_pairs(root / "pairsDevTest.txt"))


def evaluate_view1(
    encoder: TrainedFaceEncoder, root: Path, cache: Path, *, progress: bool
) -> tuple[float, VerificationReport, NDArray[np.float64], NDArray[np.bool_]]:
    """tau chosen on pairsDevTrain, figures on pairsDevTest; returns ``(tau, report, test distances, same)``."""
    dev_train, dev_test = view1_pairs(root)
    d_train = pair_distances(encode_with(encoder, root, dev_train.images, cache, progress=progress), dev_train)
    tau = best_threshold(d_train, dev_train.same)
    d_test = pair_distances(encode_with(encoder, root, dev_test.images, cache, progress=progress), dev_test)
    return tau, verification_report(d_test, dev_test.same, tau=tau), d_test, dev_test.same


def new_module(arch: Arch, *, input_size: int = 64) -> torch.nn.Module:
    """An untrained encoder of ``arch`` (the seed must be set before for reproducible weights)."""
    return CompactFaceCNN(CNNSpec(input_size=input_size)) if arch == "cnn" else ProjectionHead()


def as_encoder(module: torch.nn.Module, *, tau: float = 1.0) -> TrainedFaceEncoder:
    """Wrap a (trained or untrained) module as an encoder for evaluation (flip averaging for the CNN)."""
    kind: Arch = "cnn" if isinstance(module, CompactFaceCNN) else "projection"
    return TrainedFaceEncoder(module, kind=kind, model_id=f"unsaved_{kind}", default_tau=tau, flip_tta=kind == "cnn")


@dataclass(frozen=True)
class TrainOutcome:
    """What :func:`train_face_model` produced."""

    model_path: Path
    model_id: str
    tau: float
    tau_source: str
    fit: FitResult
    dev_test: VerificationReport | None
    active: list[list[float]]


def train_face_model(
    root: Path,
    cache: Path,
    out: Path,
    cfg: TripletTrainConfig,
    *,
    arch: Arch = "cnn",
    input_size: int = 64,
    max_people: int | None = None,
    resume: bool = False,
    evaluate: bool = True,
    val_max_images: int | None = 300,
) -> TrainOutcome:
    """Train an encoder on LFW View 1 training people and save ``out/model.pt`` (checkpoints in ``out/``).

    With ``evaluate``, tau is chosen on pairsDevTrain and the DevTest figures are computed; otherwise tau is
    the best-accuracy threshold over all pairs of the validation identities. The validation AUC (early
    stopping, ``best.pt``) uses at most ``val_max_images`` images of the validation identities (whole
    identities, in name order) to keep each epoch's evaluation cheap.
    """
    train_set, val_set = view1_identities(root, seed=cfg.seed, max_people=max_people)
    if val_max_images is not None and len(val_set.images) > val_max_images:
        keep = val_set.labels[val_max_images - 1]
        val_set = identity_set([im for im, lab in zip(val_set.images, val_set.labels, strict=True) if lab <= keep])
    train = set_tensors(root, train_set, cache, arch=arch, size=input_size, progress=cfg.progress)
    val = set_tensors(root, val_set, cache, arch=arch, size=input_size, progress=cfg.progress)
    torch.manual_seed(cfg.seed)
    module = new_module(arch, input_size=input_size)
    fit = train_triplet_encoder(module, train, val, cfg, checkpoint_dir=out / "checkpoints", resume=resume)
    encoder = as_encoder(module)
    report = None
    if evaluate:
        tau, report, _, _ = evaluate_view1(encoder, root, cache, progress=cfg.progress)
        source = "best accuracy on LFW pairsDevTrain.txt"
    else:
        emb = (
            encoder.encode_chips(load_chips(val_set.images, cache))
            if arch == "cnn"
            else encoder.encode_pretrained(val[0].numpy())
        )
        i, j = np.triu_indices(len(val_set.labels), k=1)
        d = ((emb[i] - emb[j]) ** 2).sum(axis=1)
        tau = best_threshold(d, val_set.labels[i] == val_set.labels[j])
        source = "best accuracy on all pairs of the validation identities"
    active = active_history(fit).tolist()
    meta = {
        "config": asdict(cfg),
        "arch": arch,
        "train_identities": len(train_set.names),
        "train_images": len(train_set.images),
        "best_epoch": fit.best_epoch,
        "epochs_run": len(fit.history),
        "seconds": fit.seconds,
        "dev_test_accuracy": None if report is None else report.accuracy,
    }
    model_id = save_trained_encoder(out / MODEL_FILE, module, default_tau=tau, tau_source=source, meta=meta)
    (out / "train.json").write_text(
        json.dumps(
            {
                **meta,
                "model_id": model_id,
                "tau": tau,
                "active": active,
                "dev_test": None if report is None else report.to_dict(),
            },
            indent=2,
        )
    )
    return TrainOutcome(out / MODEL_FILE, model_id, tau, source, fit, report, active)
