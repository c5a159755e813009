"""Exported detectors in Paddle Inference (oneDNN) and ONNX Runtime: batch in, every output out.

The classification runners (:mod:`stages.zoo.runtimes`) return the first output only; a YOLOv3 has
three. They are kept apart so the classification stages' code (a dependency of every classification
chain) does not change; merging them is noted for the next change that re-runs those chains anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

Runner = Callable[[np.ndarray], list]


def paddle_runner(prefix: Path, threads: int, int8: bool = False) -> Runner:
    """A Paddle Inference predictor for ``<prefix>.pdmodel`` / ``.pdiparams`` on the CPU with oneDNN."""
    from paddle import inference

    config = inference.Config(str(prefix) + ".pdmodel", str(prefix) + ".pdiparams")
    config.disable_gpu()
    config.enable_mkldnn()
    if int8:
        config.enable_mkldnn_int8()
    config.set_cpu_math_library_num_threads(threads)
    config.disable_glog_info()
    predictor = inference.create_predictor(config)
    name, outputs = predictor.get_input_names()[0], predictor.get_output_names()

    def run(batch: np.ndarray) -> list:
        handle = predictor.get_input_handle(name)
        handle.reshape(batch.shape)
        handle.copy_from_cpu(np.ascontiguousarray(batch, dtype=np.float32))
        predictor.run()
        return [predictor.get_output_handle(o).copy_to_cpu() for o in outputs]

    return run


def onnx_runner(path: Path, threads: int) -> Runner:
    """An ONNX Runtime CPU session."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: np.ascontiguousarray(batch, dtype=np.float32)})
