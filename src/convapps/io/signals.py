"""1D signals in: WFDB records (MIT-BIH, PTB) with their beat annotations, DICOM ECG waveforms and
UCR text time series. Every reader returns channels-last NumPy arrays ``(T, C)`` (samples x leads) in
physical units; :meth:`SignalRecord.as_tensor` gives the channels-first ``(C, T)`` a ``Conv1d`` reads.
Bad or truncated files raise one :class:`~convapps.errors.DataFileError` naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convapps.errors import DataFileError

_WFDB_BYTES_PER_SAMPLE = {
    8: 1.0,
    16: 2.0,
    24: 3.0,
    32: 4.0,
    61: 2.0,
    80: 1.0,
    160: 2.0,
    212: 1.5,
    310: 4 / 3,
    311: 4 / 3,
}


@dataclass(frozen=True)
class Annotations:
    """Annotated events of a record: sample index and symbol (MIT-BIH beat codes: N, A, V, ...)."""

    sample: np.ndarray
    """``(K,)`` int64 sample indices, increasing."""
    symbol: tuple[str, ...]


@dataclass(frozen=True)
class SignalRecord:
    """A multi-lead signal ``(T, C)`` float32 sampled at ``fs`` Hz, with optional annotations."""

    signal: np.ndarray
    fs: float
    channels: tuple[str, ...]
    units: tuple[str, ...]
    source: str
    comments: tuple[str, ...] = ()
    annotations: Annotations | None = None

    @property
    def n_samples(self) -> int:
        """T, the number of samples per lead."""
        return int(self.signal.shape[0])

    @property
    def duration_s(self) -> float:
        """Length in seconds, ``T / fs``."""
        return self.n_samples / self.fs

    def as_tensor(self) -> np.ndarray:
        """The signal channels-first ``(C, T)`` float32, as ``torch.nn.Conv1d`` expects (no batch axis)."""
        return np.ascontiguousarray(self.signal.T, dtype=np.float32)


def _record_base(path: str | Path) -> Path:
    base = Path(path)
    if base.suffix.lower() in (".hea", ".dat", ".atr", ".mat", ".xyz"):
        base = base.with_suffix("")
    if not base.with_suffix(".hea").is_file():
        raise DataFileError(f"WFDB header {base.with_suffix('.hea')} not found (give the record path, e.g. data/100)")
    return base


def _check_dat_sizes(base: Path, header: object) -> None:
    """Compare each signal file's size with what the header promises (catches truncated downloads)."""
    fmts = header.fmt  # type: ignore[attr-defined]
    files = header.file_name  # type: ignore[attr-defined]
    length = header.sig_len  # type: ignore[attr-defined]
    offsets = getattr(header, "byte_offset", None) or [0] * len(files)
    for file_name in dict.fromkeys(files):
        idx = [i for i, f in enumerate(files) if f == file_name]
        per_sample = [_WFDB_BYTES_PER_SAMPLE.get(int(fmts[i])) for i in idx]
        data_path = base.parent / file_name
        if not data_path.is_file():
            raise DataFileError(f"WFDB signal file {data_path} named in {base}.hea is missing")
        if any(p is None for p in per_sample) or length is None or file_name.endswith(".mat"):
            continue
        expected = math.ceil(length * sum(p for p in per_sample if p)) + int(offsets[idx[0]] or 0)
        actual = data_path.stat().st_size
        if actual < expected:
            raise DataFileError(f"WFDB signal file {data_path} is truncated: {actual} bytes, header needs {expected}")


def read_wfdb(path: str | Path, *, annotation: str | None = "atr") -> SignalRecord:
    """Read a WFDB record (``100`` = ``100.hea`` + ``100.dat`` [+ ``100.atr``]) with the ``wfdb`` package.

    ``annotation`` is the annotation file extension to read when present (``None``: skip). An
    annotation file must end with the WFDB end-of-file marker, so a truncated one is an error.
    """
    import wfdb

    base = _record_base(path)
    try:
        header = wfdb.rdheader(str(base))
        _check_dat_sizes(base, header)
        record = wfdb.rdrecord(str(base))
    except DataFileError:
        raise
    except Exception as err:  # wfdb raises ValueError, HeaderSyntaxError, IndexError... on bad files
        raise DataFileError(f"WFDB record {base} is malformed or truncated: {_one_line(err)}") from None
    signal = record.p_signal
    if signal is None or signal.shape[0] != record.sig_len:
        raise DataFileError(f"WFDB record {base} has no physical signal of the length its header states")
    annotations = None
    ann_path = base.with_suffix(f".{annotation}") if annotation else None
    if ann_path is not None and ann_path.is_file():
        annotations = _read_annotations(base, annotation or "atr", record.sig_len)
    return SignalRecord(
        signal=np.asarray(signal, dtype=np.float32),
        fs=float(record.fs),
        channels=tuple(record.sig_name),
        units=tuple(record.units),
        source=str(base),
        comments=tuple(record.comments or ()),
        annotations=annotations,
    )


def _read_annotations(base: Path, extension: str, sig_len: int) -> Annotations:
    import wfdb

    ann_path = base.with_suffix(f".{extension}")
    if not ann_path.read_bytes().endswith(b"\x00\x00"):
        raise DataFileError(f"annotation file {ann_path} is truncated (no WFDB end-of-file marker)")
    try:
        ann = wfdb.rdann(str(base), extension)
    except Exception as err:
        raise DataFileError(f"annotation file {ann_path} is malformed: {_one_line(err)}") from None
    sample = np.asarray(ann.sample, dtype=np.int64)
    if len(sample) and (sample.min() < 0 or sample.max() >= sig_len):
        raise DataFileError(f"annotation file {ann_path} points outside the record's {sig_len} samples")
    return Annotations(sample=sample, symbol=tuple(ann.symbol))


def read_dicom_ecg(path: str | Path, *, group: int = 0) -> SignalRecord:
    """Read multiplex group ``group`` of a DICOM waveform (12-lead ECG...) with ``pydicom``.

    Values are in the units of each channel's sensitivity (µV for pydicom's ``waveform_ecg.dcm``).
    """
    import pydicom

    file = Path(path)
    try:
        ds = pydicom.dcmread(file)
        groups = ds.WaveformSequence
        item = groups[group]
        data = ds.waveform_array(group)
        channels = tuple(str(c.ChannelSourceSequence[0].CodeMeaning) for c in item.ChannelDefinitionSequence)
        units = tuple(_dicom_units(c) for c in item.ChannelDefinitionSequence)
        fs = float(item.SamplingFrequency)
    except FileNotFoundError:
        raise DataFileError(f"DICOM file {file} not found") from None
    except AttributeError:
        raise DataFileError(f"DICOM file {file} has no waveform (WaveformSequence missing)") from None
    except IndexError:
        raise DataFileError(f"DICOM file {file} has no waveform multiplex group {group}") from None
    except Exception as err:  # InvalidDicomError, ValueError on short waveform data, ...
        raise DataFileError(f"DICOM file {file} is not a readable waveform: {_one_line(err)}") from None
    if data.shape != (int(item.NumberOfWaveformSamples), int(item.NumberOfWaveformChannels)):
        raise DataFileError(f"DICOM file {file}: waveform data does not match its declared samples x channels")
    label = str(item.get("MultiplexGroupLabel", ""))
    return SignalRecord(
        signal=np.asarray(data, dtype=np.float32),
        fs=fs,
        channels=channels,
        units=units,
        source=str(file),
        comments=(label,) if label else (),
    )


def _dicom_units(channel: object) -> str:
    seq = getattr(channel, "ChannelSensitivityUnitsSequence", None)
    return str(seq[0].CodeValue) if seq else ""


@dataclass(frozen=True)
class UCRDataset:
    """A UCR time-series file: ``x`` ``(N, T)`` float32 series, ``y`` ``(N,)`` int64 class indices."""

    x: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    """Original label of each class index (UCR labels are numbers like ``-1``/``1`` or ``1``..``5``)."""
    source: str


def read_ucr(path: str | Path, *, classes: tuple[str, ...] | None = None) -> UCRDataset:
    """Read a UCR archive text file: one series per row, the class label first, whitespace or commas.

    ``classes`` fixes the label order (pass the training file's ``classes`` when reading its test file);
    by default labels are sorted numerically.
    """
    file = Path(path)
    try:
        lines = [ln for ln in file.read_text().splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as err:
        raise DataFileError(f"cannot read UCR file {file}: {_one_line(err)}") from None
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=1):
        try:
            rows.append([float(v) for v in line.replace(",", " ").split()])
        except ValueError:
            raise DataFileError(f"UCR file {file} line {number} is not numeric") from None
    if not rows:
        raise DataFileError(f"UCR file {file} is empty")
    lengths = {len(r) for r in rows}
    if len(lengths) != 1 or min(lengths) < 3:
        raise DataFileError(f"UCR file {file} has rows of different lengths {sorted(lengths)[:4]} (truncated?)")
    table = np.asarray(rows, dtype=np.float64)
    labels = [_label_text(v) for v in table[:, 0]]
    order = classes or tuple(sorted(set(labels), key=float))
    unknown = sorted(set(labels) - set(order))
    if unknown:
        raise DataFileError(f"UCR file {file} has labels {unknown} not among the classes {list(order)}")
    index = {c: i for i, c in enumerate(order)}
    y = np.asarray([index[label] for label in labels], dtype=np.int64)
    return UCRDataset(x=table[:, 1:].astype(np.float32), y=y, classes=tuple(order), source=str(file))


def _label_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def read_signal(path: str | Path) -> SignalRecord | UCRDataset:
    """Dispatch on the file: ``.dcm`` -> DICOM, WFDB record (``.hea``/``.dat`` or a path without
    suffix whose ``.hea`` exists) -> WFDB, ``.txt``/``.tsv``/``.csv`` -> UCR."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix == ".dcm":
        return read_dicom_ecg(file)
    if suffix in (".txt", ".tsv", ".csv"):
        return read_ucr(file)
    if suffix in (".hea", ".dat") or file.with_suffix(".hea").is_file() or Path(f"{file}.hea").is_file():
        return read_wfdb(file if suffix else Path(f"{file}.hea"))
    raise DataFileError(f"unknown signal format {file}: expected a WFDB record, a .dcm ECG or a UCR .txt file")


def _one_line(err: BaseException) -> str:
    """A library's (possibly multi-line) exception text as one line."""
    return " ".join(str(err).split()) or type(err).__name__
