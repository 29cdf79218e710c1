"""Beat segmentation of MIT-BIH record 100 into a labelled N vs A dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convapps.errors import InvalidInputError
from convapps.io.signals import read_dicom_ecg, read_wfdb
from convapps.nd.beats import segment_beats


@pytest.fixture(scope="module")
def record_100(shared_data: Path):  # type: ignore[no-untyped-def]
    return read_wfdb(shared_data / "nd" / "ecg" / "wfdb_python_sample_data" / "100")


@pytest.mark.shared_data
def test_record_100_yields_labelled_n_vs_a_beats(record_100) -> None:  # type: ignore[no-untyped-def]
    beats = segment_beats(record_100)
    assert beats.classes == ("N", "A")
    # 2239 N and 33 A annotated; only beats whose 0.7 s window fits inside the record are kept: the
    # first N (sample 77 < 126) and the last one (too close to the end) are dropped
    assert np.bincount(beats.y).tolist() == [2237, 33]
    assert beats.sample[0] == 370
    assert beats.x.shape == (len(beats), 2, 252)  # (N, leads, 2 * round(0.35 * 360))
    assert beats.x.dtype == np.float32
    # windows are centred on the R peak: sample 126 of the window is the annotated sample itself
    k = 10
    np.testing.assert_array_equal(beats.x[k, :, 126], record_100.signal[beats.sample[k]])
    # and for most normal beats the MLII maximum lies within 20 ms of the centre
    normal = beats.x[beats.y == 0, 0]
    near = np.abs(normal.argmax(axis=1) - 126) <= 7
    assert near.mean() > 0.9


@pytest.mark.shared_data
def test_lead_choice_and_custom_labels(record_100) -> None:  # type: ignore[no-untyped-def]
    beats = segment_beats(record_100, labels={"N": 0, "A": 1, "V": 1}, half_width_s=0.25, leads=(1,))
    assert beats.x.shape[1:] == (1, 180) and beats.classes == ("N", "A+V")
    assert np.bincount(beats.y)[1] == 34


def test_record_without_annotations_is_an_error() -> None:
    import pydicom

    ecg = read_dicom_ecg(Path(pydicom.__file__).parent / "data" / "test_files" / "waveform_ecg.dcm")
    with pytest.raises(InvalidInputError, match="no beat annotations"):
        segment_beats(ecg)
