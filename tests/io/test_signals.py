"""Signal readers on real files: MIT-BIH 100 and PTB s0010_re (WFDB), pydicom's shipped 12-lead ECG,
UCR ECG200/ECG5000; truncated and malformed copies must raise one DataFileError."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from convapps.errors import DataFileError
from convapps.io.signals import read_dicom_ecg, read_signal, read_ucr, read_wfdb

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def wfdb_dir(shared_data: Path) -> Path:
    return shared_data / "nd" / "ecg" / "wfdb_python_sample_data"


@pytest.fixture(scope="module")
def dicom_ecg() -> Path:
    import pydicom

    # ships inside the pydicom wheel (listed in its RECORD); no data-manager download involved
    path = Path(pydicom.__file__).parent / "data" / "test_files" / "waveform_ecg.dcm"
    assert path.is_file()
    return path


def test_mitbih_100_signal_and_beat_annotations(wfdb_dir: Path) -> None:
    record = read_wfdb(wfdb_dir / "100")
    assert record.signal.shape == (650000, 2)
    assert record.fs == 360.0
    assert record.channels == ("MLII", "V5")
    assert record.units == ("mV", "mV")
    assert round(record.duration_s) == 1806
    ann = record.annotations
    assert ann is not None
    symbols, counts = np.unique(np.asarray(ann.symbol), return_counts=True)
    assert dict(zip(symbols.tolist(), counts.tolist(), strict=True)) == {"+": 1, "A": 33, "N": 2239, "V": 1}
    assert np.all(np.diff(ann.sample) > 0)
    # the first normal beat (sample 77) is an R peak: the MLII value there is a local maximum
    peak = int(ann.sample[1])
    assert record.signal[peak, 0] == record.signal[peak - 10 : peak + 10, 0].max()
    assert record.as_tensor().shape == (2, 650000)


def test_ptb_record_has_15_leads_and_diagnosis(wfdb_dir: Path) -> None:
    record = read_wfdb(wfdb_dir / "s0010_re.hea")
    assert record.signal.shape == (38400, 15)
    assert record.fs == 1000.0
    assert record.channels[:3] == ("i", "ii", "iii") and record.channels[-1] == "vz"
    assert record.annotations is None
    assert any("Myocardial infarction" in c for c in record.comments)


def test_truncated_wfdb_signal_is_one_clear_error(wfdb_dir: Path, tmp_path: Path) -> None:
    shutil.copy(wfdb_dir / "100.hea", tmp_path / "100.hea")
    (tmp_path / "100.dat").write_bytes((wfdb_dir / "100.dat").read_bytes()[:100_000])
    with pytest.raises(DataFileError, match="truncated"):
        read_wfdb(tmp_path / "100")


def test_truncated_annotation_file_is_an_error(wfdb_dir: Path, tmp_path: Path) -> None:
    for suffix in (".hea", ".dat"):
        shutil.copy(wfdb_dir / f"100{suffix}", tmp_path / f"100{suffix}")
    (tmp_path / "100.atr").write_bytes((wfdb_dir / "100.atr").read_bytes()[:3001])
    with pytest.raises(DataFileError, match=r"100\.atr is truncated"):
        read_wfdb(tmp_path / "100")


def test_missing_and_malformed_headers(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="not found"):
        read_wfdb(tmp_path / "nothing")
    (tmp_path / "bad.hea").write_text("this is not a header\n")
    with pytest.raises(DataFileError, match="malformed"):
        read_wfdb(tmp_path / "bad")


def test_dicom_12_lead_ecg(dicom_ecg: Path) -> None:
    record = read_dicom_ecg(dicom_ecg)
    assert record.signal.shape == (10000, 12)
    assert record.fs == 1000.0
    assert record.channels[1] == "Lead II" and record.channels[-1] == "Lead V6"
    assert record.units[0] == "uV"
    assert record.comments == ("RHYTHM",)
    # Einthoven: lead III = lead II - lead I (up to the 2-byte quantisation of the file)
    i, ii, iii = record.signal[:, 0], record.signal[:, 1], record.signal[:, 2]
    assert np.abs(iii - (ii - i)).max() < 30.0
    median = read_dicom_ecg(dicom_ecg, group=1)
    assert median.signal.shape == (1200, 12) and median.comments == ("MEDIAN BEAT",)


def test_bad_dicom_files(dicom_ecg: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(dicom_ecg.read_bytes()[:200_000])
    with pytest.raises(DataFileError, match=r"cut\.dcm"):
        read_dicom_ecg(cut)
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a dicom file at all" * 10)
    with pytest.raises(DataFileError, match=r"junk\.dcm"):
        read_dicom_ecg(junk)
    with pytest.raises(DataFileError, match="no waveform multiplex group 5"):
        read_dicom_ecg(dicom_ecg, group=5)


def test_ucr_ecg200_and_ecg5000(shared_data: Path) -> None:
    folder = shared_data / "nd" / "ecg"
    train = read_ucr(folder / "ucr_ecg200" / "ECG200_TRAIN.txt")
    assert train.x.shape == (100, 96) and train.classes == ("-1", "1")
    assert np.bincount(train.y).tolist() == [31, 69]
    test = read_ucr(folder / "ucr_ecg200" / "ECG200_TEST.txt", classes=train.classes)
    assert np.bincount(test.y).tolist() == [36, 64]
    five = read_signal(folder / "ucr_ecg5000" / "ECG5000_TRAIN.txt")
    assert five.x.shape == (500, 140)  # type: ignore[union-attr]
    assert np.bincount(five.y).tolist() == [292, 177, 10, 19, 2]  # type: ignore[union-attr]


def test_truncated_ucr_file(shared_data: Path, tmp_path: Path) -> None:
    text = (shared_data / "nd" / "ecg" / "ucr_ecg200" / "ECG200_TRAIN.txt").read_text()
    cut = tmp_path / "cut.txt"
    cut.write_text(text[: len(text) // 2 + 100])  # rows are fixed-width: cut inside row 51
    with pytest.raises(DataFileError, match="rows of different lengths"):
        read_ucr(cut)
    (tmp_path / "words.txt").write_text("1 2 3\nfoo bar baz\n")
    with pytest.raises(DataFileError, match="line 2 is not numeric"):
        read_ucr(tmp_path / "words.txt")
    with pytest.raises(DataFileError, match="unknown signal format"):
        read_signal(tmp_path / "scan.png")
