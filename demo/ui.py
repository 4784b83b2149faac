"""The Gradio app: a Draw tab, a Training curves tab and a model card, over one shared Classifier."""

import json
from pathlib import Path

import gradio as gr
import pandas as pd

from demo.card_markdown import model_card
from demo.components import SafeSketchpad
from demo.correct import Corrector
from demo.handlers import Reader, correct_photo

EXAMPLES = Path(__file__).resolve().parent / "examples"

CANVAS_W, CANVAS_H = 800, 300  # px: room for a number of 8 digits, still natural for one
BRUSH = 12  # px: MNIST's pen for a digit half the canvas tall; preprocessing evens out the rest
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


# Two things the page does for the Sketchpad, both at a tap on Clear.
# 1. Gradio's Sketchpad opens with no tool selected ("select the draw tool to start"), and clearing the
#    canvas deselects it again: pick the brush for the person, at start and after every clear.
# 2. The editor uploads the drawing after each stroke and then sends a change; on a slow phone or a busy
#    server that change can come after a tap on Clear, with the old drawing, and the old answer shows over
#    an empty canvas. The page notes whether any ink went down since the last Clear, and until some does, a
#    change (or Read, Why? or a correction) is given the empty canvas it shows (NOT_AFTER_CLEAR).
PAGE_SCRIPT = """() => {
  const clear = '#sketchpad button[aria-label="Clear canvas"]';
  const ink = '#sketchpad canvas, #sketchpad button[aria-label="Undo"], #sketchpad button[aria-label="Redo"]';
  const pick = (tries) => {
    const brush = document.querySelector('#sketchpad button[aria-label="Brush"]');
    if (brush) { brush.click(); } else if (tries > 0) { setTimeout(() => pick(tries - 1), 100); }
  };
  pick(100);
  window.digitInkSinceClear = false;
  document.addEventListener('pointerdown', (e) => {
    if (e.target.closest(ink)) { window.digitInkSinceClear = true; }
  }, true);
  document.addEventListener('click', (e) => {
    if (e.target.closest(clear)) { window.digitInkSinceClear = false; setTimeout(() => pick(20), 150); }
  }, true);
}"""
NOT_AFTER_CLEAR = "(value, ...rest) => [window.digitInkSinceClear === false ? null : value, ...rest]"
# On a phone the canvas, a quarter of its size at the screen's width, gets a box its own height, so the
# answer under it stays on screen while the person writes.
CSS = """@media (max-width: 640px) {
  #sketchpad { height: calc(37.5vw + 90px) !important; }
  #answer [data-testid="label-output-value"] { font-size: 1.4rem !important; line-height: 1.3; }
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


def who(request: gr.Request) -> str:
    """The rate limit's key: the browser session, else the client's address."""
    return getattr(request, "session_hash", None) or getattr(getattr(request, "client", None), "host", "")


def digit_buttons(elem_id: str) -> list[gr.Button]:
    with gr.Row(elem_id=elem_id, equal_height=True):
        gr.Markdown("**Wrong? It was:**")
        return [gr.Button(str(d), size="sm", min_width=40, scale=0) for d in range(10)]


def correction_row(corrector: Corrector, sketch: gr.components.Component) -> None:
    """The "Wrong? It was: 0 ... 9" row (one tap for one digit), a box for a whole number, and what is kept."""
    digits = digit_buttons("correct")
    with gr.Row(equal_height=True):
        typed = gr.Textbox(
            placeholder="or type the whole number, e.g. 2026", show_label=False, max_length=8, scale=3, elem_id="typed"
        )
        keep = gr.Button("Keep", size="sm", scale=1)
    said = gr.Markdown(elem_id="said")
    gr.Markdown(f"<small>{corrector.notice()}</small>", elem_id="kept")

    def tapped(digit):
        def fn(value, request: gr.Request):
            return corrector.correct(value, digit, who(request))[1]

        return fn

    def typed_in(value, answer, request: gr.Request):
        return corrector.correct(value, answer, who(request))[1]

    def api(value, answer, request: gr.Request):
        return corrector.as_json(value, answer, who(request))

    group = dict(concurrency_id="correct", concurrency_limit=1, api_visibility="private")
    for d, button in enumerate(digits):
        button.click(tapped(d), sketch, said, js=NOT_AFTER_CLEAR, **group)
    for trigger in (keep.click, typed.submit):
        trigger(typed_in, [sketch, typed], said, js=NOT_AFTER_CLEAR, **group)
    gr.Button(visible=False).click(
        api, [sketch, typed], gr.JSON(visible=False), api_name="correct", concurrency_id="correct", concurrency_limit=1
    )


def photo_correction_row(corrector: Corrector, photo: gr.Image, events: dict) -> None:
    """The Upload tab's "Wrong? It was:": a photo is one digit, read again as the Upload tab reads it."""
    digits = digit_buttons("correct-photo")
    said = gr.Markdown(elem_id="said-photo")
    gr.Markdown(f"<small>{corrector.notice()}</small>")
    photo.change(None, None, said, js="() => ''", show_progress="hidden")  # a new photo: the last thanks goes

    def tapped(digit):
        def fn(value, request: gr.Request):
            return correct_photo(corrector, value, digit, who(request))

        return fn

    for d, button in enumerate(digits):
        button.click(tapped(d), photo, said, api_visibility="private", **events)


def build_app(classifier, top_k=3, concurrency=2, keep_uploads=KEEP_UPLOADS, corrector=None):
    reader = Reader(classifier, top_k)
    corrector = corrector or Corrector(classifier, None)
    read, read_photo = reader.drawing, reader.photo

    def predict(value):
        """Label value only: what API clients of /predict get."""
        return read(value)[0]

    def predict_image(value):
        return read_photo(value)[0]

    history = sidecar(classifier, classifier.card and classifier.card.history)
    metrics = sidecar(classifier, classifier.card and classifier.card.metrics)
    sweep = (max(1, keep_uploads // 5), keep_uploads)
    # Two concurrency groups, page and API alike: drawings are cheap and get `concurrency` workers;
    # photos can be 16 Mpx and get PHOTO_WORKERS of their own, so they never hold up a drawing.
    draw = dict(concurrency_id="draw", concurrency_limit=concurrency)
    photos = dict(concurrency_id="photo", concurrency_limit=PHOTO_WORKERS, preprocess=False)
    with gr.Blocks(title=TITLE, delete_cache=sweep) as app:
        gr.Markdown(
            f"# {TITLE}\nWrite a digit or a whole number; the model reads it as you write. "
            f"Clear with the bin icon, undo with the arrow."
        )
        with gr.Tab("Draw"):
            # The canvas spans the page and the answer sits right under it: on a phone both fit one screen.
            sketch = SafeSketchpad(
                label="Write a digit or a number (up to 8 digits, left to right)",
                elem_id="sketchpad",
                type="numpy",
                image_mode="RGBA",
                canvas_size=(CANVAS_W, CANVAS_H),
                fixed_canvas=True,
                layers=False,
                height=CANVAS_H + 110,
                brush=gr.Brush(default_size=BRUSH, colors=["#000000"], color_mode="fixed"),
            )
            draw_out = result_row(top_k)
            with gr.Row():
                button = gr.Button("Read", variant="primary")
                why_button = gr.Button("Why did it read that?")
            why = gr.HTML(elem_id="why")
            correction_row(corrector, sketch)
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

        app.load(None, js=PAGE_SCRIPT)
        # The page: one read per stroke or upload fills the Label, the preview and the note together.
        live = dict(trigger_mode="always_last", show_progress="hidden", api_visibility="private")
        explained = gr.State("")  # the ink the explanation on the page was made for (handlers.ink_key)

        def read_keeping_why(value, key):
            *answer, keep = reader.number_keeping(value, key)
            return *answer, gr.skip() if keep else "", key if keep else ""

        sketch.change(
            read_keeping_why, [sketch, explained], [*draw_out, why, explained], js=NOT_AFTER_CLEAR, **live, **draw
        )
        button.click(reader.number, sketch, draw_out, js=NOT_AFTER_CLEAR, api_visibility="private", **draw)
        photo.change(read_photo, photo, photo_out, **live, **photos)
        upload_button.click(read_photo, photo, photo_out, api_visibility="private", **photos)
        # "Why?" runs only when asked: masked copies of each digit, so it stays off the live path.
        why_button.click(
            reader.why_keyed, sketch, [why, explained], js=NOT_AFTER_CLEAR, api_visibility="private", **draw
        )
        photo_why_button.click(reader.why_photo, photo, photo_why, api_visibility="private", **photos)
        # The API: the Label alone, on buttons the page never shows, so the page's events need not return it twice.
        gr.Button(visible=False).click(predict, sketch, draw_out[0], api_name="predict", **draw)
        gr.Button(visible=False).click(predict_image, photo, photo_out[0], api_name="predict_image", **photos)
        gr.Button(visible=False).click(
            reader.number_json, sketch, gr.JSON(visible=False), api_name="read_number", **draw
        )
    return app
