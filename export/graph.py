"""Exact rewrites of the tf2onnx graph that onnxruntime's CPU kernels run faster.

Both rewrites change no output beyond float rounding (the export's parity check against Keras
runs after them). `python -m export.graph IN.onnx OUT.onnx` applies them to an existing file.
"""

import argparse
import collections
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from export.onnx_io import save

EPS = 1e-5


def optimize(proto):
    """All three rewrites, in place; returns {rewrite: count}."""
    return {
        "affine_to_batchnorm": affine_to_batchnorm(proto),
        "dead_taps_cropped": crop_dead_taps(proto),
        "identity_reshapes_dropped": drop_identity_reshapes(proto),
    }


def inferred_dims(proto):
    """{tensor name: [dim, ...]} from ONNX shape inference; 0 where a dim is symbolic (the batch)."""
    g = shape_inference.infer_shapes(proto).graph
    return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in [*g.value_info, *g.input, *g.output]}


def affine_to_batchnorm(proto):
    """Keras 3 writes each inference BatchNorm as Mul(x, scale) then Add(shift). onnxruntime keeps
    its blocked (NCHWc) conv layout through a BatchNormalization, but converts back to plain NCHW
    and again for every per-channel Add: ResNet50V2's 17 pre-activation BatchNorms cost 34 layout
    conversions. One BatchNormalization with mean 0 and variance 1 - eps is the same function."""
    g = proto.graph
    dims = inferred_dims(proto)
    inits = {i.name: i for i in g.initializer}
    outputs = {o.name for o in g.output}
    consumers = collections.defaultdict(list)
    for node in g.node:
        for name in node.input:
            consumers[name].append(node)

    def channel_vector(name):
        """A [C,1,1] or [1,C,1,1] constant (broadcasts over NCHW channels), flattened; else None."""
        if name not in inits:
            return None
        a = numpy_helper.to_array(inits[name])
        return a.reshape(-1) if a.ndim in (3, 4) and a.shape[-2:] == (1, 1) and a.size == a.shape[-3] else None

    replace, drop = {}, set()
    for node in g.node:
        if node.op_type != "Mul" or len(consumers[node.output[0]]) != 1:
            continue
        add = consumers[node.output[0]][0]
        if add.op_type != "Add" or node.output[0] in outputs:
            continue
        x, scale = node.input if channel_vector(node.input[1]) is not None else node.input[::-1]
        shift = [i for i in add.input if i != node.output[0]]
        s, b = channel_vector(scale), channel_vector(shift[0]) if len(shift) == 1 else None
        if s is None or b is None or s.size != b.size or len(dims.get(x, [])) != 4:
            continue
        prefix = f"{add.name or add.output[0]}/as_batchnorm"
        names = [f"{prefix}/{part}" for part in ("scale", "bias", "mean", "var")]
        for name, value in zip(names, (s, b, np.zeros_like(s), np.full_like(s, 1 - EPS))):
            g.initializer.append(numpy_helper.from_array(value.astype(np.float32), name))
        # keyed by output names, which are unique in a graph (protobuf wrappers are not stable objects)
        replace[node.output[0]] = helper.make_node(
            "BatchNormalization", [x, *names], [add.output[0]], name=prefix, epsilon=EPS
        )
        drop.add(add.output[0])
    nodes = [replace.get(n.output[0], n) for n in g.node if n.output[0] not in drop]
    del g.node[:]
    g.node.extend(nodes)
    drop_unused_initializers(proto)
    return len(replace)


def crop_dead_taps(proto):
    """At 32x32 the last stage runs at 1x1: its 3x3 convolutions see one pixel and zero padding, so
    8 of 9 kernel taps only ever multiply zeros, yet onnxruntime still streams them from memory for
    every image (a quarter of the model's bytes). A conv whose output is 1x1 keeps only the taps
    that land on the input, without padding."""
    g = proto.graph
    dims = inferred_dims(proto)
    inits = {i.name: i for i in g.initializer}
    uses = collections.Counter(name for node in g.node for name in node.input)
    cropped = 0
    for node in g.node:
        if node.op_type != "Conv" or node.input[1] not in inits or uses[node.input[1]] != 1:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        x, y = dims.get(node.input[0], []), dims.get(node.output[0], [])
        if (
            len(x) != 4
            or y[2:] != [1, 1]
            or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
            or any(d != 1 for d in attrs.get("dilations", [1, 1]))
        ):
            continue
        w = numpy_helper.to_array(inits[node.input[1]])
        (h, wd), (top, left) = x[2:], attrs.get("pads", [0, 0, 0, 0])[:2]
        if w.shape[2:] == (h, wd) or top + h > w.shape[2] or left + wd > w.shape[3] or 0 in (h, wd):
            continue
        inits[node.input[1]].CopyFrom(
            numpy_helper.from_array(np.ascontiguousarray(w[:, :, top : top + h, left : left + wd]), node.input[1])
        )
        kept = [a for a in node.attribute if a.name not in ("pads", "kernel_shape", "strides")]
        del node.attribute[:]
        node.attribute.extend([*kept, helper.make_attribute("kernel_shape", [h, wd])])
        cropped += 1
    return cropped


def drop_identity_reshapes(proto):
    """At 1x1, tf2onnx turns each NHWC<->NCHW transpose into a Reshape to [-1, C, 1, 1] of a tensor
    that already has that shape: a no-op, but each one makes onnxruntime leave its NCHWc layout."""
    g = proto.graph
    dims = inferred_dims(proto)
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    outputs = {o.name for o in g.output}
    alias, kept = {}, []
    for node in g.node:
        node.input[:] = [alias.get(i, i) for i in node.input]
        x = dims.get(node.input[0], []) if node.input else []
        shape = inits.get(node.input[1]) if node.op_type == "Reshape" else None
        if (
            shape is not None
            and len(x) == shape.size >= 2
            and shape[0] == -1
            and 0 not in x[1:]
            and list(shape[1:]) == x[1:]
            and node.output[0] not in outputs
        ):
            alias[node.output[0]] = node.input[0]
            continue
        kept.append(node)
    del g.node[:]
    g.node.extend(kept)
    drop_unused_initializers(proto)
    return len(alias)


def drop_unused_initializers(proto):
    used = {name for node in proto.graph.node for name in node.input}
    kept = [i for i in proto.graph.initializer if i.name in used]
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(kept)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", help="ONNX file from `python -m export` (or tf2onnx)")
    p.add_argument("dest", help="where to write the rewritten model (may be the same file)")
    args = p.parse_args(argv)
    if not Path(args.src).is_file():
        raise SystemExit(f"{args.src} does not exist; export a model first (`python -m export`).")
    proto = onnx.load(args.src)
    counts = optimize(proto)
    save(proto, args.dest)
    print(f"{args.dest}: {counts}, {Path(args.dest).stat().st_size / 2**20:.1f} MB")


if __name__ == "__main__":
    main()
