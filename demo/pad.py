"""The Draw tab's pad, server side: one small request per pen lift, read in its visitor's fair turn.

The page's canvas (demo/pad.js) sends `{"png": "data:image/png;base64,...", "at": [x, y], "canvas": [w, h],
"page": id}`: the ink alone, black on transparent, cut to its box at (x, y) on a w x h canvas. These calls
skip Gradio's queue and routing (demo.serving.routes), so every bound they gave is kept here or in
demo.serving: the payload's length before a byte is decoded, the picture's declared size before a pixel
is, and a turn in the `FairQueue` the API's drawings share.
Every answer is a dict: the reading, or a `message` for the person. The page keeps its own count of the
drawing's versions and shows an answer only if the drawing it was asked for is still on the pad.
"""

import base64
import binascii
import io
import itertools
from collections.abc import Callable

import numpy as np
from PIL import Image

from demo.canvas import CANVAS_H, CANVAS_W, MIN_CANVAS_W
from demo.correct import Corrector
from demo.decode import BadImage, bounded_open, check_declared_size
from demo.handlers import Reader
from demo.preprocess import Cut
from demo.serving.fair import FairQueue
from demo.serving.routes import MALFORMED, too_big

PREFIX = "data:image/png;base64,"
MAX_PAYLOAD = 256 * 1024  # characters of the data URL; the pad's drawings are a few KB to a few tens
MAX_PAGE = 64  # characters of a page's id
CORRECTIONS = itertools.count()

TOO_BIG = too_big(MAX_PAYLOAD)


def where(payload) -> tuple[int, int, int, int]:
    """(x, y, canvas width, canvas height): where the pad's PNG sits on its canvas. pad.js sends only its
    ink's box, `at` its top-left corner on a canvas `canvas` = [w, h] units; a script may send the whole
    canvas with neither."""
    at, canvas = payload.get("at", [0, 0]), payload.get("canvas", [CANVAS_W, CANVAS_H])
    numbers = [*at, *canvas] if isinstance(at, list) and isinstance(canvas, list) else []
    if len(numbers) != 4 or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise BadImage(MALFORMED)
    x, y, w, h = numbers
    if not (MIN_CANVAS_W <= w <= CANVAS_W and h == CANVAS_H and 0 <= x < w and 0 <= y < h):
        raise BadImage(MALFORMED)
    return x, y, w, h


def decode_pad(payload) -> Cut | np.ndarray:
    """The pad's payload -> a Cut of its ink (decoded once, as the alpha of the ink's box alone), or, for
    a fully opaque picture a script sent, its RGBA array; BadImage with a sentence for anything else."""
    png = payload.get("png") if isinstance(payload, dict) else None
    if not isinstance(png, str) or not png.startswith(PREFIX):
        raise BadImage(MALFORMED)
    if len(png) > MAX_PAYLOAD:
        raise BadImage(TOO_BIG)
    x, y, w, h = where(payload)
    try:
        raw = base64.b64decode(png[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise BadImage(MALFORMED) from None
    check_declared_size(raw, w - x, h - y, "The pad's drawing")
    try:
        with bounded_open(raw, "the pad's drawing") as im:
            rgba = im if im.mode == "RGBA" else im.convert("RGBA")
            alpha = rgba.getchannel("A")
            low, _ = alpha.getextrema()
            if low >= 128:  # opaque all over: not strokes on a transparent layer (preprocess.ink_map's rule)
                return np.asarray(rgba)
            box = alpha.getbbox() or (0, 0, 1, 1)
            x0, y0, x1, y1 = max(0, box[0] - 1), max(0, box[1] - 1), box[2] + 1, box[3] + 1
            ink = np.asarray(alpha.crop((x0, y0, x1, y1)), np.float32) / 255.0  # past the edge: transparent
            return Cut(ink, (h, w))
    except BadImage:
        raise
    except Exception:
        raise BadImage(MALFORMED) from None


def turn(name: str, payload) -> str:
    """Where a call waits in its visitor's turns: per page (pad.js makes one id per page load) and kind, so
    a newer pen lift replaces the page's waiting read and a "Why?" its waiting "Why?"; every correction
    waits in a place of its own, so none is ever dropped."""
    page = payload.get("page") if isinstance(payload, dict) else None
    page = page[:MAX_PAGE] if isinstance(page, str) else ""
    return f"{name}:{page}" if name != "correct" else f"correct:{page}:{next(CORRECTIONS)}"


class PadServer:
    """The pad's three calls (read, why, correct) as plain methods a test can call, each taking its turn on
    the cores in the `FairQueue` the API's drawings share, and `answer`, their async form that the page's
    HTTP calls (demo.serving.routes) await on the event loop, off Gradio's queue."""

    def __init__(self, reader: Reader, corrector: Corrector, queue: FairQueue):
        self.reader, self.corrector, self.queue = reader, corrector, queue

    def call(self, name: str, payload, who: str = "") -> dict:
        """One call, waiting in this thread: for tests and scripts."""
        return self.queue.run(who, turn(name, payload), self._work(name, payload, who))

    def _work(self, name: str, payload, who: str) -> Callable[[], dict]:
        def run() -> dict:
            try:
                drawing = decode_pad(payload)
            except BadImage as e:
                return {"message": str(e)}
            if name == "read":
                return self.reader.pad_pending(drawing)  # its model call shared with other pen lifts
            if name == "why":
                return {"html": self.reader.why(drawing)}
            answer = payload.get("answer") if isinstance(payload, dict) else None
            return {"message": self.corrector.correct(drawing, answer, who)[1]}

        return run

    def read(self, payload, who: str = "") -> dict:
        """{"number", "top" (one digit: [[label, p], ...]), "seen", "note"} or {"message"}."""
        return self.call("read", payload, who)

    def why(self, payload, who: str = "") -> dict:
        """{"html"}: which strokes made each digit read as it did."""
        return self.call("why", payload, who)

    def correct(self, payload, who: str = "") -> dict:
        """{"message"}: the digits the person says they wrote, kept with what the model read."""
        return self.call("correct", payload, who)

    async def answer(self, name: str, payload, who: str) -> dict:
        """One call awaited on the event loop, no thread waiting (demo.serving.routes serves the page's)."""
        return await self.queue.arun(who, turn(name, payload), self._work(name, payload, who))


def png_payload(rgba: np.ndarray, page: str = "") -> dict:
    """What the pad sends for an RGBA drawing on its canvas (its ink's box, where it sits, the canvas's size):
    for tests, benchmarks and scripts that talk like the page."""
    h, w = rgba.shape[:2]
    box = Image.fromarray(np.ascontiguousarray(rgba[..., 3], np.uint8)).getbbox() or (0, 0, 1, 1)
    x0, y0, x1, y1 = max(0, box[0] - 8), max(0, box[1] - 8), min(w, box[2] + 8), min(h, box[3] + 8)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[y0:y1, x0:x1], np.uint8)).save(buf, format="PNG")
    png = PREFIX + base64.b64encode(buf.getvalue()).decode()
    return {"png": png, "at": [x0, y0], "canvas": [w, h], "page": page}
