from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from fitscope import DataError
from fitscope.data._readers import read_csv, read_idx, read_npz


def test_npz_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.arange(6).reshape(3, 2), y=np.array([0, 1, 0]))
    arrays = read_npz(path)
    assert arrays["x"].tolist() == [[0, 1], [2, 3], [4, 5]]


def test_npz_with_object_arrays_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DataError, match=r"obj\.npz: holds object \(pickled\) arrays"):
        read_npz(path)


def test_truncated_npz(tmp_path: Path) -> None:
    path = tmp_path / "cut.npz"
    np.savez(path, x=np.zeros((100, 100)))
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match=r"cut\.npz: is truncated or corrupt"):
        read_npz(path)


def test_lfs_pointer(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 11490434\n")
    with pytest.raises(DataError, match=r"is a Git LFS pointer file.*git lfs pull"):
        read_npz(path)


def test_pickle_renamed_npz_is_never_loaded(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"x": [1, 2, 3]}))
    with pytest.raises(DataError, match=r"is a Python pickle.*never loads pickles"):
        read_npz(path)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "text.npz"
    path.write_text("hello")
    with pytest.raises(DataError, match=r"is not an \.npz archive"):
        read_npz(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_npz(tmp_path / "nope.npz")


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize("compressed", [True, False])
def test_idx_round_trip(tmp_path: Path, compressed: bool) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a-idx3-ubyte.gz" if compressed else "a-idx3-ubyte")
    data = _idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compressed else data)
    assert np.array_equal(read_idx(path), array)


def test_idx_truncated(tmp_path: Path) -> None:
    path = tmp_path / "t-idx1-ubyte"
    path.write_bytes(_idx_bytes(np.arange(10, dtype=np.uint8))[:-3])
    with pytest.raises(DataError, match="IDX data is truncated: expected 10 bytes"):
        read_idx(path)


def test_csv_with_header_bom(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("\ufeffa,b,label\n1,2,0\n3,4,1\n", encoding="utf-8")
    x, y, columns = read_csv(path)
    assert x.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1] and columns == ["a", "b"]


def test_csv_cp949_korean_header(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("키,몸무게,정답\n1.5,2,고양이\n3,4,강아지\n".encode("cp949"))
    _, y, columns = read_csv(path, label="정답")
    assert columns == ["키", "몸무게"] and y.tolist() == ["고양이", "강아지"]


def test_csv_without_header_label_position(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("1,2,0\n3,4,1\n")
    x, y, _ = read_csv(path, label=-1)
    assert x.shape == (2, 2) and y.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,label\n1,2,0\n3,4\n", r"row 3: has 2 cells, expected 3"),
        ("a,b,label\n1,x,0\n", r"row 2, column 'b': 'x' is not a number"),
        ("a,b,c\n1,2,0\n", r"label column 'label' is not in the header"),
        ("", r"has no rows"),
        ("a,b,label\n", r"has a header but zero data rows"),
    ],
)
def test_csv_bad_input(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_csv(path)
