"""Stage `export@<entry>`: a trained classifier as a Paddle inference model and as ONNX (fp32).

    python -m stages.export --model models/ENTRY/train --out models/ENTRY/export

Writes ``inference.pdmodel`` + ``inference.pdiparams`` (paddle.jit.save, old IR), ``model.onnx``
(paddle2onnx) and ``export.json``: the largest absolute difference of each runtime's scores from the
training-time model on a fixed batch (it must be small, or the export failed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import staged_dirs, write_json

TOLERANCE = 1e-3  # absolute, on logits; conversion differences seen here are ~2.5e-5


def export(model_dir: Path, out: Path, threads: int) -> dict:
    """Export and cross-check; returns the figures written to export.json."""
    import numpy as np
    import paddle
    import paddle2onnx

    from stages.zoo.cls import models
    from stages.zoo.runtimes import onnx_session, paddle_predictor

    info = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    model = models.build_from(info)
    model.set_state_dict(paddle.load(str(model_dir / "model.pdparams")))
    model.eval()
    size = info["input"]
    # height and width stay free: the benchmark runs the same artifact at the profile's and the paper's size
    spec = [paddle.static.InputSpec([None, 3, None, None], "float32", "x")]
    paddle.jit.save(model, str(out / "inference"), input_spec=spec)
    # paddle2onnx's default optimiser, Polygraphy, is run with POLYGRAPHY_AUTOINSTALL_DEPS=1 forced on:
    # it pip-installed onnx_graphsurgeon and numpy 2.4 into the environment, breaking paddle.
    paddle2onnx.export(str(out / "inference.pdmodel"), str(out / "inference.pdiparams"),
                       save_file=str(out / "model.onnx"), opset_version=13, optimize_tool="onnxoptimizer")
    batch = np.random.default_rng(0).standard_normal((4, 3, size, size)).astype(np.float32)
    with paddle.no_grad():
        reference = model(paddle.to_tensor(batch)).numpy()
    diffs = {"paddle_inference": paddle_predictor(out / "inference", threads)(batch),
             "onnxruntime": onnx_session(out / "model.onnx", threads)(batch)}
    figures = {f"max_abs_diff_{k}": float(np.abs(v - reference).max()) for k, v in diffs.items()}
    bad = {k: v for k, v in figures.items() if not v < TOLERANCE}
    if bad:
        raise ValueError(f"exported model disagrees with the trained one: {bad} (tolerance {TOLERANCE})")
    figures.update(input=size, classes=info["classes"], constructor=info["constructor"])
    write_json(out / "export.json", figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Export one trained model.

    Returns:
        0 on success, 1 when the model folder is incomplete or the exports disagree.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="train stage output folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the exported artifacts")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    runtime.setup(args.threads)
    for name in ("model.json", "model.pdparams"):
        if not (args.model / name).is_file():
            print(f"{args.model / name}: missing (expected the train stage's output)", file=sys.stderr)
            return 1
    try:
        with staged_dirs(args.out) as (tmp,):
            figures = export(args.model, tmp, args.threads)
    except ValueError as err:
        print(f"{args.model}: {err}", file=sys.stderr)
        return 1
    print(f"exported {args.model} -> {args.out}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
