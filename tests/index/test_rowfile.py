"""RowFile: rows of a .npy file read on demand, equal to the array, and a damaged file refused."""

from __future__ import annotations

import numpy as np
import pytest

from index.rowfile import RowFile


@pytest.mark.parametrize("array", [np.arange(60, dtype=np.float16).reshape(12, 5), np.arange(7, dtype=np.float32),
                                   np.zeros((0, 3), dtype=np.int8)])
def test_rows_equal_the_array(tmp_path, array):
    np.save(tmp_path / "a.npy", array)
    rows = RowFile(tmp_path / "a.npy")
    assert len(rows) == len(array) and rows.shape == array.shape and rows.dtype == array.dtype
    assert rows.nbytes == array.nbytes
    np.testing.assert_array_equal(np.asarray(rows), array)
    np.testing.assert_array_equal(rows[2:100], array[2:100])
    np.testing.assert_array_equal(rows[::3], array[::3])
    if len(array):
        np.testing.assert_array_equal(rows[-1], array[-1])
        np.testing.assert_array_equal(rows[1], array[1])
    with pytest.raises(IndexError):
        rows[len(array)]


def test_a_truncated_file_is_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((10, 4), dtype=np.float32))
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(data[:-5])
    with pytest.raises(ValueError, match="bytes"):
        RowFile(tmp_path / "a.npy")
