"""The Draw tab's pad as a Gradio component: a plain canvas in gr.HTML, whose calls go to the app's own
routes (demo.serving.routes, answered by demo.pad.PadServer).

No Node build: the markup is below, the behaviour in pad.js and the look in pad.css beside this file.
"""

from html import escape
from pathlib import Path

import gradio as gr

from demo.canvas import BRUSH, CANVAS_H, CANVAS_W, MIN_CANVAS_W

HERE = Path(__file__).resolve().parent
TEMPLATE = """<div class="pad">
  <div class="pad-paper"><canvas class="pad-canvas" role="img" aria-label="Writing pad"></canvas>
    <div class="pad-hint">Write a digit or a number here</div></div>
  <div class="pad-tools">
    <button type="button" class="pad-undo" aria-label="Undo">&#x21B6; Undo</button>
    <button type="button" class="pad-clear" aria-label="Clear">Clear</button>
    <button type="button" class="pad-explain">Why did it read that?</button>
  </div>
  <div class="pad-answer" id="answer" aria-live="polite" data-state="empty">
    <div class="pad-number"></div><div class="pad-bars"></div><div class="pad-seen" id="seen"></div>
    <div class="pad-note"></div>
  </div>
  <div class="pad-why" id="why"></div>
  <div class="pad-correct" id="correct"><strong>Wrong? It was:</strong>DIGITS</div>
  <div class="pad-correct"><input class="pad-typed" id="typed" type="text" inputmode="numeric" maxlength="8"
    placeholder="or type the whole number, e.g. 2026" aria-label="The number you wrote">
    <button type="button" class="pad-keep">Keep</button></div>
  <div class="pad-said" id="said" aria-live="polite"></div>
  <div class="pad-kept" id="kept">NOTICE</div>
</div>"""


def pad_html(notice: str) -> str:
    digits = "".join(f'<button type="button" class="pad-digit">{d}</button>' for d in range(10))
    return TEMPLATE.replace("DIGITS", digits).replace("NOTICE", escape(notice))


def pad_component(notice: str) -> gr.HTML:
    """The pad, its answer, "Why?" and "Wrong? It was"; `notice` says what is kept of a correction."""
    return gr.HTML(
        html_template=pad_html(notice),
        css_template=(HERE / "pad.css").read_text(),
        js_on_load=(HERE / "pad.js").read_text(),
        elem_id="pad",
        canvas_w=CANVAS_W,
        canvas_h=CANVAS_H,
        min_canvas_w=MIN_CANVAS_W,
        brush=BRUSH,
    )
