"""Latency of paper-size classifiers at the paper's input: fp32 against int8, and against uniform pruning.

    python -m benchmarks.paper_latency [--arch MobileNetV1] [--threads 1 2] \
        [--out benchmarks/results/paper_latency.json]

The zoo's benchmark stage times the tiny profile's reduced-width artifacts at the paper's input size;
the issue's latency targets (int8 at most 0.5x fp32 on one thread in the best runtime, 50% uniform
pruning at most 0.55x) are about the full-width network. This builds the paper-scale architecture
(1000 classes, width 1.0, seeded random weights: latency does not depend on the values), and makes,
with the pipeline's own functions, its Paddle inference fp32 model, the PaddleSlim post-training int8
model (calibrated on random batches), ONNX fp32 and ONNX Runtime int8, the 50%-FLOPs uniformly
pruned model, and the same pruning with each layer's kept filters rounded to a multiple of 8
(``prune.aligned``), then times each at batch 1.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import write_json


def _artifacts(arch: str, size: int, work: Path) -> dict:
    """Build every artifact under ``work``; returns runtime factories by name and the pruned MACs cut."""
    import numpy as np
    import paddle

    from stages.export import export_fp32
    from stages.zoo.cls import models
    from stages.zoo.compress import prune
    from stages.zoo.compress.onnx_int8 import quantize_onnx
    from stages.zoo.compress.ptq import quant_post
    from stages.zoo.runtimes import onnx_session, paddle_predictor

    spec = {"name": arch, "scale": 1.0, "classes": 1000, "input": size}
    rng = np.random.default_rng(0)

    def batches():
        return (rng.standard_normal((4, 3, size, size)).astype(np.float32) for _ in range(2))

    made, cut = {}, None
    ratio = None
    for kind in ("base", "pruned", "aligned"):
        paddle.seed(0)
        model = models.build(spec)
        info = models.describe(spec)
        if kind == "pruned":
            done = prune.prune_uniform(model, size, ratio=None, target=0.5, criterion="l1_norm")
            info["pruned"], cut, ratio = done["ratios"], done["flops_reduction"], done["ratio"]
        if kind == "aligned":  # the same ratio, each layer's kept filters rounded to a multiple of 8
            ratios = prune.aligned(model, {n: ratio for n in prune.prunable(model)})
            info["pruned"] = ratios
            cut_aligned = prune.prune_ratios(model, size, ratios)["flops_reduction"]
        folder, out = work / kind / "model", work / kind / "export"
        folder.mkdir(parents=True)
        out.mkdir()
        paddle.save(model.state_dict(), str(folder / "model.pdparams"))
        write_json(folder / "model.json", info)
        export_fp32(folder, out, threads=1)
        made[f"paddle_fp32_{kind}"] = lambda t, p=out: paddle_predictor(p / "inference", t)
        made[f"onnx_fp32_{kind}"] = lambda t, p=out: onnx_session(p / "model.onnx", t)
    quant_post(work / "base" / "export", work / "int8", batches, 2)
    quantize_onnx(work / "base" / "export" / "model.onnx", work / "int8" / "model.onnx", batches, 2)
    made["paddle_int8_base"] = lambda t: paddle_predictor(work / "int8" / "inference", t, int8=True)
    made["onnx_int8_base"] = lambda t: onnx_session(work / "int8" / "model.onnx", t)
    return {"factories": made, "flops_reduction": cut, "flops_reduction_aligned": cut_aligned}


def measure(arch: str, size: int, threads: list[int], min_seconds: float) -> dict:
    """Median / p90 latency (ms) of each artifact per thread count, and the targets' ratios."""
    import numpy as np

    from stages.zoo.bench import latency

    batch = np.random.default_rng(1).standard_normal((1, 3, size, size)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        built = _artifacts(arch, size, Path(tmp))
        figures = {"arch": arch, "input": size, "flops_reduction": built["flops_reduction"],
                   "flops_reduction_aligned": built["flops_reduction_aligned"]}
        for t in threads:
            for name, factory in built["factories"].items():
                timed = latency(factory(t), batch, min_runs=30, min_seconds=min_seconds)
                figures.update({f"{name}_t{t}_{k}": v for k, v in timed.items()})
    for t in threads:
        best = {kind: min(figures[f"{rt}_fp32_{kind}_t{t}_median_ms"] for rt in ("paddle", "onnx"))
                for kind in ("base", "pruned", "aligned")}
        int8 = min(figures[f"{rt}_int8_base_t{t}_median_ms"] for rt in ("paddle", "onnx"))
        figures[f"int8_over_fp32_t{t}"] = int8 / best["base"]
        figures[f"pruned_over_base_t{t}"] = best["pruned"] / best["base"]
        figures[f"aligned_over_base_t{t}"] = best["aligned"] / best["base"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="MobileNetV1", help="registry architecture (PaddleClas)")
    parser.add_argument("--input", type=int, default=224, help="input size (pixels)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per figure, after warm-up")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/paper_latency.json"))
    args = parser.parse_args(argv)
    runtime.setup(threads=max(args.threads))
    from stages.zoo.provenance import provenance

    figures = {**measure(args.arch, args.input, args.threads, args.seconds), **provenance(max(args.threads))}
    write_json(args.out, figures)
    for t in args.threads:
        print(f"{args.arch}@{args.input}, {t} thread(s): int8/fp32 {figures[f'int8_over_fp32_t{t}']:.2f}, "
              f"pruned 50%/base {figures[f'pruned_over_base_t{t}']:.2f}, "
              f"aligned to 8 channels {figures[f'aligned_over_base_t{t}']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
