"""ONNX files in and out: a session to check one, and an atomic save that only renames a file into
place once it passes the checker and loads in onnxruntime."""

import onnx
import onnxruntime as ort

from demo.fileio import atomic_path


def session(proto_or_path):
    src = proto_or_path.SerializeToString() if isinstance(proto_or_path, onnx.ModelProto) else str(proto_or_path)
    return ort.InferenceSession(src, providers=["CPUExecutionProvider"])


def save(proto, dest):
    with atomic_path(dest, suffix=".onnx") as tmp:
        onnx.save(proto, str(tmp))
        onnx.checker.check_model(str(tmp))
        session(tmp)  # what we rename into place must load
