"""The P x K batch sampler: every batch holds P identities with K images each.

Online triplet mining needs positives *inside* the batch: with P x K batches every anchor has K - 1
positives and (P - 1) K negatives. Identities with fewer than K images are sampled with replacement
(their duplicate images are still different augmentations during training).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from convapps.errors import InvalidInputError


class PKSampler:
    """Yields index arrays ``(P * K,)`` into a dataset with integer identity ``labels`` ``(N,)``.

    One epoch visits every identity having at least two images once (in a random order, in groups of P),
    unless ``steps_per_epoch`` fixes the number of batches. The randomness is drawn from torch's global
    generator at the start of each epoch, so a run resumed by the fit loop (which restores torch's RNG
    state) sees the same batches as an uninterrupted one.
    """

    def __init__(self, labels: Sequence[int] | np.ndarray, *, p: int, k: int, steps_per_epoch: int | None = None):
        if p < 2 or k < 2:
            raise InvalidInputError(f"P x K batches need P >= 2 identities and K >= 2 images each, got P={p}, K={k}")
        self.labels = np.asarray(labels, dtype=np.int64)
        self.p, self.k, self.steps_per_epoch = p, k, steps_per_epoch
        by_id: dict[int, list[int]] = {}
        for index, label in enumerate(self.labels.tolist()):
            by_id.setdefault(label, []).append(index)
        self.groups = [np.asarray(v) for _, v in sorted(by_id.items()) if len(v) >= 2]
        if len(self.groups) < p:
            raise InvalidInputError(f"only {len(self.groups)} identities have >= 2 images; P={p} needs at least {p}")

    def __len__(self) -> int:
        return self.steps_per_epoch or len(self.groups) // self.p

    def __iter__(self) -> Iterator[np.ndarray]:
        seed = int(torch.randint(0, 2**62, (1,)).item())
        rng = np.random.default_rng(seed)
        order: list[int] = []
        for _ in range(len(self)):
            if len(order) < self.p:
                order = rng.permutation(len(self.groups)).tolist()
            chosen, order = order[: self.p], order[self.p :]
            batch = []
            for g in chosen:
                members = self.groups[g]
                batch.append(rng.choice(members, size=self.k, replace=len(members) < self.k))
            yield np.concatenate(batch)
