"""Keras -> ONNX export with a parity check (`python -m export --help`)."""
