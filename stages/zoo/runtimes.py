"""Run an exported model: Paddle Inference (oneDNN on CPU) and ONNX Runtime, batch in, outputs out.

``paddle_runner`` / ``onnx_runner`` return every output (a YOLOv3 has three); the classifiers'
``paddle_predictor`` / ``onnx_session`` return the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

Runner = Callable[[np.ndarray], list]

#: oneDNN fusion passes that fail on some valid graphs; a predictor that fails to build is built again
#: without them. batch_norm_act_fuse_pass raises "The node to be removed does not exist" on the DARTS
#: cell's BatchNorm + ReLU (paddle 3.3.1, darts-cifar10-sanas); other graphs keep the fusion.
FRAGILE_PASSES = ("batch_norm_act_fuse_pass",)

#: Passes an int8 predictor runs without. compute_propagate_scales_onednn_pass guesses int8 scales for
#: the tensors that PaddleSlim's quantized models leave without one, and the guesses clip: ResNet50's
#: PTQ model (float 81.8% top-1, QDQ model run in float 81.6) scored 46.1% in oneDNN int8 with the
#: pass and 81.9% without it; its QAT model 74.4 -> 81.4, MobileNetV1's PTQ/QAT 15.4/13.2 -> 16.5/15.3
#: (paddle 3.3.1). Without it those tensors stay float around the int8 kernels.
INT8_SKIPPED_PASSES = ("compute_propagate_scales_onednn_pass",)


def paddle_runner(prefix: Path, threads: int, int8: bool = False) -> Runner:
    """A Paddle Inference predictor for ``<prefix>.pdmodel`` / ``.pdiparams`` on the CPU with oneDNN.

    ``int8`` runs a quantized model's int8 kernels (oneDNN int8), as PaddleSlim's PTQ/QAT models run.

    Returns:
        A callable ``batch -> list of every output``.
    """
    from paddle import inference

    def build(without: tuple[str, ...]):
        config = inference.Config(str(prefix) + ".pdmodel", str(prefix) + ".pdiparams")
        config.disable_gpu()
        config.enable_mkldnn()  # 25x faster than without on a batch (../shared/STACK.md)
        if int8:
            config.enable_mkldnn_int8()
            without = without + INT8_SKIPPED_PASSES
        config.set_cpu_math_library_num_threads(threads)
        config.disable_glog_info()
        for name in without:
            config.delete_pass(name)
        return inference.create_predictor(config)

    try:
        predictor = build(())
    except RuntimeError:
        predictor = build(FRAGILE_PASSES)
    name, outputs = predictor.get_input_names()[0], predictor.get_output_names()

    def run(batch: np.ndarray) -> list:
        handle = predictor.get_input_handle(name)
        handle.reshape(batch.shape)
        handle.copy_from_cpu(np.ascontiguousarray(batch, dtype=np.float32))
        predictor.run()
        return [predictor.get_output_handle(o).copy_to_cpu() for o in outputs]

    return run


def onnx_runner(path: Path, threads: int) -> Runner:
    """An ONNX Runtime CPU session; returns a callable ``batch -> list of every output``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: np.ascontiguousarray(batch, dtype=np.float32)})


def paddle_predictor(prefix: Path, threads: int, int8: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`paddle_runner`'s first output (a classifier's scores)."""
    run = paddle_runner(prefix, threads, int8)
    return lambda batch: run(batch)[0]


def onnx_session(path: Path, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`onnx_runner`'s first output (a classifier's scores)."""
    run = onnx_runner(path, threads)
    return lambda batch: run(batch)[0]
