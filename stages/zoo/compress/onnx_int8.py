"""int8 ONNX: ONNX Runtime static quantization (QDQ, per-channel weights) of the fp32 ONNX model.

paddle2onnx cannot convert PaddleSlim's quantized Paddle models, so the int8 ONNX artifact is made
from the fp32 ONNX with the same calibration batches. ``quantize_dynamic`` ran 5x slower than fp32
here (../shared/STACK.md); static QDQ is the fast one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np


def quantize_onnx(fp32: Path, out: Path, batches: Callable[[], Iterator[np.ndarray]], batch_nums: int) -> None:
    """Write ``out`` (int8 QDQ ONNX), calibrated with min-max on ``batch_nums`` batches."""
    import tempfile

    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    name = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(batches())
            self.left = batch_nums

        def get_next(self):
            if self.left == 0:
                return None
            self.left -= 1
            batch = next(self.it, None)
            return None if batch is None else {name: np.ascontiguousarray(batch, dtype=np.float32)}

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"  # shapes inferred, batch norms folded into the convs
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)  # sympy is not in the lock
        quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
