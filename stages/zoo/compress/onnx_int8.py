"""int8 artifacts of a quantized entry: PaddleSlim's int8 Paddle model, and ONNX Runtime's static
quantization (QDQ, per-channel weights) of the fp32 ONNX model.

paddle2onnx cannot convert PaddleSlim's quantized Paddle models, so the int8 ONNX artifact is made
from the fp32 ONNX with the same calibration batches. ``quantize_dynamic`` ran 5x slower than fp32
here (../shared/STACK.md); static QDQ is the fast one. Every export stage (stages/export.py,
stages/dense_export.py) calls :func:`export_int8`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

Batches = Callable[[], Iterator[np.ndarray]]

#: Inputs (by position) that carry a shape, size or scale, not data, per ONNX op type.
SHAPE_INPUTS = {"Resize": (1, 2, 3), "Upsample": (1,), "Reshape": (1,), "Expand": (1,), "Tile": (1,),
                "Slice": (1, 2, 3, 4), "ConstantOfShape": (0,), "Range": (0, 1, 2), "Pad": (1,)}


def export_int8(model_dir: Path, out: Path, batches: Batches, batch_nums: int) -> dict:
    """Copy ``model_dir``/int8 (the Paddle int8 model) to ``out``/int8 and, where ``out`` has an fp32
    ONNX model, quantize it to ``out``/int8/model.onnx; returns the count of int8 ONNX weights."""
    import shutil

    import onnx

    from .. import runtime

    shutil.copytree(model_dir / "int8", out / "int8")
    runtime.strip_callstacks(out / "int8" / "inference.pdmodel")
    if not (out / "model.onnx").is_file():
        return {}
    quantize_onnx(out / "model.onnx", out / "int8" / "model.onnx", batches, batch_nums)
    weights = onnx.load(str(out / "int8" / "model.onnx")).graph.initializer
    return {"onnx_int8_initializers": sum(w.data_type == onnx.TensorProto.INT8 for w in weights)}


def shape_nodes(graph) -> list[str]:
    """Names of the nodes that only compute shapes: the producers of :data:`SHAPE_INPUTS`, back to
    (not through) the ``Shape`` ops that read a feature map.

    ONNX Runtime quantized them too, with the range seen in calibration: YOLOv3's upsample size
    ``Mul(H, 2.0)`` then saturated, and the int8 model ran only at its calibration size.
    """
    producer = {o: node for node in graph.node for o in node.output}
    todo = [node.input[i] for node in graph.node for i in SHAPE_INPUTS.get(node.op_type, ())
            if i < len(node.input) and node.input[i]]
    found: dict[str, None] = {}
    while todo:
        node = producer.get(todo.pop())
        if node is None or node.name in found:
            continue
        found[node.name] = None
        if node.op_type != "Shape":
            todo.extend(i for i in node.input if i)
    return list(found)


def quantize_onnx(fp32: Path, out: Path, batches: Batches, batch_nums: int) -> None:
    """Write ``out`` (int8 QDQ ONNX), calibrated with min-max on ``batch_nums`` batches; shape
    arithmetic (:func:`shape_nodes`) stays float."""
    import tempfile

    import onnx
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
        model = onnx.load(str(prepared))
        for k, node in enumerate(model.graph.node):  # nodes_to_exclude goes by name; some have none
            node.name = node.name or f"slimzoo_{k}"
        onnx.save(model, str(prepared))
        quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=shape_nodes(model.graph))
