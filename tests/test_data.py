"""Loading MNIST: a good file loads, every bad one gets one clear sentence, downloads are all-or-nothing."""

import hashlib
import shutil

import numpy as np
import pytest

from tests.conftest import FIXTURE
from train import data


def test_fixture_loads_in_keras_layout():
    (x, y), (xt, yt) = data.load(FIXTURE)
    assert x.shape == (400, 28, 28) and x.dtype == np.uint8 and y.shape == (400,)
    assert xt.shape == (500, 28, 28) and set(np.unique(yt)) == set(range(10))


def test_environment_variable_names_the_file(monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(FIXTURE))
    assert data.resolve(None) == FIXTURE


def write(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


def good(**override):
    arrays = dict(
        x_train=np.zeros((4, 28, 28), np.uint8),
        y_train=np.zeros(4, np.uint8),
        x_test=np.zeros((2, 28, 28), np.uint8),
        y_test=np.zeros(2, np.uint8),
    )
    arrays.update(override)
    return {k: v for k, v in arrays.items() if v is not None}


@pytest.mark.parametrize(
    "arrays,message",
    [
        (good(y_test=None), "lacks y_test"),
        (good(x_train=np.zeros((4, 32, 32), np.uint8)), r"x_train has shape \[4, 32, 32\]"),
        (good(x_test=np.zeros((2, 28, 28), np.float32)), "dtype float32"),
        (good(y_train=np.zeros(3, np.uint8)), "4 images but y_train has 3 labels"),
        (good(y_test=np.full(2, 11, np.uint8)), "labels above 9"),
    ],
)
def test_wrong_contents_are_named(tmp_path, arrays, message):
    with pytest.raises(data.DataError, match=message):
        data.load(write(tmp_path, **arrays))


def test_missing_truncated_pickled_and_non_npz_files(tmp_path):
    with pytest.raises(data.DataError, match="does not exist"):
        data.load(tmp_path / "nowhere.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(FIXTURE.read_bytes()[:5000])
    with pytest.raises(data.DataError, match="could not be read"):
        data.load(truncated)
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(data.DataError, match="could not be read"):
        data.load(text)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **good(x_train=np.array([{"a": 1}] * 4, dtype=object)))
    with pytest.raises(data.DataError):
        data.load(pickled)


def test_download_checks_the_hash_and_leaves_no_file_when_it_fails(tmp_path):
    src = tmp_path / "served.npz"
    shutil.copy(FIXTURE, src)
    dest = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(data.DataError, match="SHA-256"):
        data.download(src.as_uri(), dest, expected_sha256="0" * 64)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    with pytest.raises(data.DataError, match="Could not download"):
        data.download((tmp_path / "missing.npz").as_uri(), dest)
    assert list(dest.parent.iterdir()) == []

    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert data.download(src.as_uri(), dest, expected_sha256=digest) == dest
    assert dest.read_bytes() == src.read_bytes()


def test_split_is_seeded_and_disjoint():
    x, y = np.arange(100), np.arange(100) % 10
    (a, _), (va, _) = data.split(x, y, 20, seed=1)
    (b, _), (vb, _) = data.split(x, y, 20, seed=1)
    assert np.array_equal(va, vb) and len(va) == 20 and not set(a) & set(va)
