"""Beat segmentation of long ECG records: fixed windows centred on the annotated R peaks.

A record ``(T, C)`` with beat annotations (sample index + symbol, e.g. MIT-BIH ``N`` normal, ``A``
atrial premature) becomes a beat dataset ``(N, C, W)`` channels-first, ``W = 2 * half_width``: beat k
is ``signal[r_k - half_width : r_k + half_width]``. Beats whose window leaves the record, and symbols
not in ``labels``, are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convapps.errors import InvalidInputError
from convapps.io.signals import SignalRecord

MITBIH_N_VS_A = {"N": 0, "A": 1}
"""Normal beats vs atrial premature beats, the two beat types of MIT-BIH record 100 worth learning."""


@dataclass(frozen=True)
class BeatSet:
    """Labelled beats: ``x`` ``(N, C, W)`` float32, ``y`` ``(N,)`` int64, R-peak ``sample`` ``(N,)``."""

    x: np.ndarray
    y: np.ndarray
    sample: np.ndarray
    classes: tuple[str, ...]
    fs: float

    def __len__(self) -> int:
        return int(self.x.shape[0])


def segment_beats(
    record: SignalRecord,
    *,
    labels: dict[str, int] | None = None,
    half_width_s: float = 0.35,
    leads: tuple[int, ...] | None = None,
) -> BeatSet:
    """Cut a window of ``2 * round(half_width_s * fs)`` samples around every annotated beat.

    ``labels`` maps annotation symbols to class indices (default: N -> 0, A -> 1); ``leads`` picks
    channels (default: all). Raises :class:`InvalidInputError` when the record has no annotations or
    no beat of the requested symbols.
    """
    mapping = MITBIH_N_VS_A if labels is None else labels
    if record.annotations is None:
        raise InvalidInputError(f"record {record.source} has no beat annotations (an .atr file next to it)")
    half = round(half_width_s * record.fs)
    if half < 1:
        raise InvalidInputError(f"half_width_s={half_width_s} is shorter than one sample at {record.fs} Hz")
    signal = record.signal if leads is None else record.signal[:, list(leads)]
    peaks, classes = [], []
    for sample, symbol in zip(record.annotations.sample, record.annotations.symbol, strict=True):
        if symbol in mapping and half <= sample <= record.n_samples - half:
            peaks.append(int(sample))
            classes.append(mapping[symbol])
    if not peaks:
        raise InvalidInputError(f"record {record.source} has no beats of the symbols {sorted(mapping)}")
    starts = np.asarray(peaks, dtype=np.int64) - half
    index = starts[:, None] + np.arange(2 * half)[None, :]
    windows = signal[index]  # (N, W, C)
    names = [""] * (max(mapping.values()) + 1)
    for symbol, cls in mapping.items():
        names[cls] = symbol if not names[cls] else f"{names[cls]}+{symbol}"
    return BeatSet(
        x=np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32),
        y=np.asarray(classes, dtype=np.int64),
        sample=np.asarray(peaks, dtype=np.int64),
        classes=tuple(names),
        fs=record.fs,
    )
