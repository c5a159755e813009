"""Stage `det_export@<entry>` / `seg_export@<entry>`: a detector or segmenter as a Paddle inference
model and as ONNX, fp32 and, for a quantized entry, int8.

    python -m stages.dense_export --config models/ENTRY/config.json --model models/ENTRY/model \
        --out models/ENTRY/export

Writes ``inference.pdmodel`` + ``.pdiparams`` (paddle.jit.save, old IR, without the call stacks that
Paddle records in every op; input ``x`` NCHW with free batch and size; outputs: a detector's three raw
YOLOv3 maps, decoded with NMS by :mod:`stages.zoo.det.decode`, or a segmenter's logits at the input's
size),
``model.onnx`` (paddle2onnx; not for an architecture it cannot convert, ``onnx_unsupported`` in
export.json says why) and ``export.json``: each runtime's largest difference from the trained
model on a fixed batch (it must be small, or the export failed). ``--model`` is the train or compress
stage's folder; when it has ``int8/`` (PaddleSlim's int8 model), ``int8/`` here gets that model and
``int8/model.onnx``: ONNX Runtime's static quantization of the fp32 ONNX, calibrated on the train split.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import staged_dirs, write_json

TOLERANCE = 1e-3  # absolute plus relative to the largest raw output, as the classification export


def export_int8(config: dict, model_dir: Path, out: Path) -> dict:
    """The int8 artifacts (stages/zoo/compress/onnx_int8.py), calibrated on whole train images; an int8
    ONNX model that fails off its calibration size is dropped; returns their figures."""
    from stages.zoo.compress import onnx_int8
    from stages.zoo.tasks import package

    run, train = config["run"], package(config["task"]).data.split(config, "train")
    figures = onnx_int8.export_int8(model_dir, out, lambda: (x for _, x in train.batches(run["batch_size"])),
                                    run["calib_batches"])
    if not figures:
        return figures
    broken = _free_size_failure(out / "int8" / "model.onnx", 2 * config["arch"]["input"], config["threads"])
    if broken:  # measured as Paddle int8 only, as a model without ONNX (export.json says why)
        (out / "int8" / "model.onnx").unlink()
        figures.update(onnx_int8_initializers=0, onnx_int8_unsupported=broken)
    return figures


def _free_size_failure(path: Path, size: int, threads: int) -> str | None:
    """Why the int8 ONNX model cannot run at ``size`` px (twice the calibration images), or None.

    A guard: ONNX Runtime's static quantization once quantized YOLOv3's upsample size ``H * 2.0`` with
    the range seen in calibration, and the model then only ran at the calibrated size
    (stages/zoo/compress/onnx_int8.shape_nodes now keeps shape arithmetic float).
    """
    import numpy as np

    from stages.zoo.runtimes import onnx_runner

    try:
        onnx_runner(path, threads)(np.zeros((1, 3, size, size), np.float32))
    except Exception as err:  # onnxruntime raises its own Fail/RuntimeException types
        return f"ONNX Runtime's int8 model fails at {size} px, other than the calibration size: " + \
            str(err).splitlines()[0][:160]
    return None


def export(config: dict, model_dir: Path, out: Path) -> dict:
    """Export the float model and cross-check both runtimes; returns (and writes) the figures."""
    import numpy as np
    import paddle
    import paddle2onnx

    from stages.zoo import dense
    from stages.zoo.cls.models import save_inference
    from stages.zoo.tasks import package
    from stages.zoo.runtimes import onnx_runner, paddle_runner

    task = package(config["task"])
    model, info = dense.load(task, model_dir)
    save_inference(model, out / "inference")
    runtimes = {"paddle_inference": paddle_runner(out / "inference", config["threads"])}
    no_onnx = task.models.onnx_unsupported(info)
    if not no_onnx:  # checked first: paddle2onnx aborts the process on what it cannot convert
        # onnxoptimizer, not paddle2onnx's default Polygraphy (it pip-installs numpy 2, see stages/export.py)
        paddle2onnx.export(str(out / "inference.pdmodel"), str(out / "inference.pdiparams"),
                           save_file=str(out / "model.onnx"), opset_version=13, optimize_tool="onnxoptimizer")
        runtimes["onnxruntime"] = onnx_runner(out / "model.onnx", config["threads"])
    # a task's models may say how many images one call of its exported model takes (one for an RCNN)
    size, images = info["input"], getattr(task.models, "export_batch", lambda _: 0)(info) or 2
    batch = np.random.default_rng(0).standard_normal((images, 3, size, size)).astype(np.float32)
    with paddle.no_grad():
        reference = [o.numpy() for o in model(paddle.to_tensor(batch))]
    limit = TOLERANCE * (1 + max(float(np.abs(r).max()) for r in reference))
    figures = {"input": size, "classes": info["classes"], "outputs": len(reference), "onnx_unsupported": no_onnx}
    for name, run in runtimes.items():
        got = run(batch)
        diff = max(float(np.abs(g - r).max()) for g, r in zip(got, reference))
        if len(got) != len(reference) or not diff < limit:
            raise ValueError(f"{name} disagrees with the trained model: max abs diff {diff:.3g} "
                             f"(tolerance {limit:.2g}, {len(got)} outputs)")
        figures[f"max_abs_diff_{name}"] = diff
    if (model_dir / "int8").is_dir():
        figures.update(export_int8(config, model_dir, out))
    write_json(out / "export.json", figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Export one trained detector or segmenter.

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
    from stages.zoo.datasets import DatasetError
    from stages.zoo.tasks import PACKAGES, package

    if config["task"] not in PACKAGES:
        print(f"{args.config}: entry '{config['name']}': key 'task': this stage exports "
              f"{', '.join(PACKAGES)} models", file=sys.stderr)
        return 1

    runtime.shim_leaky_relu()  # ppdet's YOLOv3 necks; an exact rewrite, harmless to models without leaky_relu
    missing = package(config["task"]).models.missing(args.model)
    if missing:
        print(f"{missing}: missing (expected the train or compress stage's output)", file=sys.stderr)
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
