"""Trained weights -> a contract-conforming ONNX file, checked against Keras before it is written."""

import datetime
import json
from pathlib import Path

import numpy as np

from demo.card import ModelCard
from demo.contract import DESCRIPTION, INPUT_NAME, INPUT_SHAPE, LABELS, OPSET, OUTPUT_NAME, to_model_input
from demo.fileio import write_json
from export.graph import optimize
from export.onnx_io import save, session
from train.history import COLUMNS, chain, joined
from train.layout import BEST, HISTORY, METRICS, arch_of, best_epoch, recipe_of

PARITY_ATOL = 1e-4


class ExportError(Exception):
    """The export would produce a wrong file; nothing was written."""


def load_keras(run_dir):
    """Rebuild the float32 graph and load the best weights: the ONNX stays float32 even if
    training ran in mixed precision, and no training-only state comes along."""
    import keras

    from train.model import build_model

    weights = Path(run_dir) / BEST
    if not weights.is_file():
        raise ExportError(f"{weights} does not exist; train first (`python -m train --out {run_dir}`).")
    keras.mixed_precision.set_global_policy("float32")
    model = build_model(arch_of(run_dir))
    model.load_weights(weights)
    return model


def to_onnx(model, rewrite=True):
    """tf2onnx, then (unless told not to) the exact rewrites in export/graph.py."""
    import tensorflow as tf
    import tf2onnx

    spec = [tf.TensorSpec([None, *INPUT_SHAPE], tf.float32, name=INPUT_NAME)]
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=OPSET)
    rename_output(proto, OUTPUT_NAME)
    if rewrite:
        optimize(proto)
    return proto


def rename_output(proto, name):
    """tf2onnx names the output after Keras internals; the contract names it."""
    old = proto.graph.output[0].name
    if old == name:
        return
    for node in proto.graph.node:
        node.output[:] = [name if o == old else o for o in node.output]
        node.input[:] = [name if i == old else i for i in node.input]
    proto.graph.output[0].name = name


def run_onnx(sess, x, batch=500):
    return np.concatenate([sess.run([OUTPUT_NAME], {INPUT_NAME: x[i : i + batch]})[0] for i in range(0, len(x), batch)])


def parity(model, proto, x):
    """Max |ONNX - Keras| and argmax agreement on real digits."""
    ref = model.predict(x, batch_size=256, verbose=0)
    got = run_onnx(session(proto), x)
    return float(np.abs(ref - got).max()), float((ref.argmax(1) == got.argmax(1)).mean())


def accuracy(sess, x, y):
    return float((run_onnx(sess, x).argmax(1) == y).mean())


def set_metadata(proto, card: ModelCard):
    """The model card into the ONNX file's metadata (replacing what was there)."""
    del proto.metadata_props[:]
    for k, v in card.to_metadata().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v


def with_history_before(history, metrics, before):
    """The run's history and metrics as the whole training: the histories of the cycles it started from
    (`before`) joined in front, its epochs counted from there. `history`: the run's own, or None (an average)."""
    earlier = chain(before)
    metrics = {
        **metrics,
        "epochs_run": metrics.get("epochs_run", 0) + len(earlier),
        "train_seconds_total": round(metrics.get("train_seconds_total", 0) + sum(e["seconds"] for e in earlier), 1),
        "history_before": [str(p) for p in before],
    }
    if best_epoch(metrics) is not None:
        metrics["best_epoch"] = best_epoch(metrics) + len(earlier)
    return {"columns": COLUMNS, "epochs": joined([earlier, history["epochs"] if history else []])}, metrics


def export(run_dir, dest, x_test, y_test, parity_count=256, history_before=()):
    """Returns a summary dict. Writes `dest` plus its history/metrics beside it, or raises. `history_before`:
    histories of the cycles the run started from (run folders or exported .history.json files)."""
    run_dir, dest = Path(run_dir), Path(dest)
    model = load_keras(run_dir)
    proto = to_onnx(model)
    x = to_model_input(x_test)
    n = min(parity_count, len(x))
    max_diff, agree = parity(model, proto, x[:n])
    print(f"parity on {n} test digits: max |onnx - keras| = {max_diff:.2e}, argmax agreement {agree:.2%}")
    if max_diff > PARITY_ATOL or agree < 1.0:
        raise ExportError(
            f"ONNX and Keras disagree (max difference {max_diff:.2e}, argmax agreement {agree:.2%}); "
            "nothing was written."
        )
    test_acc = accuracy(session(proto), x, y_test)
    print(f"ONNX test accuracy on {len(x)} digits: {test_acc:.4%}")

    metrics = json.loads((run_dir / METRICS).read_text()) if (run_dir / METRICS).exists() else {}
    history = json.loads((run_dir / HISTORY).read_text()) if (run_dir / HISTORY).exists() else None
    if history_before:
        history, metrics = with_history_before(history, metrics, history_before)
    config = recipe_of(run_dir)
    stem = dest.name.removesuffix(".onnx")
    history_name, metrics_name = f"{stem}.history.json", f"{stem}.metrics.json"
    set_metadata(
        proto,
        ModelCard(
            contract=DESCRIPTION,
            labels=LABELS,
            test_accuracy=round(test_acc, 5),
            test_images=len(x),
            val_accuracy=metrics.get("val_accuracy"),
            epochs=metrics.get("epochs_run"),
            recipe=config,
            history=history_name if history else None,
            metrics=metrics_name,
            exported=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            parity=f"max_abs_diff={max_diff:.2e} argmax_agreement={agree:.4f} on {n} test digits",
            best_epoch=best_epoch(metrics),
        ),
    )
    proto.producer_name = "mnist-resnet50v2 export (tf2onnx)"
    if history:
        write_json(dest.parent / history_name, history)
    parity_figures = {"max_abs_diff": max_diff, "argmax_agreement": agree, "digits": n}
    write_json(
        dest.parent / metrics_name,
        {**metrics, "onnx_test_accuracy": test_acc, "recipe": config, "parity": parity_figures},
    )
    save(proto, dest)
    return dict(path=str(dest), test_accuracy=test_acc, max_abs_diff=max_diff, size_mb=dest.stat().st_size / 2**20)
