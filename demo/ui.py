"""The Gradio app: a Draw tab (our pad), an Upload tab, training curves and a model card, over one Classifier."""

import json
from pathlib import Path

import gradio as gr
import pandas as pd

from demo.canvas import CANVAS_H
from demo.card_markdown import model_card
from demo.components import ApiSketchpad
from demo.correct import Corrector
from demo.handlers import Reader, correct_photo
from demo.number import MAX_DIGITS
from demo.pad import PadServer
from demo.pad_view import pad_component
from demo.serving.fair import BUSY, FairQueue
from demo.serving.identity import visitor

EXAMPLES = Path(__file__).resolve().parent / "examples"

SEEN = "What the model sees (28x28)"
TITLE = "Handwritten digit recognition: ResNet50V2 on MNIST"


def sidecar(classifier, name):
    """history / metrics JSON that the export put beside the ONNX file (named in its card)."""
    path = classifier.path.parent / name if name else None
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def curves(history):
    """history.json -> long-format frames for the loss and accuracy plots."""
    rows = []
    for h in history.get("epochs", []):
        for split, prefix in (("training", ""), ("validation", "val_")):
            rows.append(dict(epoch=h["epoch"], split=split, loss=h[prefix + "loss"], accuracy=h[prefix + "accuracy"]))
    return pd.DataFrame(rows)


# On a phone the Upload tab's answer is set a little smaller, so it stays on screen under the photo.
CSS = """@media (max-width: 640px) {
  #photo-answer [data-testid="label-output-value"] { font-size: 1.4rem !important; line-height: 1.3; }
}"""
KEEP_UPLOADS = 300  # s; uploads and outputs older than this leave the disk, swept every KEEP_UPLOADS / 5
PHOTO_WORKERS = 1  # photos decoded at once; see build_app


def result_row(top_k: int, prefix: str = "") -> list:
    """The answer, the same on every tab: (Label, the model's view, the sentence), side by side
    where there is room and stacked on a phone; element ids `{prefix}answer` and `{prefix}seen`."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=160):
            label = gr.Label(num_top_classes=top_k, label=f"Top {top_k}", elem_id=f"{prefix}answer")
            note = gr.Markdown()
        seen = gr.HTML(label=SEEN, show_label=True, container=True, elem_id=f"{prefix}seen", min_height=100)
    return [label, seen, note]


def digit_buttons(elem_id: str) -> list[gr.Button]:
    with gr.Row(elem_id=elem_id, equal_height=True):
        gr.Markdown("**Wrong? It was:**")
        return [gr.Button(str(d), size="sm", min_width=40, scale=0) for d in range(10)]


def api_correction(corrector: Corrector, sketch: gr.components.Component) -> None:
    """/correct for API clients: a Sketchpad value and the digits it was, counted per visitor."""

    def api(value, answer, request: gr.Request):
        return corrector.as_json(value, answer, visitor(request))

    gr.Button(visible=False).click(
        api,
        [sketch, gr.Textbox(visible=False)],
        gr.JSON(visible=False),
        api_name="correct",
        concurrency_id="correct",
        concurrency_limit=1,
    )


def photo_correction_row(corrector: Corrector, photo: gr.Image, events: dict) -> None:
    """The Upload tab's "Wrong? It was:": a photo is one digit, read again as the Upload tab reads it."""
    digits = digit_buttons("correct-photo")
    said = gr.Markdown(elem_id="said-photo")
    gr.Markdown(f"<small>{corrector.notice()}</small>")
    photo.change(None, None, said, js="() => ''", show_progress="hidden")  # a new photo: the last thanks goes

    def tapped(digit):
        def fn(value, request: gr.Request):
            return correct_photo(corrector, value, digit, visitor(request))

        return fn

    for d, button in enumerate(digits):
        button.click(tapped(d), photo, said, api_visibility="private", **events)


def build_app(classifier, top_k=3, concurrency=2, keep_uploads=KEEP_UPLOADS, corrector=None):
    """The Blocks, with `.pad`: the PadServer whose `answer` the app serves at demo.serving.routes' paths."""
    reader = Reader(classifier, top_k)
    corrector = corrector or Corrector(classifier, None)
    # the cores' turns: the pad's and the API's drawings together, pen lifts sharing model calls
    queue = FairQueue(concurrency, model=classifier.predict_batch)
    pad = PadServer(reader, corrector, queue)
    read_photo = reader.photo

    def gated(fn, busy):
        """An API event's reading, in its visitor's turn on the same queue as the pad's."""

        def run(value, request: gr.Request):
            answer = queue.run(visitor(request), f"api:{request.session_hash}", lambda: {"out": fn(value)})
            return answer.get("out", busy)

        return run

    history = sidecar(classifier, classifier.card and classifier.card.history)
    metrics = sidecar(classifier, classifier.card and classifier.card.metrics)
    sweep = (max(1, keep_uploads // 5), keep_uploads)
    # Two concurrency groups for queued events: the API's drawings get `concurrency` workers (and share the
    # Gate with the pad, which skips the queue); photos can be 16 Mpx and get PHOTO_WORKERS of their own,
    # so they never hold up a drawing.
    draw = dict(concurrency_id="draw", concurrency_limit=concurrency)
    photos = dict(concurrency_id="photo", concurrency_limit=PHOTO_WORKERS, preprocess=False)
    with gr.Blocks(title=TITLE, delete_cache=sweep) as app:
        gr.Markdown(
            f"# {TITLE}\nWrite a digit or a whole number (up to {MAX_DIGITS} digits, left to right) with a mouse, "
            "a pen or a finger: the answer shows as soon as you lift the pen."
        )
        with gr.Tab("Draw"):
            pad_component(corrector.notice())
        with gr.Tab("Upload"):
            with gr.Row():
                with gr.Column(scale=3):
                    photo = gr.Image(
                        label="A photo or scan of one digit",
                        elem_id="photo",
                        type="filepath",
                        image_mode=None,
                        sources=["upload", "clipboard", "webcam"],
                        height=CANVAS_H,
                    )
                    upload_button = gr.Button("Predict", variant="primary")
                with gr.Column(scale=2):
                    photo_out = result_row(top_k, "photo-")
                    photo_why_button = gr.Button("Why did it read that?")
                    photo_why = gr.HTML()
            photo_correction_row(corrector, photo, photos)
            if EXAMPLES.is_dir():
                gr.Examples(sorted(str(p) for p in EXAMPLES.glob("*.png")), inputs=photo)
        with gr.Tab("Training curves"):
            if history and history.get("epochs"):
                frame = curves(history)
                with gr.Row():
                    gr.LinePlot(frame, x="epoch", y="loss", color="split", title="Loss per epoch")
                    gr.LinePlot(frame, x="epoch", y="accuracy", color="split", title="Accuracy per epoch")
            else:
                gr.Markdown("No training history was found beside the model file.")
        with gr.Tab("Model card"):
            gr.Markdown(model_card(classifier, metrics))

        live = dict(trigger_mode="always_last", show_progress="hidden", api_visibility="private")
        photo.change(read_photo, photo, photo_out, **live, **photos)
        upload_button.click(read_photo, photo, photo_out, api_visibility="private", **photos)
        photo_why_button.click(reader.why_photo, photo, photo_why, api_visibility="private", **photos)
        # The API, on components the page never shows: a Sketchpad value (files) for drawings, a file for photos.
        sketch = ApiSketchpad(visible=False, type="numpy", image_mode="RGBA", layers=False)
        label = gr.Label(visible=False)
        gr.Button(visible=False).click(
            gated(lambda v: reader.drawing(v)[0], BUSY), sketch, label, api_name="predict", **draw
        )
        gr.Button(visible=False).click(lambda v: read_photo(v)[0], photo, label, api_name="predict_image", **photos)
        gr.Button(visible=False).click(
            gated(reader.number_json, {"message": BUSY}), sketch, gr.JSON(visible=False), api_name="read_number", **draw
        )
        api_correction(corrector, sketch)
    app.pad = pad
    return app
