"""Quant-aware training with PaddleSlim's dygraph ``QAT``: fake-quant layers, fine-tune, int8 export.

The ``onnx_format`` config makes the saved model store int8 weights (quantize/dequantize pairs), which
Paddle Inference runs with oneDNN int8. Paddle's own ``paddle.quantization`` QAT exports gave wrong
answers as int8 (../shared/STACK.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def prepare(model: Any, weight_bits: int = 8, activation_bits: int = 8) -> Any:
    """Insert fake-quant layers into ``model`` (in place); returns the quanter that saves it later."""
    from .. import runtime

    runtime.shim_paddle()
    from paddleslim import QAT

    quanter = QAT(config={
        "weight_quantize_type": "channel_wise_abs_max", "activation_quantize_type": "moving_average_abs_max",
        "weight_bits": weight_bits, "activation_bits": activation_bits,
        "quantizable_layer_type": ["Conv2D", "Linear"], "onnx_format": True})
    quanter.quantize(model)
    return quanter


def leave_float(model: Any, names: list[str]) -> None:
    """Keep the convolutions and linear layers under sublayers called ``names`` (one component of a
    layer's path: ``mid_se``) out of quant-aware training: Paddle's pass skips a layer with ``skip_quant``
    set (PaddleSlim's ``QAT`` keeps it)."""
    import paddle

    for path, layer in model.named_sublayers():
        if set(path.split(".")) & set(names) and isinstance(layer, (paddle.nn.Conv2D, paddle.nn.Linear)):
            layer.skip_quant = True


def save_int8(quanter: Any, model: Any, out: Path) -> None:
    """Write ``out/inference.pdmodel`` + ``.pdiparams`` (int8), height and width left free."""
    from ..cls.models import input_spec

    model.eval()
    quanter.save_quantized_model(model, str(out / "inference"), input_spec=input_spec())
