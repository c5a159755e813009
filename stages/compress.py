"""Stages `compress@<entry>` and `distill@<entry>`: a compressed classifier made from its base with PaddleSlim.

    python -m stages.compress --config models/ENTRY/config.json --base models/BASE/model \
        [--teacher models/TEACHER/model] --out models/ENTRY/model --metrics metrics/ENTRY/compress

The entry's method runs in the order prune -> distill -> quantize:

- prune: ``uniform`` (one ratio, found for the FLOPs target), ``sensitive`` (PaddleSlim's sensitivity
  analysis, written to ``--metrics``/sensitivity.json, and the ratios it gives for the target),
  ``auto`` (ratios searched by simulated annealing, the trace in search.json) or ``fixed`` ratios;
  with the ``l1_norm`` or FPGM (``geometry_median``) criterion, every candidate scored after
  re-estimating the batch-norm statistics; then that re-estimation and fine-tuning;
- distill: without pruning the student is trained from scratch as its base was, from the base's own
  initialisation, plus the teacher's loss (so it differs from the base by that loss alone); after
  pruning it is the fine-tuning loss;
- quantize: ``post`` (quant_post, calibrated on the train split) or ``aware`` (QAT fine-tuning); the
  Paddle int8 model goes to ``--out``/int8 (the export stage adds its ONNX int8 twin).

``--out`` gets model.json / model.pdparams (the float model: pruned ratios recorded in model.json so
the export and benchmark stages rebuild it) and config.json; ``--metrics`` gets compress.json with
provenance and, when the method trains, the dvclive curves.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

from stages.zoo import runtime
from stages.zoo.io import staged_dirs, write_json

SEARCH_IMAGES = 500  # train images scoring a pruning candidate (sensitivity, auto search)
RECALIBRATE_BATCHES = 8  # train batches re-estimating batch-norm statistics after pruning (as fit does)


def prune_by_spec(model: Any, spec: dict, config: dict, score, metrics: Path,
                  weights: list[str] | None = None) -> dict:
    """Prune ``model`` in place as ``spec`` says; returns the figures (``ratios`` among them).

    Args:
        weights: The parameter names that ``spec["params"]`` lists, in this model (ratios and
            sensitivities go to them in order); None: every ordinary convolution.
    """
    from stages.zoo.compress import prune

    size, criterion, target = config["arch"]["input"], spec["criterion"], spec["target_flops_reduction"]
    strategy, names = spec["strategy"], weights or prune.prunable(model)
    if spec["ratios"]:  # the entry's own ratios (fixed, or a published sensitivity analysis'), in order
        return prune.prune_ratios(model, size, dict(zip(names, spec["ratios"])), criterion)
    if weights and strategy in ("uniform", "auto"):
        raise ValueError(f"{strategy} pruning of a parameter list is not built")
    if strategy == "uniform":
        return prune.prune_uniform(model, size, ratio=spec["ratio"], target=None if spec["ratio"] else target,
                                   criterion=criterion)
    if strategy == "sensitive":
        found = prune.sensitivities(model, size, score, criterion, names=names)
        write_json(metrics / "sensitivity.json", found)
        return prune.prune_sensitive(model, size, found, target, criterion)
    search = prune.search_ratios(model, size, score, target, config["run"]["search_iters"], criterion,
                                 config["seed"])
    write_json(metrics / "search.json", {"trace": search["trace"]})
    return prune.prune_ratios(model, size, search["ratios"], criterion)


def recalibrate(model: Any, train: Any, config: dict) -> None:
    """Re-estimate ``model``'s batch-norm statistics after pruning: each pruned filter leaves the
    next layers' running means stale (every pruned MobileNetV1 scored chance, 10%, before this)."""
    import numpy as np

    from stages.zoo.cls import fit

    fit.recalibrate_bn(model, train, RECALIBRATE_BATCHES, config["run"]["batch_size"],
                       np.random.default_rng(config["seed"] + 2))  # the same batches for every candidate


def pruned_score(model: Any, train: Any, probe: Any, config: dict) -> Callable[[], float]:
    """Scorer of a pruning candidate (sensitivity analysis, auto search): top-1 on ``probe`` after
    :func:`recalibrate`, with the batch-norm statistics put back after it, as the pruner restores
    only the tensors it pruned. Without recalibration every candidate scored near chance, so the
    sensitivities measured noise."""
    from stages.zoo.cls import fit

    def score() -> float:
        state = model.state_dict()  # references to the live tensors
        saved = {k: v.numpy() for k, v in state.items() if k.endswith(("_mean", "_variance"))}
        recalibrate(model, train, config)
        top1 = fit.evaluate(model, probe)["top1"]
        for key, value in saved.items():
            state[key].set_value(value)
        return top1

    return score


def fresh_student(config: dict) -> tuple[Any, list]:
    """The entry's model initialised exactly as stage train initialised its base (same seed, built
    first, same batch-norm shift), and paddle's random state after it: so a student distilled from
    scratch differs from its base by the teacher's loss alone (weight 0 gives the base back)."""
    import paddle

    from stages.zoo.cls import fit, models

    model = models.build(config["arch"])
    fit.shift_batch_norms(model, config["run"].get("bn_shift"))
    return model, paddle.get_rng_state()


def compress(config: dict, base: Path, teacher: Path | None, out: Path, metrics: Path) -> dict:
    """Apply the entry's method to its base and write the outputs; returns compress.json's figures."""
    import numpy as np
    import paddle

    from stages.zoo.cls import data, fit, models
    from stages.zoo.compress import distill, qat
    from stages.zoo.compress.ptq import quant_post_model

    run, method = config["run"], config["method"]
    paddle.seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    train, val = data.split(config, "train"), data.split(config, "val")
    probe = train.subset(SEARCH_IMAGES, config["seed"] + 1)
    student = fresh_student(config) if method["distill"] and not method["prune"] else None
    model, info = models.load(base)
    figures: dict[str, Any] = {"base_top1": fit.evaluate(model, val)["top1"]}
    epochs = 0
    if student:
        (model, state), epochs = student, run["epochs"]  # the base's schedule
    if method["prune"]:
        done = prune_by_spec(model, method["prune"], config, pruned_score(model, train, probe, config), metrics)
        info["pruned"] = done["ratios"]
        figures.update({k: v for k, v in done.items() if k != "ratios"})
        recalibrate(model, train, config)
        figures["pruned_top1_before_finetune"] = fit.evaluate(model, val)["top1"]
        epochs = run["finetune_epochs"]
    loss_fn = None
    if method["distill"]:
        spec = method["distill"]
        loss_fn = distill.loss_fn(models.load(teacher)[0], spec["strategy"], spec["temperature"], spec["weight"])
    if student:
        paddle.set_rng_state(state)  # dropout as in the base's training, whatever loading the models drew
    if epochs:
        lr = run["lr"] if method["distill"] and not method["prune"] else run["finetune_lr"]
        fit.fit_logged(model, train, val, {**run, "epochs": epochs, "lr": lr}, fit.schedule_kind(config), rng,
                       metrics / "curves", loss_fn)
    figures["float_top1"] = fit.evaluate(model, val)["top1"]
    if not epochs:  # one point, so that every compressed entry has the curves dvc.yaml declares
        fit.log_once(metrics / "curves", {"val_top1": figures["float_top1"]})
    paddle.save(model.state_dict(), str(out / "model.pdparams"))  # the float model, before quantization
    quant = method["quant"]
    if quant:
        (out / "int8").mkdir()
        if quant["kind"] == "post":
            quant_post_model(model, quant, lambda: (x for x, _ in train.batches(run["batch_size"])),
                             run["calib_batches"], out / "int8")
        else:
            quanter = qat.prepare(model, quant["weight_bits"], quant["activation_bits"])
            fit.fit_logged(model, train, val, {**run, "epochs": run["finetune_epochs"], "lr": run["finetune_lr"],
                                               "warmup_epochs": 0.0}, "cosine", rng, metrics / "curves")
            figures["qat_top1"] = fit.evaluate(model, val)["top1"]
            qat.save_int8(quanter, model, out / "int8")
    write_json(out / "model.json", info)
    write_json(out / "config.json", config)
    return figures


def parse(argv: list[str] | None, doc: str, teacher: bool = False) -> tuple[argparse.Namespace, dict]:
    """The command line of a compress stage (``--teacher`` too when asked) and its resolved config;
    sets the process up for the config's thread count."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="resolved config (stage resolve)")
    parser.add_argument("--base", type=Path, required=True, help="the base entry's train output")
    if teacher:
        parser.add_argument("--teacher", type=Path, help="the teacher entry's train output (distillation)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the compressed model")
    parser.add_argument("--metrics", type=Path, required=True, help="folder for compress.json and curves")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text(encoding="utf-8"))
    runtime.setup(config["threads"])
    return args, config


def run(args: argparse.Namespace, config: dict, problem: str | None, work: Callable[[Path, Path], dict],
        shown: Callable[[dict], str]) -> int:
    """Run ``work(out, metrics)`` into staging folders and write compress.json with provenance.

    Args:
        problem: Why the config cannot run here (printed as one line, nothing written), or None.
        shown: The figures' summary for the closing line.

    Returns:
        0 on success, 1 on ``problem`` or a bad dataset (one line on stderr).
    """
    from stages.zoo.datasets import DatasetError
    from stages.zoo.provenance import provenance

    where = f"{args.config}: entry '{config['name']}'"
    if problem:
        print(f"{where}: {problem}", file=sys.stderr)
        return 1
    start = time.perf_counter()
    try:
        with staged_dirs(args.out, args.metrics) as (out, metrics):
            figures = work(out, metrics)
            figures.update(seconds=round(time.perf_counter() - start, 1), **provenance(config["threads"]))
            write_json(metrics / "compress.json", figures)
    except DatasetError as err:
        print(f"{where}: {err}", file=sys.stderr)
        return 1
    print(f"compressed {config['name']}: {shown(figures)} in {figures['seconds']} s -> {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Compress one entry; outputs appear only when it finished (see :func:`run`)."""
    args, config = parse(argv, __doc__, teacher=True)
    return run(args, config, _check(config, args),
               lambda out, metrics: compress(config, args.base, args.teacher, out, metrics),
               lambda f: f"float top1 {f['float_top1']:.2f} (base {f['base_top1']:.2f})")


def _check(config: dict, args: argparse.Namespace) -> str | None:
    """Why this stage cannot run ``config`` with these folders, or None."""
    method = config["method"]
    if config["task"] != "classification" or config["base"] is None or method["nas"]:
        return "key 'method': the compress stage makes pruned, distilled and quantized classifiers from a base"
    if bool(method["distill"]) != (args.teacher is not None):
        return "key 'method.distill': give --teacher exactly for a distilled entry"
    from stages.zoo.cls import models

    for folder in [args.base] + ([args.teacher] if args.teacher else []):
        if models.missing(folder):
            return f"{models.missing(folder)}: missing (expected the train stage's output)"
    return None


if __name__ == "__main__":
    sys.exit(main())
