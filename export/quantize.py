"""fp32 ONNX -> int8 ONNX (onnxruntime static quantization, QDQ, per-channel), checked on the test set.

Calibration uses training digits prepared exactly as served (the contract's padding and scaling).
Only Conv and MatMul/Gemm weights and inputs are quantized: quantizing the pre-activation
BatchNorm Mul/Add chains and the softmax is what sends a naive ResNet50V2 QDQ model to chance.
"""

import dataclasses
import tempfile
from pathlib import Path

import onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from demo.card import ModelCard
from demo.contract import INPUT_NAME
from export.onnx_export import accuracy, set_metadata
from export.onnx_io import save, session

TOLERANCE = 0.002  # an int8 model more than 0.2 points below its fp32 model is not written


class QuantizeError(ValueError):
    """An int8 model that lost too much accuracy; nothing was written."""


class Digits(CalibrationDataReader):
    def __init__(self, x, batch=32):
        # equal batches (the histogram calibrators stack them): the calibration digits are trimmed to a
        # multiple of `batch` by the caller, so every digit asked for is used
        self.batches = iter([{INPUT_NAME: x[i : i + batch]} for i in range(0, len(x) - batch + 1, batch)])

    def get_next(self):
        return next(self.batches, None)


def calibration_count(n: int, batch: int = 32) -> int:
    """The calibration digits actually used for `n` asked: whole batches, at least one."""
    return max(batch, n // batch * batch)


def quantize(fp32_path, dest, x_calib, x_test, y_test, method="percentile", tolerance=TOLERANCE):
    """Returns (int8 test accuracy, fp32 test accuracy); writes `dest` atomically, or raises QuantizeError
    without writing when int8 falls more than `tolerance` below fp32."""
    fp32_path, dest = Path(fp32_path), Path(dest)
    methods = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }
    with tempfile.TemporaryDirectory() as tmp:
        pre, out = Path(tmp) / "pre.onnx", Path(tmp) / "int8.onnx"
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)  # static shapes but N
        quantize_static(
            str(pre),
            str(out),
            Digits(x_calib),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["Conv", "MatMul", "Gemm"],
            per_channel=True,
            reduce_range=False,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=methods[method],
            extra_options={
                "ActivationSymmetric": False,
                "WeightSymmetric": True,
                "CalibPercentile": 99.999,
                "CalibMovingAverage": True,
            },
        )
        proto = onnx.load(str(out))
    fp32 = onnx.load(str(fp32_path), load_external_data=False)
    int8_acc = accuracy(session(proto), x_test, y_test)
    fp32_acc = accuracy(session(fp32_path), x_test, y_test)
    if int8_acc < fp32_acc - tolerance:
        raise QuantizeError(
            f"the int8 model reads {int8_acc:.2%} of the test digits against fp32's {fp32_acc:.2%}, more than "
            f"{tolerance:.1%} lower, so it was not written; try --calibration-method minmax or more "
            "--calibration digits."
        )
    card = ModelCard.from_metadata({p.key: p.value for p in fp32.metadata_props})
    if card is None:
        raise ValueError(f"{fp32_path} carries no model card; export it with `python -m export` first.")
    set_metadata(
        proto,
        dataclasses.replace(
            card,
            test_accuracy=round(int8_acc, 5),
            fp32_test_accuracy=round(fp32_acc, 5),
            quantization=f"int8 static QDQ per-channel, Conv/MatMul only, {method} calibration on "
            f"{calibration_count(len(x_calib))} training digits",
        ),
    )
    save(proto, dest)
    return int8_acc, fp32_acc
