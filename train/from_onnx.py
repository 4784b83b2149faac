"""Put an exported ONNX model's weights back into the Keras model, so the shipped model (which ships
as ONNX only) can be trained further: `python -m train --init models/mnist-resnet50v2.onnx`.

tf2onnx folds every BatchNorm, into the conv before it or into a per-channel scale and shift, so
gamma, beta and the moving statistics are gone. Each BatchNorm gets its statistics measured again
on real digits and a gamma and beta chosen so that inference computes exactly the ONNX function,
and training-mode BatchNorm (batch statistics) computes nearly the same one.
"""

import re
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

LAYER = re.compile(r"(?<=/)(\w+?)_1(?=/)")  # tf2onnx names: .../<keras layer>_1/<op>
BN = re.compile(r"/(\w+_bn)_1/batchnorm")


class InitError(Exception):
    """The weights to start from cannot be used; the message says what to do."""


def check_init(path):
    """Before any data is loaded: a wrong --init path should fail in a second, not after a minute."""
    path = Path(path)
    if not path.is_file():
        raise InitError(f"--init {path}: no such file; pass an ONNX export or a run's best.weights.h5.")
    return path


def start_from(model, path, images):
    """--init: the weights of an ONNX export or of a Keras weights file (a run's best.weights.h5)."""
    path = check_init(path)
    if path.suffix == ".onnx":
        return load_onnx_into(model, path, images)
    try:
        model.load_weights(path)
    except Exception as e:  # h5py and Keras raise several types for a wrong or damaged file
        raise InitError(
            f"--init {path}: cannot load these weights into {model.name} ({e}); pass an ONNX "
            "export or a best.weights.h5 written by `python -m train`."
        ) from None


def onnx_weights(path):
    """{keras layer: {"kernel"/"bias": array}} and {batchnorm layer: (scale, shift)} from the file."""
    try:
        proto = onnx.load(str(path))
    except Exception as e:  # protobuf's DecodeError and friends
        raise InitError(
            f"--init {path} is not a readable ONNX file ({e}); export it again with `python -m export`."
        ) from None
    try:
        return _read_graph(proto)
    except (KeyError, IndexError, AttributeError, ValueError):  # a graph laid out differently
        raise InitError(
            f"--init {path} does not hold a network's weights in the layout `python -m export` "
            "writes (an int8 model cannot be read back: pass the fp32 export)."
        ) from None


def _read_graph(proto):
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    layers, affine = {}, {}
    for node in proto.graph.node:
        name = node.name
        if node.op_type == "Conv":
            layer = LAYER.findall(node.input[1])[-1]
            bias = inits[node.input[2]] if len(node.input) > 2 else None
            layers[layer] = {"kernel": inits[node.input[1]].transpose(2, 3, 1, 0)}  # OIHW -> HWIO
            if "merged_input" in node.input[1]:  # conv and its BatchNorm folded: the bias is the BN's shift
                affine[BN.search(node.input[2]).group(1)] = (1.0, bias)
            elif bias is not None:
                layers[layer]["bias"] = bias
        elif node.op_type == "BatchNormalization":
            scale, bias, mean, var = (inits[i] for i in node.input[1:5])
            eps = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "epsilon"), 1e-5)
            s = scale / np.sqrt(var + eps)
            affine[BN.search(name).group(1)] = (s, bias - mean * s)
        elif node.op_type in ("Mul", "Add") and BN.search(name):  # a BatchNorm on a vector: x * s + t
            const = [inits[i] for i in node.input if i in inits][0]
            s, t = affine.get(BN.search(name).group(1), (1.0, 0.0))
            affine[BN.search(name).group(1)] = (const, t) if node.op_type == "Mul" else (s, const)
        elif node.op_type == "MatMul":
            layers[LAYER.findall(name)[-1]] = {"kernel": inits[node.input[1]]}
        elif node.op_type == "Add" and name.endswith("/BiasAdd"):
            layers[LAYER.findall(name)[-1]]["bias"] = inits[[i for i in node.input if i in inits][0]]
    return layers, affine


def all_layers(model):
    """Every layer, the backbone's included."""
    for layer in model.layers:
        yield from all_layers(layer) if hasattr(layer, "layers") else [layer]


def load_onnx_into(model, path, images, batch=250):
    """Set `model`'s weights from the ONNX export at `path`; `images` ([N, 32, 32, 1], a few hundred
    training digits) re-measure the BatchNorm statistics."""
    import keras

    layers, affine = onnx_weights(path)
    by_name = {layer.name: layer for layer in all_layers(model)}
    bns = [n for n, layer in by_name.items() if isinstance(layer, keras.layers.BatchNormalization)]
    wanted = {n for n, layer in by_name.items() if layer.weights} - set(bns)
    if set(layers) != wanted or set(affine) != set(bns):
        raise InitError(
            f"{path} does not hold the weights of this network, {model.name} (layers missing: "
            f"{sorted((wanted - set(layers)) | (set(bns) - set(affine)))[:5]}); "
            "pass an ONNX file that `python -m export` wrote for the same --arch."
        )
    for name, w in layers.items():
        layer, k = by_name[name], w["kernel"]
        if k.ndim == 4 and k.shape != tuple(layer.kernel.shape):
            # export.graph crops 3x3 kernels whose output is 1x1 to the taps that see the input (padding 1)
            kernel = np.zeros(layer.kernel.shape, np.float32)
            top, left = ((kernel.shape[i] - k.shape[i] + 1) // 2 for i in (0, 1))
            kernel[top : top + k.shape[0], left : left + k.shape[1]] = k
        else:
            kernel = k.reshape(layer.kernel.shape)
        layer.kernel.assign(kernel)
        if "bias" in w:
            layer.bias.assign(w["bias"].reshape(layer.bias.shape))

    # Each BatchNorm is the affine map x * s + t. With the input's mean m and variance v measured,
    # gamma = s * sqrt(v + eps) and beta = s * m + t give exactly that map at inference.
    # First as gamma = s, beta = t, mean 0, variance 1 - eps (the ONNX function), to measure m and v.
    channel = {
        name: [np.broadcast_to(np.asarray(a, np.float32).reshape(-1), by_name[name].gamma.shape) for a in affine[name]]
        for name in bns
    }  # (s, t), one value per channel
    for name in bns:
        s, t = channel[name]
        by_name[name].set_weights([s, t, np.zeros_like(s), np.full_like(s, 1 - by_name[name].epsilon)])
    stats = _input_moments(model, [by_name[n] for n in bns], images, batch)
    for name, (m, v) in zip(bns, stats):
        (s, t), eps = channel[name], by_name[name].epsilon
        by_name[name].set_weights([s * np.sqrt(v + eps), s * m + t, m, v])


def _input_moments(model, layers, images, batch):
    """Per-channel mean and variance of each layer's input over `images`."""
    import keras

    backbone = next(layer for layer in model.layers if hasattr(layer, "layers"))
    inside = {layer.name for layer in backbone.layers}
    inner = [layer for layer in layers if layer.name in inside]
    outer = [layer for layer in layers if layer.name not in inside]
    stem = keras.Model(model.input, model.get_layer("grey_to_rgb").output)  # what the backbone is fed
    probes = [
        (stem, keras.Model(backbone.input, [layer.input for layer in inner])),
        (None, keras.Model(model.input, [layer.input for layer in outer])),
    ]
    sums = {}
    for start in range(0, len(images), batch):
        x, feats = images[start : start + batch], []
        for before, probe in probes:
            out = probe(before(x, training=False) if before else x, training=False)  # eager: no retracing
            feats += [keras.ops.convert_to_numpy(o) for o in (out if isinstance(out, list) else [out])]
        for layer, f in zip(inner + outer, feats):
            f = f.reshape(-1, f.shape[-1]).astype(np.float64)
            s = sums.setdefault(layer.name, [0, 0.0, 0.0])
            s[0] += len(f)
            s[1] += f.sum(0)
            s[2] += (f * f).sum(0)
    out = []
    for layer in layers:
        n, s1, s2 = sums[layer.name]
        m = s1 / n
        out.append((m.astype(np.float32), np.maximum(s2 / n - m * m, 0).astype(np.float32)))
    return out
