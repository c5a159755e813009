"""Stages `seg_compress@<entry>` / `det_compress@<entry>` / `det_distill@<entry>`: a pruned, quantized or
distilled segmenter or detector, made from its base with PaddleSlim (and a teacher entry).

    python -m stages.dense_compress --config models/ENTRY/config.json --base models/BASE/model \
        [--teacher models/TEACHER/model] --out models/ENTRY/model --metrics metrics/ENTRY/compress

As the classification compress stage (stages/compress.py), with the task's own data, loss and scores
(stages/zoo/tasks.py), prune (and distill), then quantize:

- prune: ``uniform`` (one ratio found for the FLOPs target), ``sensitive`` (PaddleSlim's
  sensitivity analysis, written to ``--metrics``/sensitivity.json, and the ratios it gives for the
  target) or the entry's own ratios, scored by the headline metric on the first ``PROBE_IMAGES``
  train images with batch-norm statistics re-estimated on them (:func:`recalibrate`, also after the
  pruning); then fine-tuning. A YOLOv3 entry prunes the seeds' head list (ppdet 1.x names,
  mapped by ``stages.zoo.det.models.weight_names``);
- distill (YOLOv3, ``l2`` or ``fine_grained``): the loss gains a distance of the student's three output
  maps to the teacher's (stages/zoo/det/fit.distilled_loss). Alone, the student trains again as its base did (same
  seed, start and schedule) with the teacher; after pruning, the fine-tuning has the teacher;
- quantize: ``post`` (quant_post, calibrated on the train split's whole images) or ``aware`` (QAT
  fine-tuning); the Paddle int8 model goes to ``--out``/int8 (the export stage adds its ONNX twin).

Fine-tuning runs ``finetune_epochs`` at ``finetune_lr``; a profile without ``finetune_lr`` fine-tunes
at its training lr, as PaddleSeg's slim tools reuse the training config. ``--out`` gets the float model
in the train stage's layout (model.json records the pruned ratios; stages/zoo/dense.py rebuilds it)
and config.json; ``--metrics`` gets compress.json with provenance and the dvclive curves.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from stages import compress as compress_stage
from stages.zoo import runtime
from stages.zoo.io import write_json

PROBE_IMAGES = 32  # train images scoring a pruning candidate (each of ~9 ratios per conv, sensitivity)


def compress(config: dict, base: Path, out: Path, metrics: Path, teacher: Path | None = None) -> dict:
    """Apply the entry's method to its base (and ``teacher``, a distilled entry's) and write the outputs;
    returns compress.json's figures."""
    import numpy as np
    import paddle

    from stages.zoo import dense
    from stages.zoo.cls.fit import log_once, schedule_kind
    from stages.zoo.compress import qat
    from stages.zoo.compress.ptq import quant_post_model
    from stages.zoo.tasks import package

    task, run, method = package(config["task"]), config["run"], config["method"]
    paddle.seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    train, val = task.data.split(config, "train"), task.data.split(config, "val")
    model, info = dense.load(task, base)
    found = dense.scores(task, model, val, info)
    head = next(k for k in task.measure.HEADLINE if k in found)  # COCO box AP, VOC mAP, mIoU
    figures: dict[str, Any] = {f"base_{head}": found[head]}
    finetune = {**run, "epochs": run["finetune_epochs"], "lr": run["finetune_lr"] or run["lr"]}
    tutor = {}  # the fit's teacher and strategy, for a distilled entry
    if method["distill"]:
        tutor_model, tutor_info = dense.load(task, teacher)
        tutor = {"teacher": tutor_model, "strategy": method["distill"]["strategy"]}
        figures[f"teacher_{head}"] = dense.scores(task, tutor_model, val, tutor_info)[head]
        if not method["prune"]:  # the base's own training again, from the same start, with the teacher
            model, rng = _fresh_student(config, task), np.random.default_rng(config["seed"])
            task.fit.fit(model, train, run, schedule_kind(config), info, rng, metrics / "curves", **tutor)
    if method["prune"]:
        probe = train.head(PROBE_IMAGES)
        listed = method["prune"]["params"]  # the seeds' YOLOv3 head lists: ppdet 1.x names, mapped
        done = compress_stage.prune_by_spec(model, method["prune"], config,
                                            _scorer(lambda: dense.scores(task, model, probe, info)[head],
                                                    model, probe, run["batch_size"]), metrics,
                                            task.models.weight_names(model, listed) if listed else None)
        info["pruned"] = done["ratios"]
        figures.update({k: v for k, v in done.items() if k != "ratios"})
        recalibrate(model, train, run["batch_size"], compress_stage.RECALIBRATE_BATCHES)
        figures[f"pruned_{head}_before_finetune"] = dense.scores(task, model, val, info)[head]
        task.fit.fit(model, train, finetune, schedule_kind(config), info, rng, metrics / "curves", **tutor)
    figures[f"float_{head}"] = dense.scores(task, model, val, info)[head]
    paddle.save(model.state_dict(), str(out / "model.pdparams"))  # the float model, before quantization
    quant = method["quant"]
    aware = bool(quant) and quant["kind"] == "aware"
    if quant:
        (out / "int8").mkdir()
    if aware:
        qat.leave_float(model, [task.models.NOT_QUANT[p] for p in quant["not_quant_pattern"]])
        quanter = qat.prepare(model, quant["weight_bits"], quant["activation_bits"])
        task.fit.fit(model, train, {**finetune, "warmup_epochs": 0.0}, "cosine", info, rng, metrics / "curves")
        figures[f"qat_{head}"] = dense.scores(task, model, val, info)[head]
        qat.save_int8(quanter, model, out / "int8")
    elif quant:
        quant_post_model(model, quant, lambda: (x for _, x in train.batches(run["batch_size"])),
                         run["calib_batches"], out / "int8")  # calibrated on whole train images
    if not method["prune"] and not aware and not method["distill"]:
        log_once(metrics / "curves", {f"val_{head}": figures[f"float_{head}"]})  # the curves dvc.yaml declares
    write_json(out / "model.json", info)
    write_json(out / "config.json", config)
    return figures


def _fresh_student(config: dict, task: Any) -> Any:
    """A distilled entry's student as stage det_train started its base: built after the same seed,
    from the profile's starting weights (the backbone of det_pretrain), so that the teacher is the
    only difference from the base's training."""
    import paddle

    from stages.train import initialise

    paddle.seed(config["seed"])
    model = task.models.build(config["arch"])
    initialise(model, config["run"].get("weights"))
    return model


def recalibrate(model: Any, data: Any, batch_size: int, batches: int | None = None) -> None:
    """Re-estimate ``model``'s batch-norm statistics after pruning, as the classification stage
    does: their exact mean over the first ``batches`` (all when None) prediction batches of
    ``data``, whole images. Only the batch norms are in train mode, so the forward is the prediction
    path and needs no targets. Why: with stale statistics the pruned YOLOv3s scored 0.0 box AP
    before fine-tuning and every sensitivity candidate scored near zero."""
    import paddle

    from stages.zoo.cls.fit import _batch_norms  # private there; public when fit.py next changes

    norms = _batch_norms(model)
    saved = [m._momentum for m in norms]
    model.eval()
    with paddle.no_grad():
        for k, (_, x) in enumerate(data.batches(batch_size)):
            if k == batches:
                break
            for m in norms:
                m.train()
                m._momentum = k / (k + 1)  # running = k/(k+1) * running + 1/(k+1) * batch
            model(paddle.to_tensor(x))
    for m, momentum in zip(norms, saved):
        m._momentum = momentum
    model.eval()


def _scorer(score: Callable[[], float], model: Any, probe: Any, batch_size: int) -> Callable[[], float]:
    """``score`` of a pruning candidate after :func:`recalibrate` on ``probe``, with the batch-norm
    statistics put back after it (the pruner restores only the tensors it pruned)."""

    def scored() -> float:
        state = model.state_dict()  # references to the live tensors
        saved = {k: v.numpy() for k, v in state.items() if k.endswith(("_mean", "_variance"))}
        recalibrate(model, probe, batch_size)
        found = score()
        for key, value in saved.items():
            state[key].set_value(value)
        return found

    return scored


def main(argv: list[str] | None = None) -> int:
    """Compress one segmentation or detection entry; outputs appear only when it finished.

    Returns:
        0 on success, 1 on a bad config, input folder or dataset (one line on stderr).
    """
    args, config = compress_stage.parse(argv, __doc__, teacher=True)
    problem = _check(config, args.base, args.teacher)
    if not problem:  # after the check: paddle's import warning would precede its one line
        runtime.shim_leaky_relu()  # the int8 program as the export stage writes the fp32 one (dense_export)
    return compress_stage.run(
        args, config, problem, lambda out, metrics: compress(config, args.base, out, metrics, args.teacher),
        lambda f: " ".join(f"{k} {v:.2f}" for k, v in f.items()
                           if k.startswith(("base_", "teacher_", "float_", "qat_"))))


def _check(config: dict, base: Path, teacher: Path | None) -> str | None:
    """Why this stage cannot run ``config`` from ``base`` (and ``teacher``), or None."""
    from stages.zoo.tasks import PACKAGES, package

    method, prune = config["method"], config["method"]["prune"]
    if config["task"] not in PACKAGES or config["base"] is None:
        return f"key 'task': this stage compresses {', '.join(PACKAGES)} entries made from a base"
    if method["nas"]:
        return "key 'method': this stage prunes, quantizes and distills; not built: search"
    distill = method["distill"]
    if distill and (config["arch"]["name"] != "YOLOv3" or distill["strategy"] not in ("l2", "fine_grained")):
        return "key 'method.distill': built here: the l2 and fine_grained distillation of YOLOv3 detectors"
    if distill and teacher is None:
        return "key 'method.distill.teacher': --teacher (the teacher entry's train output) is required"
    if teacher is not None and not distill:
        return "--teacher: the entry is not distilled"
    if prune and (prune["strategy"] == "auto" or (prune["params"] and not prune["ratios"]
                                                  and prune["strategy"] != "sensitive")):
        return "key 'method.prune.strategy': built here: uniform, sensitive and fixed ratios (not auto)"
    quant, models = method["quant"], package(config["task"]).models
    known = getattr(models, "NOT_QUANT", {})  # the seeds' ppdet 1.x layer names -> ppdet 2.x sublayers
    unknown = [p for p in (quant["not_quant_pattern"] if quant and quant["kind"] == "aware" else []) if p not in known]
    if unknown:
        return (f"key 'method.quant.not_quant_pattern': {unknown[0]!r} is not a layer this stage can leave in "
                f"float (known: {', '.join(known) or 'none'})")
    missing = next(filter(None, (models.missing(folder) for folder in (base, teacher) if folder)), None)
    return f"{missing}: missing (expected the train stage's output)" if missing else None


if __name__ == "__main__":
    sys.exit(main())
