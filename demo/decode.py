"""Files and images into arrays, under one safety policy: what may be opened, and how big it may be.

Every picture, whether a CLI path, an upload or a Sketchpad layer, is opened here. The declared size
is read from the header and checked before a single pixel is decoded, so a small file that
declares a huge picture costs nothing; JPEGs too large to decode whole are read at 1/8 scale only
when they are baseline (progressive JPEGs must hold every coefficient, whatever the scale).
"""

from __future__ import annotations

import io
import os
import re
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin

MAX_SIDE = 2048  # larger inputs are shrunk first: same digit, bounded memory and time
MAX_PIXELS = 4096 * 4096  # decoded pixels per picture; a 12-16 Mpx phone photo fits
HUGE_JPEG_SIDE = 8 * 4096  # baseline JPEGs up to this side decode at 1/8 scale to <= 4096 px
MAX_FILE_BYTES = 16 * 2**20  # the CLI's bound; the app refuses uploads earlier (app.MAX_FILE_SIZE)
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
CANVAS_FORMATS = ("PNG", "WEBP", "JPEG")  # what a browser's canvas exports
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # PIL's own bomb check, for anything opened elsewhere
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)  # we refuse those ourselves
HIGH_DEPTH = ("I", "I;16", "I;16L", "I;16B", "I;16N", "F")


class BadImage(ValueError):
    """Input that is not a usable image; the message says what is wrong."""


def too_large(name: str, pixels: int, progressive: bool = False) -> BadImage:
    why = ", a progressive JPEG, which cannot be read at reduced scale" if progressive else ""
    return BadImage(
        f"{name} is too large to open ({pixels // 10**6} million pixels{why}): pictures up to "
        f"{MAX_PIXELS // 10**6} million pixels, or baseline JPEGs up to {HUGE_JPEG_SIDE} px a side, "
        "are read; send a smaller picture."
    )


def _is_progressive(im: Image.Image) -> bool:
    return bool(im.info.get("progressive") or im.info.get("progression"))


def bounded_open(source: bytes | io.BytesIO, name: str = "the picture") -> Image.Image:
    """Open from bytes already read (a file is read whole first, within its byte limit), check the
    declared size, and load at most MAX_PIXELS pixels."""
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    if _starts_with(fp, b"\xff\xd8\xff"):  # built directly: Image.open's bomb check is our own question here
        im = JpegImagePlugin.JpegImageFile(fp)
    else:
        try:
            im = Image.open(fp, formats=FORMATS)
        except Image.DecompressionBombError as e:  # over 2x MAX_PIXELS: refused at open
            pixels = re.search(r"\((\d+) pixels\)", str(e))
            raise too_large(name, int(pixels[1]) if pixels else 0) from None
    try:
        progressive = im.format == "JPEG" and _is_progressive(im)
        if im.width * im.height > MAX_PIXELS:
            if im.format != "JPEG" or progressive or max(im.size) > HUGE_JPEG_SIDE:
                raise too_large(name, im.width * im.height, progressive)
        if im.format == "JPEG":  # the DCT scales for free: never decode more than MAX_SIDE needs
            im.draft(im.mode if im.mode in ("L", "RGB") else "RGB", (MAX_SIDE, MAX_SIDE))
        im.load()
        return im
    except BaseException:
        im.close()
        raise


def _starts_with(fp: io.BytesIO, magic: bytes) -> bool:
    head = fp.read(len(magic))
    fp.seek(0)
    return head == magic


def check_regular_file(path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES) -> None:
    """A FIFO, a device or a folder would hang or mislead the decoder: only regular files are read."""
    name = os.path.basename(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadImage(f"{path} does not exist; check the path.") from None
    except OSError:
        raise BadImage(f"{name} cannot be read; check the path and its permissions.") from None
    if not stat.S_ISREG(st.st_mode):
        raise BadImage(f"{name} is not a regular file; give the path of a PNG or JPEG image.")
    if st.st_size > max_bytes:
        raise BadImage(f"{name} is larger than {max_bytes // 2**20} MB; send a smaller picture.")


def open_file(path: str | os.PathLike) -> Image.Image:
    """A path from people (CLI) or from the upload folder (app) -> a loaded, size-checked PIL image."""
    check_regular_file(path)
    name = os.path.basename(path)
    try:
        with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NONBLOCK)) as f:
            return bounded_open(io.BytesIO(f.read()), name)
    except BadImage:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:  # names the file only
        reason = str(e).replace(str(path), name)
        raise BadImage(f"{name} is not an image that can be read ({reason}); use a PNG or JPEG of a digit.") from None


def as_array(image) -> np.ndarray | None:
    """A path, PIL image or array -> numpy array of at most MAX_SIDE px a side (None stays None)."""
    if image is None:
        return None
    if isinstance(image, (str, os.PathLike)):
        with open_file(image) as im:
            return as_array(im)
    if isinstance(image, Image.Image):
        image = ImageOps.exif_transpose(image)  # photos: honour the camera's orientation
        if max(image.size) > MAX_SIDE:  # a 12000 px photo holds no more digit than a 2000 px one
            image = image.copy()
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
        if image.mode in HIGH_DEPTH:  # 16/32-bit scans: scale to 8 bits
            a = np.asarray(image, dtype=np.float32)
            return a * (255.0 / a.max()) if a.max(initial=0) > 255 else a
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
        return np.asarray(image)
    a = np.asarray(image)
    if a.ndim >= 2 and max(a.shape[:2]) > MAX_SIDE:
        step = -(-max(a.shape[:2]) // MAX_SIDE)
        a = a[::step, ::step]
    return a


def check_declared_size(blob: bytes, width: int, height: int, name: str = "A canvas image") -> None:
    """Read the header only: anything but a picture of at most width x height px is refused before a
    single pixel is decoded."""
    try:
        with Image.open(io.BytesIO(blob), formats=CANVAS_FORMATS) as im:  # lazy: the header only
            w, h = im.size
    except Image.DecompressionBombError:
        raise BadImage(f"{name} declares far more pixels than a canvas has.") from None
    except Exception:
        raise BadImage(f"{name} is not a PNG, WebP or JPEG picture.") from None
    if w > width or h > height:
        raise BadImage(f"{name} is {w}x{h} px; the canvas is at most {width}x{height} px.")


def inside(path: str | os.PathLike, folder: str | os.PathLike) -> Path | None:
    """The real path of `path` if it is a regular file inside `folder` (links resolved), else None."""
    try:
        real = Path(os.path.realpath(path))
        root = Path(os.path.realpath(folder))
        if root in real.parents and stat.S_ISREG(os.stat(real).st_mode):
            return real
    except (OSError, ValueError, TypeError):
        pass
    return None
