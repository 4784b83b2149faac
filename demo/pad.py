"""The Draw tab's pad, server side: one small request per pen lift, read at once, bounded by hand.

The page's canvas (demo/pad.js) sends `{"png": "data:image/png;base64,...", "seq": n}`: the ink alone,
black on transparent, at the canvas's own size. These calls skip Gradio's queue, so every bound the
queue gave is kept here: the payload's length before a byte is decoded, the picture's declared size
before a pixel is, a token bucket per client address, and the `Gate` shared with the API's drawings.
Every answer is a dict with the request's `seq` (the page shows only answers for the drawing still on it) and either
the reading or a `message` for the person.
"""

import base64
import binascii
import io
import logging
from collections.abc import Callable

import anyio
import gradio as gr
import numpy as np
from PIL import Image

from demo.canvas import CANVAS_H, CANVAS_W
from demo.correct import Corrector
from demo.decode import BadImage, bounded_open, check_declared_size
from demo.guard import Gate, TokenBucket, client_address
from demo.handlers import Reader

log = logging.getLogger(__name__)

PREFIX = "data:image/png;base64,"
MAX_PAYLOAD = 256 * 1024  # characters of the data URL; the pad's drawings are a few KB to a few tens
READS_PER_SECOND, READS_BURST = 8.0, 24.0  # per address: a quick writer lifts the pen a few times a second
WHY_COST = 6.0  # "Why?" reads each digit many times over: it counts as this many readings
WAIT = 2.0  # s a reading may wait for a free slot before the person is told the app is busy

MALFORMED = "The pad sent something that is not a drawing; reload the page and draw again."
TOO_BIG = f"That drawing is larger than the pad sends ({MAX_PAYLOAD // 1024} KB at most); clear it and draw again."
SLOW_DOWN = "That is more drawings a second than a hand writes; wait a moment and draw again."
BUSY = "The app is busy reading other drawings; lift the pen again in a moment."


def seq_of(payload) -> int:
    seq = payload.get("seq") if isinstance(payload, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < 2**53 else 0


def decode_pad(payload) -> np.ndarray:
    """The pad's payload -> RGBA array [H, W, 4]; BadImage with a sentence for anything else."""
    png = payload.get("png") if isinstance(payload, dict) else None
    if not isinstance(png, str) or not png.startswith(PREFIX):
        raise BadImage(MALFORMED)
    if len(png) > MAX_PAYLOAD:
        raise BadImage(TOO_BIG)
    try:
        raw = base64.b64decode(png[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise BadImage(MALFORMED) from None
    check_declared_size(raw, CANVAS_W, CANVAS_H, "The pad's drawing")
    try:
        with bounded_open(raw, "the pad's drawing") as im:
            return np.asarray(im.convert("RGBA"))
    except BadImage:
        raise
    except Exception:
        raise BadImage(MALFORMED) from None


class PadServer:
    """The pad's three calls (read, why, correct) as plain methods a test can call, and their async
    forms for Gradio's `server_functions`, which run them off the event loop and off the queue."""

    def __init__(self, reader: Reader, corrector: Corrector, gate: Gate, behind_proxy: bool = False):
        self.reader, self.corrector, self.gate, self.behind_proxy = reader, corrector, gate, behind_proxy
        self.rate = TokenBucket(READS_PER_SECOND, READS_BURST)

    def _bounded(self, payload, who: str, cost: float, work: Callable[[np.ndarray], dict]) -> dict:
        seq = seq_of(payload)
        if not self.rate.allow(who, cost):
            return {"seq": seq, "message": SLOW_DOWN}
        try:
            drawing = decode_pad(payload)
        except BadImage as e:
            return {"seq": seq, "message": str(e)}
        return {"seq": seq, **self.gate.run(lambda: work(drawing), WAIT, lambda: {"message": BUSY})}

    def read(self, payload, who: str = "") -> dict:
        """{"seq", "number", "top" (one digit: [[label, p], ...]), "seen", "note"} or {"seq", "message"}."""
        return self._bounded(payload, who, 1.0, self.reader.pad_answer)

    def why(self, payload, who: str = "") -> dict:
        """{"seq", "html"}: which strokes made each digit read as it did."""
        return self._bounded(payload, who, WHY_COST, lambda d: {"html": self.reader.why(d)})

    def correct(self, payload, who: str = "") -> dict:
        """{"seq", "message"}: the digits the person says they wrote, kept with what the model read."""
        answer = payload.get("answer") if isinstance(payload, dict) else None
        return self._bounded(payload, who, 1.0, lambda d: {"message": self.corrector.correct(d, answer, who)[1]})

    def functions(self) -> list[Callable]:
        """The async server functions the page's `server` object calls by these names."""

        async def read(payload, request: gr.Request):
            return await self._off_loop(self.read, payload, request)

        async def why(payload, request: gr.Request):
            return await self._off_loop(self.why, payload, request)

        async def correct(payload, request: gr.Request):
            return await self._off_loop(self.correct, payload, request)

        return [read, why, correct]

    async def _off_loop(self, method, payload, request) -> dict:
        who = client_address(request, self.behind_proxy)
        try:
            return await anyio.to_thread.run_sync(method, payload, who)
        except Exception as e:  # a bug gets a sentence on the page and a traceback in the log
            log.exception("the pad's %s failed", method.__name__)
            return {"seq": seq_of(payload), "message": f"Could not read that drawing ({type(e).__name__}); draw again."}


def png_payload(rgba: np.ndarray, seq: int = 1) -> dict:
    """What the pad sends for an RGBA drawing: for tests, benchmarks and scripts that talk like the page."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba, np.uint8)).save(buf, format="PNG")
    return {"png": PREFIX + base64.b64encode(buf.getvalue()).decode(), "seq": seq}
