"""The safety policy in-process (no server): what may be opened, how big a picture may be, and the
Sketchpad's bounded blob store."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from bench.drawing import stroke_digit
from bench.hostile_files import jpeg_declaring, png
from demo.components import MAX_BLOB_BYTES, NOT_UPLOADED, BlobStore, check_declared_size, uploaded_path
from demo.decode import BadImage, as_array, open_file
from demo.preprocess import prepare

SEVEN = Image.fromarray(((1 - stroke_digit([(110, 100), (290, 100), (170, 320)])) * 255).astype(np.uint8))


def test_fifo_and_folder_get_a_sentence_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    for path, words in (
        (tmp_path / "fifo", "not a regular file"),
        (tmp_path, "not a regular file"),
        (tmp_path / "gone.png", "does not exist"),
    ):
        with pytest.raises(BadImage, match=words):
            prepare(str(path))


def test_declared_size_is_checked_before_decoding(tmp_path):
    (tmp_path / "p.jpg").write_bytes(jpeg_declaring(32000, progressive=True))
    with pytest.raises(BadImage, match="progressive JPEG"):
        open_file(tmp_path / "p.jpg")
    Image.new("L", (5000, 4000), 255).save(tmp_path / "20mpx.png")  # 20 Mpx, a 60 kB file
    with pytest.raises(BadImage, match="too large to open \\(20 million pixels"):
        open_file(tmp_path / "20mpx.png")


def test_big_baseline_jpeg_is_decoded_at_reduced_scale(tmp_path):
    SEVEN.resize((9000, 9000)).save(tmp_path / "81mpx.jpg", quality=80)
    with open_file(tmp_path / "81mpx.jpg") as im:
        assert max(im.size) <= 4096  # decoded at 1/4 or 1/8
    assert max(as_array(str(tmp_path / "81mpx.jpg")).shape) <= 2048
    assert np.corrcoef(prepare(str(tmp_path / "81mpx.jpg"))[1].ravel(), prepare(SEVEN)[1].ravel())[0, 1] > 0.95


def test_canvas_images_declaring_huge_sizes_are_refused():
    check_declared_size(png((400, 400)))
    for blob, words in (
        (png((4000, 300)), "at most 2048"),
        (b"not a picture", "not a PNG"),
        (png((12000, 12000), "1"), "far more pixels"),
    ):
        with pytest.raises(ValueError, match=words):
            check_declared_size(blob)


def test_blob_store_is_bounded_and_forgets_old_drawings(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("demo.components.time.monotonic", lambda: clock[0])
    store = BlobStore(ttl=60, client_bytes=3 * 2**20, total_bytes=4 * 2**20, drawings=40)
    blob = png((400, 400), "LA", (0, 0))
    with pytest.raises(ValueError, match="at most 1 layer"):
        store.put("a", "layer", 300_000_000, blob, "x")
    with pytest.raises(ValueError, match="at most 2 MB"):
        store.put("a", "layer", 0, blob + b"\0" * MAX_BLOB_BYTES, "x")
    store.put("a", "background", None, blob, "x")
    store.put("a", "layer", 0, blob, "x")
    parts = store.take("a")
    assert parts.background == blob and parts.layers == [blob] and store.take("a") is None
    for i in range(100):  # one client, many drawings
        store.put(f"d{i}", "layer", 0, blob, "x")
    assert store.stats()[0] <= 10  # its share: a quarter of the drawings
    big = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (600, 600, 4), dtype=np.uint8)).save(big, "PNG")
    for i in range(20):  # 1.4 MB each, several clients
        store.put(f"b{i}", "layer", 0, big.getvalue(), f"c{i % 4}")
    assert store.stats()[1] <= 4 * 2**20
    store.put("old", "layer", 0, blob, "y")
    clock[0] += 30
    store.put("new", "layer", 0, blob, "y")
    clock[0] += 31
    assert store.take("old") is None and store.take("new") is not None


def test_only_regular_files_in_the_upload_folder_are_opened(tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    (folder / "abc").mkdir(parents=True)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    ok = folder / "abc" / "seven.png"
    SEVEN.save(ok)
    assert uploaded_path({"path": str(ok)}) == str(ok.resolve())
    (folder / "link").symlink_to("/etc/passwd")
    os.mkfifo(folder / "fifo")
    outside = tmp_path / "outside.png"
    SEVEN.save(outside)
    for path in (
        "/etc/shadow",
        "/etc/passwd",
        str(folder / "link"),
        str(folder / "fifo"),
        str(folder / "abc"),
        f"{folder}/../outside.png",
        str(outside),
        "/nonexistent.png",
        42,
        None,
    ):
        with pytest.raises(BadImage) as e:
            uploaded_path({"path": path})
        assert str(e.value) == NOT_UPLOADED
