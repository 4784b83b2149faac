"""The safety policy in-process (no server): what may be opened, how big a picture may be, and the
declared size of canvas images."""

import os

import numpy as np
import pytest
from PIL import Image

from bench.hostile_files import jpeg_declaring, png
from demo.components import NOT_UPLOADED, uploaded_path
from demo.decode import BadImage, as_array, check_declared_size, open_file
from demo.preprocess import prepare
from train.drawn import stroke_digit

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
    check_declared_size(png((400, 400)), 800, 300 + 100)
    for blob, words in (
        (png((4000, 300)), "at most 2048x2048"),
        (b"not a picture", "not a PNG"),
        (png((12000, 12000), "1"), "far more pixels"),
    ):
        with pytest.raises(BadImage, match=words):
            check_declared_size(blob, 2048, 2048)


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
