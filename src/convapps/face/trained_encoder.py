"""Face encoders trained by ``convapps face train``, saved to one file and loaded as a
:class:`~convapps.face.encoder_role.FaceEncoder` (``convapps.face.encoders.load_encoder(path)`` dispatches
here), so that ``verify``, ``identify`` and the gallery accept them through ``--model PATH``.

File format: a tagged torch file (:mod:`convapps.io.tagged_files`, read with ``weights_only=True``, no
pickled code)::

    {"format": "convapps-face-encoder-v1", "kind": "cnn" | "projection", "model_id": str,
     "spec": {...architecture...}, "default_tau": float, "tau_source": str, "flip_tta": bool,
     "state_dict": {...}, "meta": {...training settings and figures...}}

``"cnn"``: :class:`~convapps.nn.face_encoder.CompactFaceCNN` on the aligned chips (downsampled by
``chips_to_tensor``), with optional test-time flip averaging ``normalise(f(x) + f(flip(x)))``.
``"projection"``: dlib's pretrained ResNet encodings followed by a trained
:class:`~convapps.nn.face_encoder.ProjectionHead`. Encodings are L2-normalised, compared with the
squared L2 distance, and live in their own embedding space (``model_id`` includes a digest of the
weights), so a gallery never mixes them with another model's encodings.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import NDArray

from convapps.embedding_space import EmbeddingSpace
from convapps.errors import CheckpointError, NotFoundError
from convapps.face.encoder_role import FaceEncoder, check_chips
from convapps.io.tagged_files import load_tagged, save_tagged
from convapps.nn.face_encoder import CHIP_SIZE, CNNSpec, CompactFaceCNN, ProjectionHead, chips_to_tensor

MODEL_FORMAT = "convapps-face-encoder-v1"
EncoderKind = Literal["cnn", "projection"]


def weights_digest(state_dict: dict[str, torch.Tensor]) -> str:
    """First 12 hex digits of the SHA-256 of the weights (names and bytes), identifying a trained model."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        digest.update(name.encode())
        digest.update(state_dict[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def build_module(kind: EncoderKind, spec: dict[str, Any]) -> torch.nn.Module:
    """An untrained module of ``kind`` with the architecture ``spec`` (as stored in a model file)."""
    if kind == "cnn":
        return CompactFaceCNN(CNNSpec(**{**spec, "widths": tuple(spec["widths"])}))
    if kind == "projection":
        return ProjectionHead(dim=int(spec["dim"]), hidden=int(spec["hidden"]))
    raise CheckpointError(f"unknown trained encoder kind {kind!r} (expected 'cnn' or 'projection')")


def module_spec(module: torch.nn.Module) -> dict[str, Any]:
    """The architecture dictionary of a :class:`CompactFaceCNN` or :class:`ProjectionHead`."""
    if isinstance(module, CompactFaceCNN):
        return module.spec.to_dict()
    if isinstance(module, ProjectionHead):
        return {"dim": module.dim, "hidden": module.hidden}
    raise CheckpointError(f"cannot save a {type(module).__name__} as a face encoder")


def save_trained_encoder(
    path: Path,
    module: torch.nn.Module,
    *,
    default_tau: float,
    tau_source: str,
    flip_tta: bool = True,
    meta: dict[str, Any] | None = None,
) -> str:
    """Write ``module`` (a trained CNN or projection head) to ``path`` atomically; returns its model id."""
    kind: EncoderKind = "cnn" if isinstance(module, CompactFaceCNN) else "projection"
    state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
    model_id = f"convapps_triplet_{kind}_{weights_digest(state)}"
    save_tagged(
        path,
        MODEL_FORMAT,
        {
            "kind": kind,
            "model_id": model_id,
            "spec": module_spec(module),
            "default_tau": float(default_tau),
            "tau_source": tau_source,
            "flip_tta": bool(flip_tta and kind == "cnn"),
            "state_dict": state,
            "meta": meta or {},
        },
    )
    return model_id


class TrainedFaceEncoder:
    """A :class:`FaceEncoder` over a trained module; ``encode_chips`` takes ``(N, 150, 150, 3)`` uint8 chips."""

    def __init__(
        self,
        module: torch.nn.Module,
        *,
        kind: EncoderKind,
        model_id: str,
        default_tau: float,
        flip_tta: bool = False,
        base: FaceEncoder | None = None,
        batch_size: int = 256,
    ) -> None:
        self.module = module.eval()
        self.kind = kind
        self.default_tau = float(default_tau)
        self.flip_tta = flip_tta
        self.batch_size = batch_size
        self._base = base
        if isinstance(module, CompactFaceCNN):
            dim = module.spec.embedding_dim
        elif isinstance(module, ProjectionHead):
            dim = module.dim
        else:
            raise CheckpointError(f"cannot use a {type(module).__name__} as a face encoder")
        self.space = EmbeddingSpace(model_id=model_id, dim=int(dim), metric="squared_l2")

    def _encode_cnn(self, batch: NDArray[np.uint8]) -> torch.Tensor:
        assert isinstance(self.module, CompactFaceCNN)
        x = chips_to_tensor(torch.from_numpy(batch), size=self.module.spec.input_size)
        f = self.module(x)
        if self.flip_tta:
            f = torch.nn.functional.normalize(f + self.module(x.flip(3)), dim=1)
        return f

    def encode_chips(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Encode aligned chips ``(N, 150, 150, 3)`` uint8 -> ``(N, dim)`` float32, unit norm."""
        batch = check_chips(chips, CHIP_SIZE)
        out: list[torch.Tensor] = []
        with torch.no_grad():
            for start in range(0, len(batch), self.batch_size):
                part = batch[start : start + self.batch_size]
                if self.kind == "cnn":
                    out.append(self._encode_cnn(part))
                else:
                    out.append(self.module(torch.from_numpy(self._base_encodings(part))))
        if not out:
            return np.zeros((0, self.space.dim), dtype=np.float32)
        return torch.cat(out).numpy().astype(np.float32)

    def _base_encodings(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        """dlib ResNet encodings of chips, the input of a projection model (or the injected ``base``'s)."""
        if self._base is not None:
            return self._base.encode_chips(chips)
        from convapps.models.dlib_resnet_torch import load_torch_resnet

        net: Any = load_torch_resnet()
        with torch.inference_mode():
            parts = [net(torch.from_numpy(chips[i : i + 32])) for i in range(0, len(chips), 32)]
        return torch.cat(parts).numpy().astype(np.float32)

    def encode_pretrained(self, encodings: NDArray[np.float32]) -> NDArray[np.float32]:
        """Projection models only: map cached pretrained encodings ``(N, 128)`` without re-encoding chips."""
        if self.kind != "projection":
            raise CheckpointError("encode_pretrained needs a projection model (this one encodes chips)")
        with torch.no_grad():
            return self.module(torch.as_tensor(encodings, dtype=torch.float32)).numpy()


def read_model_file(path: Path) -> dict[str, Any]:
    """The dictionary of a model file written by :func:`save_trained_encoder` (validated).

    Raises:
        NotFoundError: the file does not exist.
        CheckpointError: it is truncated, not a torch file, or not a face model.
    """
    return load_tagged(path, MODEL_FORMAT, what="a convapps face model (trained encoder)", missing=NotFoundError)


def load_trained_encoder(path: Path) -> TrainedFaceEncoder:
    """Load a model written by ``convapps face train`` as a :class:`FaceEncoder`."""
    state = read_model_file(Path(path))
    module = build_module(state["kind"], state["spec"])
    try:
        module.load_state_dict(state["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"weights in {path} do not fit a {state['kind']} encoder: {str(err)[:120]}") from None
    return TrainedFaceEncoder(
        module,
        kind=state["kind"],
        model_id=state["model_id"],
        default_tau=state["default_tau"],
        flip_tta=bool(state.get("flip_tta", False)),
    )


SIAMESE_FORMAT = "convapps-siamese-head-v1"


def save_siamese_head(path: Path, head: torch.nn.Module, *, tau: float, meta: dict[str, Any] | None = None) -> None:
    """Write a trained :class:`~convapps.nn.siamese_head.SiameseHead` (on dlib encodings); ``tau`` is the
    threshold on ``-logit`` (same person when ``-logit <= tau``)."""
    from convapps.nn.siamese_head import SiameseHead

    if not isinstance(head, SiameseHead):
        raise CheckpointError(f"cannot save a {type(head).__name__} as a Siamese head")
    state = {k: v.detach().cpu().clone() for k, v in head.state_dict().items()}
    payload = {"kind": head.kind, "dim": head.dim, "base_model": "dlib", "tau": float(tau)}
    save_tagged(path, SIAMESE_FORMAT, {**payload, "state_dict": state, "meta": meta or {}})


def load_siamese_head(path: Path) -> tuple[torch.nn.Module, float]:
    """``(head, tau)`` of a file written by :func:`save_siamese_head`."""
    from convapps.nn.siamese_head import SiameseHead

    state = load_tagged(path, SIAMESE_FORMAT, what="a convapps Siamese head", missing=NotFoundError)
    head = SiameseHead(int(state["dim"]), kind=state["kind"])
    try:
        head.load_state_dict(state["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"weights in {path} do not fit a Siamese head: {str(err)[:120]}") from None
    return head.eval(), float(state["tau"])
