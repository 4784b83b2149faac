"""Pictures an attacker sends, made small: a PNG or JPEG that declares a huge size, and the
heaviest pictures the app still accepts (cached in the folder given)."""

import io
from pathlib import Path

import numpy as np
from PIL import Image


def png(size=(64, 64), mode="L", color=255) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_declaring(side: int, progressive: bool) -> bytes:
    """A small JPEG whose header declares side x side px (what an attacker sends; nothing decodes it)."""
    buf = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buf, format="JPEG", progressive=progressive)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[sof + 5 : sof + 9] = side.to_bytes(2, "big") + side.to_bytes(2, "big")
    return bytes(data)


def heaviest_jpeg(tmp: Path) -> Path:
    """The most expensive picture the app accepts: a baseline JPEG of 841 million pixels (at 29,000 px a
    side, a plain one just fits under the 10 MB upload limit), which it reads at 1/8 scale."""
    path = tmp / "heaviest.jpg"
    if not path.exists():
        Image.new("L", (29000, 29000), 255).save(path, quality=75)
    return path


def biggest_png(tmp: Path) -> Path:
    """The largest picture the app decodes whole: 4096x4096 RGB (16 Mpx), a 1 drawn on white."""
    path = tmp / "biggest.png"
    if not path.exists():
        a = np.full((4096, 4096, 3), 255, np.uint8)
        a[1000:3000, 1800:2300] = 0
        Image.fromarray(a).save(path)
    return path
