"""Training a face encoder on LFW View 1 end to end (``convapps face train`` and the benchmarks): the
training people's chips (or cached dlib encodings) as tensors, the triplet fit, the threshold chosen on
``pairsDevTrain.txt``, the figures on ``pairsDevTest.txt`` and the saved model file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from convapps.face.chip_cache import ChipCache
from convapps.face.encoder_role import FaceEncoder
from convapps.face.evaluation import LfwReport, evaluate_view1
from convapps.face.lfw import FaceImage, FacePair, read_pairs
from convapps.face.metrics import VerificationReport, best_threshold
from convapps.face.pipeline import FaceConfig
from convapps.face.scoring import CachedImages, PairScorer
from convapps.face.trained_encoder import TrainedFaceEncoder, save_trained_encoder
from convapps.face.training.datasets import IdentitySet, identity_set, view1_identities
from convapps.face.training.triplet import TripletTrainConfig, active_history, train_triplet_encoder
from convapps.nn.face_encoder import CNNSpec, CompactFaceCNN, ProjectionHead, chips_to_tensor
from convapps.training.loop import FitResult

Arch = Literal["cnn", "projection"]
MODEL_FILE = "model.pt"


def cnn_inputs(images: list[FaceImage], cache: ChipCache, *, size: int, chunk: int = 512) -> torch.Tensor:
    """Network inputs ``(N, 3, size, size)`` of cached chips (chunked to bound memory)."""
    parts = [
        chips_to_tensor(torch.from_numpy(cache.chips(images[i : i + chunk])), size=size)
        for i in range(0, len(images), chunk)
    ]
    return torch.cat(parts) if parts else torch.zeros(0, 3, size, size)


def set_tensors(
    data: IdentitySet, cache: ChipCache, *, arch: Arch, size: int, progress: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, labels)`` of an identity set: chips for the CNN, cached dlib encodings for the projection head."""
    if arch == "cnn":
        cache.ensure_chips(data.images, progress=progress)
        x = cnn_inputs(data.images, cache, size=size)
    else:
        cache.ensure_encodings(data.images, progress=progress)
        x = torch.from_numpy(cache.encodings(data.images))
    return x, torch.from_numpy(data.labels)


def view1_pairs(root: Path) -> tuple[list[FacePair], list[FacePair]]:
    """The pairs of ``pairsDevTrain.txt`` (threshold) and ``pairsDevTest.txt`` (report)."""
    return read_pairs(root / "pairsDevTrain.txt"), read_pairs(root / "pairsDevTest.txt")


def evaluate_encoder(encoder: FaceEncoder, root: Path, cache: ChipCache, *, progress: bool) -> LfwReport:
    """LFW View 1 figures of ``encoder`` on cached chips, without test-time mirror averaging (a CNN with its
    own flip averaging keeps it): tau chosen on pairsDevTrain, figures on pairsDevTest."""
    scorer = PairScorer(CachedImages(cache, encoder, FaceConfig(flip=False), progress=progress))
    return evaluate_view1(scorer, *view1_pairs(root))


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
    cache_folder: Path,
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
    identities, in name order) to keep each epoch's evaluation cheap. Chips (and dlib encodings) are cached
    in ``cache_folder`` (a :class:`ChipCache` of ``root``).
    """
    cache = ChipCache.for_lfw(root, cache_folder)
    train_set, val_set = view1_identities(root, seed=cfg.seed, max_people=max_people)
    if val_max_images is not None and len(val_set.images) > val_max_images:
        keep = val_set.labels[val_max_images - 1]
        val_set = identity_set([im for im, lab in zip(val_set.images, val_set.labels, strict=True) if lab <= keep])
    train = set_tensors(train_set, cache, arch=arch, size=input_size, progress=cfg.progress)
    val = set_tensors(val_set, cache, arch=arch, size=input_size, progress=cfg.progress)
    torch.manual_seed(cfg.seed)
    module = new_module(arch, input_size=input_size)
    fit = train_triplet_encoder(module, train, val, cfg, checkpoint_dir=out / "checkpoints", resume=resume)
    encoder = as_encoder(module)
    report = None
    if evaluate:
        report = evaluate_encoder(encoder, root, cache, progress=cfg.progress).figures
        tau, source = report.tau, "best accuracy on LFW pairsDevTrain.txt"
    else:
        emb = (
            encoder.encode_chips(cache.chips(val_set.images))
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
