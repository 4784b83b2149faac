"""Gradio's own cost, with no model: `python -m bench.floor_app --port P`.

The same 400x400 Sketchpad -> Label endpoint as the app, answered by a handler that returns a
constant. Whatever a request to it costs is Gradio and its client, not our preprocessing or model.
A second endpoint, `/echo`, returns a string it is sent: no files at all, the client's own floor.
"""
import argparse

import gradio as gr


def constant(value):
    return {"1": 1.0}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
    with gr.Blocks() as app:
        canvas = gr.Sketchpad(canvas_size=(400, 400), type="numpy")
        label = gr.Label()
        canvas.change(constant, canvas, label, api_name="predict")
        text = gr.Textbox()
        text.submit(lambda s: s, text, text, api_name="echo")
    app.queue(default_concurrency_limit=2)
    app.launch(server_name="127.0.0.1", server_port=args.port)


if __name__ == "__main__":
    main()
