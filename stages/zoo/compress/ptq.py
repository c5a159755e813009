"""Post-training quantization of an exported Paddle inference model with PaddleSlim.

``quant_post_static`` with ``onnx_format=True`` is the path that gives a real int8 model here (the
weights stored as int8; Paddle Inference runs it with oneDNN int8). Paddle's own
``paddle.quantization`` PTQ exports gave wrong answers as int8 (../shared/STACK.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

PREFIX = "inference"
INPUT = "x"


def quant_post(fp32_dir: Path, out: Path, batches: Callable[[], Iterator[np.ndarray]], batch_nums: int,
               algo: str = "hist", weight_bits: int = 8, activation_bits: int = 8,
               skip: tuple[str, ...] = ()) -> None:
    """Calibrate on ``batch_nums`` batches and write ``out/inference.pdmodel`` + ``.pdiparams``.

    Args:
        fp32_dir: Folder with ``inference.pdmodel`` / ``inference.pdiparams`` (the export stage's).
        out: Folder to write.
        batches: Returns a fresh iterator of input batches (NCHW float32) from the train split.
        batch_nums: Calibration batches.
        algo: PaddleSlim calibration algorithm (``hist``, ``KL``, ``mse``, ``avg``, ``abs_max``).
        weight_bits: Weight bits.
        activation_bits: Activation bits.
        skip: Tensor names not to quantize (the seeds' excluded layers).
    """
    import paddle

    from .. import runtime

    runtime.shim_paddle()
    from paddleslim.quant import quant_post_static

    def loader():
        for batch in batches():
            yield {INPUT: batch}  # the export stage names the image input "x"

    paddle.enable_static()
    try:
        quant_post_static(
            paddle.static.Executor(paddle.CPUPlace()), model_dir=str(fp32_dir), quantize_model_path=str(out),
            model_filename=f"{PREFIX}.pdmodel", params_filename=f"{PREFIX}.pdiparams",
            save_model_filename=f"{PREFIX}.pdmodel", save_params_filename=f"{PREFIX}.pdiparams",
            data_loader=loader, batch_nums=batch_nums, algo=algo, weight_bits=weight_bits,
            activation_bits=activation_bits, onnx_format=True, skip_tensor_list=list(skip) or None)
    finally:
        paddle.disable_static()


def quant_post_model(model, quant: dict, batches: Callable[[], Iterator[np.ndarray]], batch_nums: int,
                     out: Path) -> None:
    """:func:`quant_post` of a float model in memory (saved as an inference model in a temporary folder
    inside ``out``), with the entry's ``method.quant`` settings."""
    import tempfile

    from ..cls.models import save_inference

    with tempfile.TemporaryDirectory(dir=out) as fp32:
        save_inference(model, Path(fp32) / PREFIX)
        quant_post(Path(fp32), out, batches, batch_nums, quant["algo"], quant["weight_bits"],
                   quant["activation_bits"], tuple(quant["not_quant_pattern"]))
