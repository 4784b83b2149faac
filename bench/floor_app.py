"""Gradio's own cost, with no model: `python -m bench.floor_app --port P`.

The same Sketchpad (the app's canvas) -> Label endpoint as the app, answered by a handler that does
no work: the API returns a constant, the page a count of its calls, so a browser sees each answer
arrive. Whatever a request to it costs is Gradio and its client, not our preprocessing or model.
A second endpoint, `/echo`, returns a string it is sent: no files at all, the client's own floor.
"""

import argparse
import itertools

import gradio as gr

from demo.ui import CANVAS_H, CANVAS_W

CALLS = itertools.count(1)


def constant(value):
    return {"1": 1.0}


def counted(value):
    """The page's answer: the call's number, so a browser sees each answer arrive."""
    return {str(next(CALLS)): 1.0}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
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
