"""Run an exported model: Paddle Inference (oneDNN on CPU) and ONNX Runtime, batch in, scores out."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def paddle_predictor(prefix: Path, threads: int, int8: bool = False):
    """A Paddle Inference predictor for ``<prefix>.pdmodel`` / ``.pdiparams`` on the CPU with oneDNN.

    ``int8`` runs a quantized model's int8 kernels (oneDNN int8), as PaddleSlim's PTQ/QAT models run.

    Returns:
        A callable ``batch -> first output``.
    """
    from paddle import inference

    config = inference.Config(str(prefix) + ".pdmodel", str(prefix) + ".pdiparams")
    config.disable_gpu()
    config.enable_mkldnn()  # 25x faster than without on a batch (../shared/STACK.md)
    if int8:
        config.enable_mkldnn_int8()
    config.set_cpu_math_library_num_threads(threads)
    config.disable_glog_info()
    predictor = inference.create_predictor(config)
    name = predictor.get_input_names()[0]
    out = predictor.get_output_names()[0]

    def run(batch: np.ndarray) -> np.ndarray:
        handle = predictor.get_input_handle(name)
        handle.reshape(batch.shape)
        handle.copy_from_cpu(np.ascontiguousarray(batch, dtype=np.float32))
        predictor.run()
        return predictor.get_output_handle(out).copy_to_cpu()

    return run


def onnx_session(path: Path, threads: int):
    """An ONNX Runtime CPU session; returns a callable ``batch -> first output``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {name: np.ascontiguousarray(batch, dtype=np.float32)})[0]

    return run
