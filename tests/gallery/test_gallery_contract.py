"""One contract for every gallery backend (SQLite and Milvus Lite): the same tests run on both."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from convapps.errors import ConflictError, EmbeddingSpaceMismatchError, InvalidInputError, NotFoundError
from convapps.gallery import EmbeddingSpace, Gallery

from .conftest import OTHER_SPACE, SPACE, unit

MakeGallery = Callable[..., Gallery]


def test_enroll_then_list_get_and_encodings(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    alice_enc, bob_enc = unit(rng, 2), unit(rng, 1)
    alice = gallery.enroll("alice", alice_enc, metadata={"team": "red", "badge": 7})
    bob = gallery.enroll("bob", bob_enc[0])  # a single (D,) encoding is accepted
    assert (alice.name, alice.n_encodings, dict(alice.metadata)) == ("alice", 2, {"team": "red", "badge": 7})
    assert bob.n_encodings == 1 and bob.id != alice.id
    assert len(gallery) == 2
    assert [p.name for p in gallery.identities()] == ["alice", "bob"]
    assert gallery.get("alice") == alice
    np.testing.assert_allclose(gallery.encodings_of("alice"), alice_enc, atol=1e-6)
    assert gallery.space == SPACE


def test_search_returns_nearest_identity_with_squared_l2(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    enc = unit(rng, 5)
    for i, e in enumerate(enc):
        gallery.enroll(f"p{i}", e)
    probe = enc[3] + 0.05 * unit(rng, 1)[0]
    [[best, second]] = gallery.search(probe, k=2)
    expected = ((enc - probe) ** 2).sum(axis=1)
    order = np.argsort(expected)
    assert best.identity.name == f"p{order[0]}" == "p3"
    assert second.identity.name == f"p{order[1]}"
    assert best.distance == pytest.approx(expected[order[0]], abs=1e-5)
    assert second.distance == pytest.approx(expected[order[1]], abs=1e-5)
    batch = gallery.search(enc, k=1)  # (B, D) probes: each finds itself at distance 0
    assert [m[0].identity.name for m in batch] == [f"p{i}" for i in range(5)]
    assert max(m[0].distance for m in batch) < 1e-5


def test_several_encodings_per_person_decision_uses_the_nearest(
    make_gallery: MakeGallery, rng: np.random.Generator
) -> None:
    gallery = make_gallery()
    a, b = unit(rng, 3), unit(rng, 1)
    gallery.enroll("alice", a[0])
    gallery.enroll("bob", b)
    probe = a[2] + 0.01
    assert gallery.search(probe)[0][0].distance == pytest.approx(float(((a[0] - probe) ** 2).sum()), abs=1e-5)
    updated = gallery.add_encodings("alice", a[1:])
    assert updated.n_encodings == 3 and updated.id == gallery.get("alice").id
    [[best]] = gallery.search(probe)
    assert best.identity.name == "alice"
    assert best.distance == pytest.approx(float(((a[2] - probe) ** 2).sum()), abs=1e-5)


def test_remove_then_search_no_longer_finds_the_person(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    enc = unit(rng, 2)
    gallery.enroll("alice", enc[0])
    gallery.enroll("bob", enc[1])
    removed = gallery.remove("alice")
    assert removed.name == "alice"
    assert [p.name for p in gallery.identities()] == ["bob"]
    assert [m.identity.name for m in gallery.search(enc[0], k=5)[0]] == ["bob"]
    with pytest.raises(NotFoundError):
        gallery.get("alice")


def test_rename_keeps_the_id(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    enc = unit(rng, 2)
    alice = gallery.enroll("alice", enc[0])
    gallery.enroll("bob", enc[1])
    renamed = gallery.rename("alice", "alice smith")
    assert renamed.id == alice.id and renamed.name == "alice smith"
    assert gallery.search(enc[0])[0][0].identity == renamed
    with pytest.raises(ConflictError, match="bob"):
        gallery.rename("alice smith", "bob")
    with pytest.raises(NotFoundError):
        gallery.rename("alice", "carol")


def test_errors_leave_the_gallery_unchanged(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    gallery.enroll("alice", unit(rng, 1))
    before = gallery.identities()
    with pytest.raises(ConflictError, match="already enrolled"):
        gallery.enroll("alice", unit(rng, 1))
    with pytest.raises(ConflictError):  # a batch is all or nothing
        gallery.enroll_many([("carol", unit(rng, 1), None), ("alice", unit(rng, 1), None)])
    with pytest.raises(NotFoundError, match="did you mean 'alice'"):
        gallery.remove("alicee")
    with pytest.raises(InvalidInputError):
        gallery.enroll("dave", np.ones((1, SPACE.dim + 1), np.float32))  # wrong dimension
    with pytest.raises(InvalidInputError):
        gallery.enroll("dave", np.full((1, SPACE.dim), np.nan, np.float32))
    with pytest.raises(InvalidInputError):
        gallery.enroll("  ", unit(rng, 1))
    assert gallery.identities() == before


def test_names_with_quotes_and_unicode(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    names = ['O"Brien', "d'Artagnan", "back\\slash", "Zoë Ångström"]
    for name in names:
        gallery.enroll(name, unit(rng, 1))
    assert sorted(p.name for p in gallery.identities()) == sorted(names)
    assert gallery.get('O"Brien').name == 'O"Brien'
    gallery.remove("back\\slash")
    assert len(gallery) == 3


def test_reopen_keeps_identities_and_refuses_another_model(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery("persist")
    enc = unit(rng, 1)
    alice = gallery.enroll("alice", enc)
    gallery.close()
    reopened = make_gallery("persist")
    assert reopened.get("alice") == alice
    np.testing.assert_allclose(reopened.encodings_of("alice"), enc, atol=1e-6)
    reopened.close()
    with pytest.raises(EmbeddingSpaceMismatchError, match="another-encoder"):
        make_gallery("persist", space=OTHER_SPACE)
    unbound = make_gallery("persist", space=None)  # list/remove need no encoder
    assert unbound.space == SPACE and [p.name for p in unbound.identities()] == ["alice"]


def test_empty_gallery(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    assert len(gallery) == 0 and gallery.identities() == []
    assert gallery.search(unit(rng, 3), k=2) == [[], [], []]
    with pytest.raises(InvalidInputError, match="empty"):
        make_gallery("other", space=None).search(unit(rng, 1))


def test_ann_mode_agrees_with_exact_search(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    enc = unit(rng, 600)
    exact = make_gallery("ann")
    exact.enroll_many([(f"p{i}", e, None) for i, e in enumerate(enc)])
    exact.close()
    ann = make_gallery("ann", mode="ann")
    probes = enc[:50] + 0.03 * unit(rng, 50)
    found = [m[0].identity.name for m in ann.search(probes)]
    recall = np.mean([name == f"p{i}" for i, name in enumerate(found)])
    assert recall >= 0.98
    ann.remove("p0")
    assert ann.search(enc[0])[0][0].identity.name != "p0"
    ann.enroll("new", enc[0])
    assert ann.search(enc[0])[0][0].identity.name == "new"


def test_export_yields_every_person_with_encodings(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    enc = {"a": unit(rng, 2), "b": unit(rng, 1)}
    for name, e in enc.items():
        gallery.enroll(name, e)
    exported = {person.name: vectors for person, vectors in gallery.export()}
    assert exported.keys() == enc.keys()
    for name, e in enc.items():
        np.testing.assert_allclose(exported[name], e, atol=1e-6)


def test_space_is_recorded_on_first_enroll(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery(space=EmbeddingSpace("m", 4))
    assert gallery.space == EmbeddingSpace("m", 4)
    gallery.enroll("x", unit(rng, 1, 4))
    gallery.close()
    assert make_gallery(space=None).space == EmbeddingSpace("m", 4)


def test_encodings_by_id_follow_every_change(make_gallery: MakeGallery, rng: np.random.Generator) -> None:
    gallery = make_gallery()
    a, b, c = unit(rng, 2), unit(rng, 1), unit(rng, 3)
    alice, bob = gallery.enroll("alice", a), gallery.enroll("bob", b)
    gallery.search(a[0])  # the exact search's in-memory matrix is now loaded
    both = gallery.encodings_by_id([alice, bob])
    np.testing.assert_allclose(both[alice.id], a, atol=1e-6)
    np.testing.assert_allclose(both[bob.id], b, atol=1e-6)
    alice = gallery.add_encodings("alice", c[:1])
    carol = gallery.enroll("carol", c[1:])
    after = gallery.encodings_by_id([alice, carol])
    np.testing.assert_allclose(after[alice.id], np.concatenate([a, c[:1]]), atol=1e-6)
    np.testing.assert_allclose(after[carol.id], c[1:], atol=1e-6)
    assert gallery.encodings_by_id([]) == {}
