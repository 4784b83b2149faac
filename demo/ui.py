"""The Gradio app: a Draw tab, a Training curves tab and a model card, over one shared Classifier."""
import json

import gradio as gr
import numpy as np
import pandas as pd

from demo.preprocess import EmptyDrawing

CANVAS = 400          # px; the stroke below is ~1/12 of it, like an MNIST pen on a 28 px digit
BRUSH = 28
TITLE = "Handwritten digit recognition: ResNet50V2 on MNIST"


def sidecar(classifier, key):
    """history / metrics JSON that the export put beside the ONNX file (named in its metadata)."""
    name = classifier.metadata.get(key)
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


def model_card(classifier, metrics):
    meta = classifier.metadata
    size_mb = classifier.path.stat().st_size / 2**20
    lines = [f"**Model** `{classifier.path.name}` ({size_mb:.1f} MB, onnxruntime on CPU). "
             f"Test accuracy **{float(meta.get('test_accuracy', 'nan')):.2%}** on {meta.get('test_images', '?')} "
             f"MNIST test digits; best of {meta.get('epochs', '?')} epochs chosen on a validation split "
             f"(epoch {meta.get('best_epoch', '?')}, validation accuracy {meta.get('val_accuracy', '?')})."]
    recipe = json.loads(meta["recipe"]) if meta.get("recipe") else {}
    if recipe:
        lines.append(
            f"**Training**: ResNet50V2 from {'ImageNet' if recipe.get('weights') == 'imagenet' else 'scratch'}, "
            f"{recipe.get('optimizer')} lr {recipe.get('lr')} ({recipe.get('schedule')}), batch {recipe.get('batch_size')}, "
            f"label smoothing {recipe.get('label_smoothing')}, weight EMA {recipe.get('ema')}, augmentation: "
            f"rotation ±{recipe.get('rotation')}°, zoom ±{recipe.get('zoom')}, shift ±{recipe.get('shift')}; "
            f"{recipe.get('precision_used')}, seed {recipe.get('seed')}.")
    lines.append(f"**Input contract**: {meta.get('contract', '')}.")
    test = (metrics or {}).get("test")
    if test:
        lines.append("| digit | " + " | ".join(map(str, range(10))) + " |\n|---|" + "---|" * 10 + "\n"
                     "| test accuracy | " + " | ".join(f"{a:.2%}" for a in test["per_digit"]) + " |")
        cm = test["confusion"]
        lines.append("Confusion matrix (rows: true digit, columns: predicted):\n\n"
                     "| | " + " | ".join(map(str, range(10))) + " |\n|---|" + "---|" * 10 + "\n" +
                     "\n".join(f"| **{i}** | " + " | ".join(str(v) for v in row) + " |" for i, row in enumerate(cm)))
    return "\n\n".join(lines)


def build_app(classifier, top_k=3):
    def predict(sketch):
        """Label value: top-k digits with confidences, or a message when there is nothing to read."""
        try:
            label, _ = classifier.classify(sketch, top_k)
        except EmptyDrawing as e:
            return str(e)
        return label

    history = sidecar(classifier, "history")
    metrics = sidecar(classifier, "metrics")
    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"# {TITLE}\nDraw a digit (0-9) in the box. The model reads it as you draw.")
        with gr.Tab("Draw"):
            with gr.Row():
                with gr.Column():
                    sketch = gr.Sketchpad(
                        label="Draw a digit", type="numpy", image_mode="RGBA", canvas_size=(CANVAS, CANVAS),
                        fixed_canvas=True, layers=False, height=CANVAS + 120, width=CANVAS + 40,
                        brush=gr.Brush(default_size=BRUSH, colors=["#000000"], color_mode="fixed"),
                    )
                    button = gr.Button("Predict", variant="primary")
                with gr.Column():
                    label = gr.Label(num_top_classes=top_k, label=f"Top {top_k}")
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

        sketch.change(predict, sketch, label, api_name="predict", trigger_mode="always_last",
                      show_progress="hidden")
        button.click(predict, sketch, label, api_visibility="private")
    return app
