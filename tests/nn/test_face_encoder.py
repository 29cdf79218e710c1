"""Trainable face encoders and the Siamese head: shapes, normalisation, initial behaviour, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from convapps.errors import CheckpointError, InvalidInputError, NotFoundError
from convapps.face.encoders import FaceEncoder, load_encoder
from convapps.face.trained_encoder import (
    load_siamese_head,
    load_trained_encoder,
    save_siamese_head,
    save_trained_encoder,
)
from convapps.nn.face_encoder import CNNSpec, CompactFaceCNN, ProjectionHead, augment_batch, chips_to_tensor
from convapps.nn.siamese_head import SiameseHead


def test_chips_to_tensor_range_and_size() -> None:
    chips = torch.full((2, 150, 150, 3), 255, dtype=torch.uint8)
    chips[1] = 0
    x = chips_to_tensor(chips, size=64)
    assert x.shape == (2, 3, 64, 64)
    assert torch.allclose(x[0], torch.ones_like(x[0])) and torch.allclose(x[1], -torch.ones_like(x[1]))
    with pytest.raises(InvalidInputError, match="chips"):
        chips_to_tensor(torch.zeros(2, 150, 150), size=64)


def test_cnn_outputs_unit_norm_128d() -> None:
    torch.manual_seed(0)
    model = CompactFaceCNN().eval()
    out = model(torch.randn(3, 3, 64, 64))
    assert out.shape == (3, 128)
    assert torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)
    assert CompactFaceCNN(CNNSpec(input_size=32, widths=(8, 8, 8, 8)))(torch.randn(2, 3, 32, 32)).shape == (2, 128)
    with pytest.raises(InvalidInputError, match="multiple of 16"):
        CompactFaceCNN(CNNSpec(input_size=40))


def test_projection_head_starts_as_normalised_identity() -> None:
    e = torch.randn(5, 128)
    out = ProjectionHead()(e)
    assert torch.allclose(out, torch.nn.functional.normalize(e, dim=1), atol=1e-6)
    with pytest.raises(InvalidInputError, match="128"):
        ProjectionHead()(torch.randn(5, 64))


def test_augment_keeps_shape_and_flips() -> None:
    x = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).view(2, 3, 16, 16)
    out = augment_batch(x, shift=0, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    for i in range(2):
        assert torch.equal(out[i], x[i]) or torch.equal(out[i], x[i].flip(2))
    assert augment_batch(x, shift=3).shape == x.shape


def test_siamese_head_initially_prefers_close_pairs() -> None:
    head = SiameseHead(4, kind="abs")
    a = torch.zeros(2, 4)
    b = torch.tensor([[0.01, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    logits = head(a, b)
    assert logits.shape == (2,) and logits[0] > 0 > logits[1]  # 1 - 0.01 > 0; 1 - 4 < 0


def test_trained_cnn_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = CompactFaceCNN(CNNSpec(input_size=32, widths=(8, 8, 16, 16))).eval()
    path = tmp_path / "model.pt"
    model_id = save_trained_encoder(path, model, default_tau=0.8, tau_source="test", meta={"note": "x"})
    encoder = load_encoder(path)
    assert isinstance(encoder, FaceEncoder)
    assert encoder.space.model_id == model_id and encoder.space.dim == 128 and encoder.default_tau == 0.8
    chips = np.random.default_rng(0).integers(0, 256, (3, 150, 150, 3), dtype=np.uint8)
    enc = encoder.encode_chips(chips)
    x = chips_to_tensor(torch.from_numpy(chips), size=32)
    with torch.no_grad():
        expected = torch.nn.functional.normalize(model(x) + model(x.flip(3)), dim=1).numpy()
    assert enc.dtype == np.float32 and np.allclose(enc, expected, atol=1e-5)
    torch.nn.init.zeros_(model.embed.bias)
    assert save_trained_encoder(tmp_path / "other.pt", model, default_tau=0.8, tau_source="t") != model_id


def test_bad_model_files(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_trained_encoder(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="truncated"):
        load_trained_encoder(tmp_path / "junk.pt")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a convapps face model"):
        load_trained_encoder(tmp_path / "other.pt")


def test_siamese_head_file_round_trip(tmp_path: Path) -> None:
    head = SiameseHead(128, kind="chi2")
    torch.nn.init.normal_(head.weight)
    save_siamese_head(tmp_path / "head.pt", head, tau=-0.5)
    loaded, tau = load_siamese_head(tmp_path / "head.pt")
    assert tau == -0.5 and loaded.kind == "chi2" and torch.equal(loaded.weight, head.weight)
