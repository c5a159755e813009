"""Stage `benchmark@<entry>`: measure a classifier's exported artifacts; flat JSON with provenance.

    python -m stages.benchmark --config models/ENTRY/config.json --model models/ENTRY/model \
        --export models/ENTRY/export --out metrics/ENTRY/benchmark.json

Accuracy is that of each exported artifact (not of the training-time model). Latency is per runtime
and thread count (default 1, 2, 4; ``cpu_count`` is recorded, so a figure with more threads than
cores reads as oversubscribed) at the profile's and the paper's input size. See
stages/zoo/cls/measure.py for every key.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import write_json


def main(argv: list[str] | None = None) -> int:
    """Measure one entry and write its metrics file.

    Returns:
        0 on success, 1 when an input folder is missing or the dataset cannot be read.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="resolved config (stage resolve)")
    parser.add_argument("--model", type=Path, required=True, help="train/compress output (model.json, weights)")
    parser.add_argument("--export", type=Path, required=True, help="export stage output (fp32)")
    parser.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--min-seconds", type=float, help="timing per latency figure (default: the profile's)")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text(encoding="utf-8"))
    runtime.setup(config["threads"])
    from stages.zoo.cls import data, models
    from stages.zoo.cls.measure import measure
    from stages.zoo.datasets import DatasetError
    from stages.zoo.provenance import provenance

    needed = [args.model / name for name in models.FILES] + [args.export / "inference.pdmodel",
                                                           args.export / "model.onnx"]
    int8 = args.export / "int8" if (args.export / "int8").is_dir() else None  # a quantized entry's
    needed += [int8 / "inference.pdmodel", int8 / "model.onnx"] if int8 else []
    missing = [p for p in needed if not p.is_file()]
    if missing:
        print(f"{missing[0]}: missing (expected the train/compress and export stages' outputs)", file=sys.stderr)
        return 1
    try:
        val = data.split(config, "val")
    except DatasetError as err:
        print(f"{args.config}: entry '{config['name']}': {err}", file=sys.stderr)
        return 1
    model, info = models.load(args.model)
    seconds = args.min_seconds if args.min_seconds is not None else config["run"]["bench_seconds"]
    figures = measure(config, model, args.export, int8, val, args.threads, seconds, info)
    figures.update(entry=config["name"], profile=config["profile"], dataset=config["dataset"],
                   val_images=len(val), **provenance(config["threads"]))
    write_json(args.out, figures)
    print(f"benchmarked {config['name']}: top1 {figures['top1']:.2f}, {figures['params_m']:.3f} M params, "
          f"paper {figures['paper_params_m']:.2f} M / {figures['paper_gflops']:.2f} GFLOPs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
