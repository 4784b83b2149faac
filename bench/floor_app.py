"""Gradio's own cost, with no model: `python -m bench.floor_app --port P [--pad]`.

`--pad`: the app's own pad (demo/pad_view.py) whose calls do no work, the pad path's floor.
Without it:
The same Sketchpad (the app's canvas) -> Label endpoint as the app, answered by a handler that does
no work: the API returns a constant, the page a count of its calls, so a browser sees each answer
arrive. Whatever a request to it costs is Gradio and its client, not our preprocessing or model.
A second endpoint, `/echo`, returns a string it is sent: no files at all, the client's own floor.
"""

import argparse
import itertools

import gradio as gr
from starlette.middleware import Middleware

from demo.canvas import CANVAS_H, CANVAS_W
from demo.pad import MAX_PAYLOAD
from demo.pad_view import pad_component
from demo.serving.routes import PadRoutes

CALLS = itertools.count(1)


def constant(value):
    return {"1": 1.0}


def counted(value):
    """The page's answer: the call's number, so a browser sees each answer arrive."""
    return {str(next(CALLS)): 1.0}


async def no_work(name, payload, who):
    """The pad's calls (demo.serving.routes), answered at once with a constant."""
    return {"read": {"number": "1", "top": [["1", 1.0]], "seen": "", "note": ""}, "why": {"html": ""}}.get(
        name, {"message": ""}
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pad", action="store_true", help="the app's pad with no work behind it")
    args = p.parse_args(argv)
    if args.pad:
        with gr.Blocks() as app:
            pad_component("")
        pad = Middleware(PadRoutes, answer=no_work, limit=MAX_PAYLOAD)
        app.launch(server_name="127.0.0.1", server_port=args.port, app_kwargs={"middleware": [pad]})
        return
    with gr.Blocks() as app:
        canvas = gr.Sketchpad(canvas_size=(CANVAS_W, CANVAS_H), type="numpy", elem_id="sketchpad")
        label = gr.Label(elem_id="answer")
        canvas.change(
            counted, canvas, label, api_visibility="private", trigger_mode="always_last", show_progress="hidden"
        )
        gr.Button(visible=False).click(constant, canvas, label, api_name="predict")
        text = gr.Textbox()
        text.submit(lambda s: s, text, text, api_name="echo")
    app.queue(default_concurrency_limit=2)
    app.launch(server_name="127.0.0.1", server_port=args.port)


if __name__ == "__main__":
    main()
