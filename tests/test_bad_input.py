"""Whatever people send, preprocessing answers with a valid model input or one clear sentence."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from demo.contract import INPUT_SHAPE
from demo.preprocess import BadImage, EmptyDrawing, prepare
from train.drawn import sketch_value, stroke_digit

SEVEN = stroke_digit([(110, 100), (290, 100), (170, 320)], canvas=400, width=28)
SEVEN_L = Image.fromarray(((1 - SEVEN) * 255).astype(np.uint8), mode="L")


def valid(x):
    return (
        x.shape == (1, *INPUT_SHAPE)
        and x.dtype == np.float32
        and np.isfinite(x).all()
        and 0 <= x.min()
        and x.max() <= 1
    )


@pytest.mark.parametrize(
    "value,error,message",
    [
        (sketch_value(np.ones((400, 400), np.float32)), BadImage, "ink almost everywhere"),
        (sketch_value(stroke_digit([(200, 200), (201, 200)], width=24)), BadImage, "dot or a blot"),
        (np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8), BadImage, "looks like noise"),
        (np.zeros((1, 1, 3), np.uint8), EmptyDrawing, "Draw a digit"),
        (np.zeros((0, 0), np.uint8), EmptyDrawing, "Draw a digit"),
        (np.zeros((5, 5, 7), np.uint8), BadImage, "shape"),
        (np.array([["a", "b"]]), BadImage, "dtype"),
    ],
)
def test_bad_canvases_get_a_sentence(value, error, message):
    with pytest.raises(error, match=message):
        prepare(value)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"])
def test_every_pil_mode_reads_the_same_digit(mode):
    reference = prepare(SEVEN_L)[1]
    if mode == "I;16":
        img = Image.fromarray(np.asarray(SEVEN_L).astype(np.uint16) * 257)
    else:
        img = SEVEN_L.convert(mode)
    x, seen = prepare(img)
    assert valid(x)
    assert np.corrcoef(seen.ravel(), reference.ravel())[0, 1] > 0.95, mode


def test_files_that_are_not_images(tmp_path):
    buf = io.BytesIO()
    SEVEN_L.save(buf, format="PNG")
    (tmp_path / "truncated.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (tmp_path / "text.png").write_text("hello, I am a text file")
    for name in ("truncated.png", "text.png"):
        with pytest.raises(BadImage, match=f"{name} is not an image that can be read"):
            prepare(str(tmp_path / name))


def test_huge_image_and_decompression_bomb(tmp_path):
    big = SEVEN_L.resize((6000, 6000))  # 36 Mpx: shrunk first, then read normally
    x, seen = prepare(big)
    assert valid(x) and np.corrcoef(seen.ravel(), prepare(SEVEN_L)[1].ravel())[0, 1] > 0.95
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000), 1).save(bomb)  # 144 Mpx in a few kB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(BadImage, match=r"bomb.png is too large to open \(144 million pixels\)"):
        prepare(str(bomb))


def test_12000_px_jpeg_photo_is_read_at_reduced_scale(tmp_path):
    photo = tmp_path / "camera.jpg"
    SEVEN_L.resize((12000, 12000), Image.Resampling.BILINEAR).save(photo, quality=90)  # 144 Mpx, a few MB
    x, seen = prepare(str(photo))
    assert valid(x) and np.corrcoef(seen.ravel(), prepare(SEVEN_L)[1].ravel())[0, 1] > 0.95
    huge = tmp_path / "huge.jpg"
    Image.new("L", (40000, 2100), 255).save(huge)  # 84 Mpx and too wide even at 1/8 scale: refused
    with pytest.raises(BadImage, match="too large"):
        prepare(str(huge))


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int32, np.bool_]),
        shape=st.tuples(st.integers(1, 64), st.integers(1, 64))
        | st.tuples(st.integers(1, 64), st.integers(1, 64), st.sampled_from([1, 3, 4])),
        elements=None,
    )
)
def test_any_array_gives_a_valid_input_or_a_clear_error(a):
    try:
        x, seen = prepare(a)
    except (EmptyDrawing, BadImage) as e:
        msg = str(e)  # one sentence for a person: one line, a capital, a full stop, short
        assert "\n" not in msg and msg[0].isupper() and msg.endswith(".") and len(msg) < 250, msg
        return
    assert valid(x) and np.isfinite(seen).all()
