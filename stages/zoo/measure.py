"""What the benchmark stage of a detector or segmenter measures, as one flat dict of figures.

Per exported artifact (Paddle Inference and ONNX Runtime, fp32 and, for a quantized entry, int8): the
task's val scores of its outputs (``<runtime>_<score>``), size on disk, latency at batch 1 per thread
count at the profile's input size (``profile``), at the paper's (``paper``) and at the seeds' other sizes
of that task (``paper<px>``: the same artifact, its size is free). The Paddle artifact's scores and size
(int8 for a quantized entry) are also the entry's headline figures (``<score>``, ``size_mb``), and its
predictions on the first val image are the entry's picture.
Per model: parameters and GFLOPs at the profile's input; the same for the paper-scale architecture
(paper width, classes and input, pruned by the same per-weight ratios) with its fp32 (or int8) size.
The task modules say which sizes and scores (stages/zoo/det/measure.py, stages/zoo/seg/measure.py).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .bench import disk_size, latency, model_stats, timing
from .runtimes import onnx_runner, paddle_runner

MIB = 2 ** 20


def artifacts(export: Path) -> dict[str, tuple[Any, int]]:
    """Runtime name -> (factory of a runner for a thread count, bytes on disk); no ONNX where the export
    stage could not convert the model (its export.json says why)."""
    found = {"paddle_fp32": (lambda t: paddle_runner(export / "inference", t),
                             disk_size(export / "inference.pdmodel", export / "inference.pdiparams"))}
    if (export / "model.onnx").is_file():
        found["onnx_fp32"] = (lambda t: onnx_runner(export / "model.onnx", t), disk_size(export / "model.onnx"))
    int8 = export / "int8"
    if int8.is_dir():
        found["paddle_int8"] = (lambda t: paddle_runner(int8 / "inference", t, int8=True),
                                disk_size(int8 / "inference.pdmodel", int8 / "inference.pdiparams"))
        if (int8 / "model.onnx").is_file():
            found["onnx_int8"] = (lambda t: onnx_runner(int8 / "model.onnx", t), disk_size(int8 / "model.onnx"))
    return found


def paper_stats(config: dict[str, Any], models: ModuleType, info: dict[str, Any], int8: bool,
                stats: dict[str, Any] | None = None) -> dict[str, float]:
    """Parameters, GFLOPs (at the paper's input) and size of the entry's paper-scale architecture after
    the same compression (``info``: its model.json): pruned by the same per-weight ratios (the names
    match: same layers, built the same way), a searched network's tokens, int8 weights at one byte.
    ``stats``: the model's own :func:`model_stats`, when it is the paper's (the full profile)."""
    from .compress.prune import apply_ratios

    paper = {**config["paper_arch"], **({"tokens": info["tokens"]} if info.get("tokens") else {})}
    if stats is None:
        model = models.build(paper)
        if info.get("pruned"):
            apply_ratios(model, paper["input"], info["pruned"])
        stats = model_stats(model, paper["input"])
    return {"paper_params_m": stats["params_m"], "paper_gflops": stats["gflops"], "paper_input": paper["input"],
            "paper_size_mb": stats["params"] * (1 if int8 else 4) / MIB}


def timings(run: Any, sizes: dict[str, int], settings: dict[str, Any], min_seconds: float) -> dict[str, dict]:
    """Latency of one runner at batch 1 per labelled input size; a size that two labels share (the
    ``full`` profile's input is the paper's) is timed once."""
    timed: dict[int, dict] = {}
    for px in dict.fromkeys(sizes.values()):
        batch = np.random.default_rng(0).standard_normal((1, 3, px, px)).astype(np.float32)
        timed[px] = latency(run, batch, min_seconds=min_seconds, **timing(settings))
    return {label: timed[px] for label, px in sizes.items()}


def measure(task: ModuleType, config: dict[str, Any], model: Any, export: Path, val: Any, info: dict[str, Any],
            threads: list[int], min_seconds: float, sample: Path) -> dict[str, Any]:
    """Every figure of one entry (see the module docstring); draws the picture to ``sample``.

    Args:
        task: The task's package (``evaluate``, ``models`` and ``measure`` with ``PAPER_SIZES``, ``finish``).
    """
    figures: dict[str, Any] = {}
    found = artifacts(export)
    main = "paddle_int8" if "paddle_int8" in found else "paddle_fp32"
    paper = config["paper_arch"]["input"]
    sizes = {"profile": config["arch"]["input"], "paper": paper,
             **{f"paper{px}": px for px in task.measure.PAPER_SIZES if px != paper}}
    scores: set[str] = set()
    for name, (factory, size) in found.items():
        run = factory(config["threads"])
        for key, value in task.evaluate.score(val, task.evaluate.predict(run, val, info)).items():
            figures[f"{name}_{key}"] = value
            scores.add(key)
        if name == main:
            task.evaluate.sample(run, val, info, sample)
        figures[f"{name}_size_mb"] = size / MIB
        for t in threads:
            for label, timed in timings(factory(t), sizes, config["run"], min_seconds).items():
                for key, value in timed.items():
                    figures[f"{name}_t{t}_{label}_{key}"] = value
    for key in scores | {"size_mb"}:
        figures[key] = figures[f"{main}_{key}"]
    stats = model_stats(model, sizes["profile"])
    figures.update(params_m=stats["params_m"], macs=stats["macs"], gflops=stats["gflops"])
    # in the full profile the model is the paper's: counting a rebuilt one again costs a second trace
    same = config["arch"] == config["paper_arch"]
    figures.update(paper_stats(config, task.models, info, main == "paddle_int8", stats if same else None))
    task.measure.finish(figures)
    return figures
