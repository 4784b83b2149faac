"""Gradio's side of the API's inputs, made safe for a public link.

The page draws on our own pad (demo/pad.py); the Sketchpad lives on only as the input format of the
API's drawing endpoints, so its page-side route (`accept_blobs`, where the editor's browser code sends
canvas blobs) is closed. API clients send uploaded files: only regular files in Gradio's upload folder
are opened, their declared size is checked before decoding, and a bad one gets one sentence.
Upload events hand us file records: `uploaded_path` follows the same rule.
"""

from __future__ import annotations

import logging

import gradio as gr
from fastapi import HTTPException
from gradio.components.base import server
from gradio.components.image_editor import AcceptBlobs, EditorData
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder

from demo.decode import MAX_SIDE, BadImage, check_declared_size, inside
from demo.preprocess import MAX_LAYERS

log = logging.getLogger(__name__)
MAX_BLOB_BYTES = 2 * 2**20  # one canvas image as PNG/WebP; an 800x300 RGBA PNG of noise is ~1 MB
NOT_UPLOADED = "That file was not uploaded to this app; upload the picture again."


class ApiSketchpad(gr.Sketchpad):
    """Gradio's Sketchpad as an API input only: uploaded files, checked (see the module's docstring)."""

    @server
    def accept_blobs(self, data: AcceptBlobs):
        raise HTTPException(status_code=404, detail="This app takes drawings from its own pad, not blobs.")

    def preprocess(self, payload: EditorData | None):
        if payload is None:
            return None
        try:
            self._check_files(payload)
            layers = [self.convert_and_format_image(layer) for layer in payload.layers]
            return {
                "background": self.convert_and_format_image(payload.background, flatten_on_white=True),
                "layers": [layer for layer in layers if layer is not None],
                "composite": self.convert_and_format_image(payload.composite, flatten_on_white=True),
            }
        except (ValueError, BadImage) as e:
            reason = str(e)
        except Exception as e:  # not a bad input we know: say so, and keep the traceback for the maintainer
            log.exception("could not read an API drawing")
            reason = type(e).__name__
        return {
            "unreadable": f"The drawing could not be read ({reason}); send PNG images "
            "in the Sketchpad's background/layers/composite format."
        }

    def _check_files(self, payload: EditorData) -> None:
        if payload.id is not None:
            raise ValueError("this app takes drawings from its own pad; API clients send files")
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
                check_declared_size(head, MAX_SIDE, MAX_SIDE)

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
