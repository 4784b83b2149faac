"""Gradio's side of the two inputs, made safe for a public link.

The Sketchpad's browser code sends the canvas as blobs to a server function (`accept_blobs`) that
Gradio keeps in one dict for the whole app, keyed by an id the client picks, with no bound on the
layer index, the count or the bytes, and never cleared for events that `trigger_mode="always_last"`
drops. `BlobStore` replaces it: bounded per blob, per drawing, per client and in total, evicted by
age. Upload events hand us file records; `uploaded_path` accepts only regular files in Gradio's
upload folder, and says one sentence that reveals nothing about the server otherwise.
"""

from __future__ import annotations

import io
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import gradio as gr
from fastapi import HTTPException
from gradio.components.base import server
from gradio.components.image_editor import AcceptBlobs, EditorData, EditorDataBlobs
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder
from PIL import Image

from demo.decode import FORMATS, BadImage, inside
from demo.preprocess import MAX_LAYERS

MAX_SKETCH_SIDE = 2048  # a Sketchpad image larger than this is not from our 400 px canvas
MAX_BLOB_BYTES = 2 * 2**20  # one canvas image as PNG/WebP; a 400x400 RGBA PNG of noise is ~0.65 MB
MAX_CLIENT_BYTES = 16 * 2**20
MAX_TOTAL_BYTES = 64 * 2**20
MAX_DRAWINGS = 2048  # pending drawings (ids) in total; a client's share is a quarter of it
BLOB_TTL = 120.0  # s; the page uses its blobs within milliseconds, so older ones were dropped events
NOT_UPLOADED = "That file was not uploaded to this app; upload the picture again."


@dataclass
class Pending:
    client: str
    touched: float  # the last blob's arrival: the order of the store
    blobs: dict[str, bytes] = field(default_factory=dict)  # "background", "composite", "layer0"...

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.blobs.values())


class BlobStore:
    """Drawings on their way from the browser to an event, bounded and evicted oldest first."""

    def __init__(
        self,
        ttl: float = BLOB_TTL,
        client_bytes: int = MAX_CLIENT_BYTES,
        total_bytes: int = MAX_TOTAL_BYTES,
        drawings: int = MAX_DRAWINGS,
    ):
        self.ttl, self.client_bytes, self.total_bytes, self.drawings = ttl, client_bytes, total_bytes, drawings
        self._items: OrderedDict[str, Pending] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, drawing: str, kind: str, index: int | None, blob: bytes, client: str) -> None:
        """Keep one canvas image; a bad one raises ValueError with a sentence for the client."""
        slot = {"background": "background", "composite": "composite"}.get(kind)
        if kind == "layer" and index is not None and 0 <= index < MAX_LAYERS:
            slot = f"layer{index}"
        if slot is None:
            raise ValueError(f"A drawing has a background, a composite and at most {MAX_LAYERS} layer.")
        if len(blob) > MAX_BLOB_BYTES:
            raise ValueError(f"A canvas image is at most {MAX_BLOB_BYTES // 2**20} MB.")
        check_declared_size(blob)
        now = time.monotonic()
        with self._lock:
            self._evict(now)
            item = self._items.pop(drawing, None)
            if item is None or item.client != client:
                item = Pending(client, now)
            item.blobs[slot], item.touched = bytes(blob), now
            self._items[drawing] = item  # newest last
            self._bound(client)

    def take(self, drawing: str) -> EditorDataBlobs | None:
        with self._lock:
            self._evict(time.monotonic())
            item = self._items.pop(drawing, None)
        if item is None:
            return None
        layers = [item.blobs.get(f"layer{i}") for i in range(MAX_LAYERS)]
        return EditorDataBlobs(
            background=item.blobs.get("background"),
            composite=item.blobs.get("composite"),
            layers=[b for b in layers if b is not None],
        )

    def stats(self) -> tuple[int, int]:
        """(drawings, bytes) held now."""
        with self._lock:
            return len(self._items), sum(i.size for i in self._items.values())

    def _evict(self, now: float) -> None:
        while self._items:
            oldest = next(iter(self._items.values()))
            if now - oldest.touched <= self.ttl:
                break
            self._items.popitem(last=False)

    def _bound(self, client: str) -> None:
        def total(owner=None):
            return sum(i.size for i in self._items.values() if owner in (None, i.client))

        for owner, limit_bytes, limit_count in (
            (client, self.client_bytes, self.drawings // 4),
            (None, self.total_bytes, self.drawings),
        ):
            while True:
                mine = [k for k, i in self._items.items() if owner in (None, i.client)]
                if len(mine) <= limit_count and total(owner) <= limit_bytes:
                    break
                self._items.pop(mine[0])


def check_declared_size(blob: bytes, name: str = "A canvas image") -> None:
    """Read the header only; anything but a modest picture is refused before it is decoded."""
    try:
        with Image.open(io.BytesIO(blob), formats=FORMATS) as im:  # lazy: the header only
            w, h = im.size
    except Image.DecompressionBombError:
        raise ValueError(f"{name} declares far more pixels than a canvas has.") from None
    except Exception:
        raise ValueError(f"{name} is not a PNG, WebP or JPEG picture.") from None
    if max(w, h) > MAX_SKETCH_SIDE:
        raise ValueError(f"{name} is {w}x{h} px; the canvas is at most {MAX_SKETCH_SIDE} px a side.")


class SafeSketchpad(gr.Sketchpad):
    """Gradio's Sketchpad with the server side bounded (see the module's docstring)."""

    @property
    def blobs(self) -> BlobStore:  # not set in __init__: Gradio reads the config from its signature
        if not isinstance(self.__dict__.get("_blobs"), BlobStore):
            self.__dict__["_blobs"] = BlobStore()
        return self.__dict__["_blobs"]

    @server
    def accept_blobs(self, data: AcceptBlobs, request: gr.Request):
        try:
            raw = data.data.get("index")
            index = int(raw) if raw not in (None, "", "null") else None
            client = request.client.host if request and request.client else "?"
            self.blobs.put(str(data.data["id"])[:64], str(data.data["type"]), index, data.files[0][1], client)
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise HTTPException(status_code=400, detail=str(e) or "A malformed canvas image.") from None

    def preprocess(self, payload: EditorData | None):
        if payload is None:
            return None
        try:
            if payload.id is not None:  # the page: blobs sent before the event; None if nothing was drawn
                parts = self.blobs.take(payload.id) or EditorDataBlobs(background=None, layers=[], composite=None)
            else:  # API clients: uploaded files
                parts = self._checked_files(payload)
            layers = [self.convert_and_format_image(layer) for layer in parts.layers]
            return {
                "background": self.convert_and_format_image(parts.background, flatten_on_white=True),
                "layers": [layer for layer in layers if layer is not None],
                "composite": self.convert_and_format_image(parts.composite, flatten_on_white=True),
            }
        except Exception as e:
            reason = str(e) if isinstance(e, (ValueError, BadImage)) else type(e).__name__
            return {
                "unreadable": f"The drawing could not be read ({reason}); send PNG images "
                "in the Sketchpad's background/layers/composite format."
            }

    def _checked_files(self, payload: EditorData) -> EditorData:
        if len(payload.layers) > MAX_LAYERS:
            raise ValueError(f"a drawing has at most {MAX_LAYERS} layer")
        for f in [payload.background, payload.composite, *payload.layers]:
            if f is not None:
                path = inside(f.path, get_upload_folder())
                if path is None:
                    raise ValueError(NOT_UPLOADED)
                with open(path, "rb") as fh:
                    head = fh.read(MAX_BLOB_BYTES + 1)
                if len(head) > MAX_BLOB_BYTES:
                    raise ValueError(f"a canvas image is at most {MAX_BLOB_BYTES // 2**20} MB")
                check_declared_size(head)
        return payload

    def get_block_name(self):  # render as Gradio's Sketchpad (a template of the ImageEditor)
        return "imageeditor"

    def get_block_class(self):
        return "imageeditor"


def uploaded_path(value) -> str | None:
    """An upload event's file record -> the path of a regular file in the upload folder.
    Anything else (another path, a link out, a FIFO, a folder) raises BadImage(NOT_UPLOADED)."""
    if value is None:
        return None
    path = value.get("path") if isinstance(value, dict) else value.path if isinstance(value, FileData) else None
    real = inside(path, get_upload_folder()) if isinstance(path, str) else None
    if real is None:
        raise BadImage(NOT_UPLOADED)
    return str(real)
