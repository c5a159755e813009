"""Stage `det_benchmark@<entry>` / `seg_benchmark@<entry>`: measure a detector's or segmenter's exported
artifacts; flat JSON with provenance.

    python -m stages.dense_benchmark --config models/ENTRY/config.json --model models/ENTRY/model \
        --export models/ENTRY/export --out metrics/ENTRY/benchmark.json --sample metrics/ENTRY/sample.png

The scores are those of each exported artifact's outputs (not of the training-time model). Latency
is per runtime and thread count (default 1, 2, 4; ``cpu_count`` is recorded) at the profile's size and
at the task's paper sizes (608 / 416 / 320 for YOLOv3, 769 for segmentation). ``--sample`` draws the
Paddle artifact's boxes or mask on the first val image (the site's model card shows it). See
stages/zoo/measure.py for every key.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import write_json


def main(argv: list[str] | None = None) -> int:
    """Measure one detection or segmentation entry and write its metrics file and sample image.

    Returns:
        0 on success, 1 when an input folder is missing or the dataset cannot be read.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="resolved config (stage resolve)")
    parser.add_argument("--model", type=Path, required=True, help="train or compress stage output")
    parser.add_argument("--export", type=Path, required=True, help="export stage output")
    parser.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--sample", type=Path, required=True, help="PNG with the predictions drawn, to write")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--min-seconds", type=float, help="timing per latency figure (default: the profile's)")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text(encoding="utf-8"))
    runtime.setup(config["threads"])
    from stages.zoo.datasets import DatasetError
    from stages.zoo.measure import measure
    from stages.zoo.provenance import provenance
    from stages.zoo import dense
    from stages.zoo.tasks import PACKAGES, package

    if config["task"] not in PACKAGES:
        print(f"{args.config}: entry '{config['name']}': key 'task': this stage measures "
              f"{', '.join(PACKAGES)} models", file=sys.stderr)
        return 1
    task = package(config["task"])
    needed = [args.model / name for name in task.models.FILES] + [args.export / "inference.pdmodel"]
    missing = [p for p in needed if not p.is_file()]
    if missing:
        print(f"{missing[0]}: missing (expected the train or compress and export stages' outputs)", file=sys.stderr)
        return 1
    try:
        val = task.data.split(config, "val")
    except DatasetError as err:
        print(f"{args.config}: entry '{config['name']}': {err}", file=sys.stderr)
        return 1
    model, info = dense.load(task, args.model)
    seconds = args.min_seconds if args.min_seconds is not None else config["run"]["bench_seconds"]
    figures = measure(task, config, model, args.export, val, info, args.threads, seconds, args.sample)
    figures.update(entry=config["name"], profile=config["profile"], dataset=config["dataset"],
                   val_images=len(val), **provenance(config["threads"]))
    write_json(args.out, figures)
    shown = " ".join(f"{k} {figures[k]:.2f}" for k in task.measure.HEADLINE if k in figures)
    print(f"benchmarked {config['name']}: {shown}, {figures['params_m']:.3f} M params, "
          f"paper {figures['paper_params_m']:.2f} M / {figures['paper_gflops']:.2f} GFLOPs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
