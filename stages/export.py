"""Stage `export@<entry>`: a classifier as a Paddle inference model and as ONNX, fp32 and int8.

    python -m stages.export --config models/ENTRY/config.json --model models/ENTRY/model \
        --out models/ENTRY/export

``--model`` is the train or compress stage's folder. Writes ``inference.pdmodel`` +
``inference.pdiparams`` (paddle.jit.save, old IR), ``model.onnx`` (paddle2onnx) and ``export.json``:
the largest absolute difference of each runtime's scores from the training-time model on a fixed
batch (it must be small, or the export failed). For a quantized entry (the model folder has
``int8/``): ``int8/`` with the Paddle int8 model and ``int8/model.onnx``, ONNX Runtime's static
quantization of the fp32 ONNX calibrated on the same train batches.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import staged_dirs, write_json

TOLERANCE = 1e-3  # on logits, absolute plus relative to the largest one (np.allclose-like);
# conversion differences seen: ~2.5e-5, MobileNetV3 (hard-swish in oneDNN) 1.0e-3 on logits ~10


def export_fp32(model_dir: Path, out: Path, threads: int) -> dict:
    """Export the float model and cross-check it; returns its figures."""
    import numpy as np
    import paddle
    import paddle2onnx

    from stages.zoo.cls import models
    from stages.zoo.runtimes import onnx_session, paddle_predictor

    model, info = models.load(model_dir)
    size = info["input"]
    models.save_inference(model, out / "inference")
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
    limit = TOLERANCE * (1 + float(np.abs(reference).max()))
    bad = {k: v for k, v in figures.items() if not v < limit}
    if bad:
        raise ValueError(f"exported model disagrees with the trained one: {bad} (tolerance {limit:.2g})")
    figures.update(input=size, classes=info["classes"], constructor=info["constructor"])
    return figures


def export(config: dict, model_dir: Path, out: Path) -> dict:
    """Every artifact of the entry (fp32, and int8 for a quantized one); returns the figures written
    to export.json."""
    figures = export_fp32(model_dir, out, config["threads"])
    if (model_dir / "int8").is_dir():
        from stages.zoo.cls import data
        from stages.zoo.compress.onnx_int8 import export_int8

        run, train = config["run"], data.split(config, "train")
        figures.update(export_int8(model_dir, out, lambda: (x for x, _ in train.batches(run["batch_size"])),
                                   run["calib_batches"]))
    write_json(out / "export.json", figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Export one trained model.

    Returns:
        0 on success, 1 when the model folder is incomplete or the exports disagree.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="resolved config (stage resolve)")
    parser.add_argument("--model", type=Path, required=True, help="train or compress stage output folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the exported artifacts")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text(encoding="utf-8"))
    runtime.setup(config["threads"])
    runtime.shim_paddle()
    from stages.zoo.cls import models
    from stages.zoo.datasets import DatasetError

    if models.missing(args.model):
        print(f"{models.missing(args.model)}: missing (expected the train or compress stage's output)",
              file=sys.stderr)
        return 1
    try:
        with staged_dirs(args.out) as (tmp,):
            figures = export(config, args.model, tmp)
    except (ValueError, DatasetError) as err:
        print(f"{args.model}: {err}", file=sys.stderr)
        return 1
    print(f"exported {args.model} -> {args.out}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
