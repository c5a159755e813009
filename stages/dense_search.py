"""Stage `face_search@<entry>`: a face detector found by NAS in BlazeFace's search space, then trained.

    python -m stages.dense_search --config models/ENTRY/config.json --base models/BASE/model \
        --out models/ENTRY/model --metrics metrics/ENTRY/search

``method.nas``: PaddleSlim's simulated-annealing controller (the one the classification search uses,
stages/zoo/cls/nas.py) walks the space's tokens (stages/zoo/face/nas.py) from its initial ones
(BlazeFace-NAS), keeping candidates that cut the parameters (``target_params_reduction``) or FLOPs
(``target_flops_reduction``) of the base entry's network (``--base``, the original BlazeFace) by the
target, at the profile's input. Each candidate trains for ``search_steps`` steps on part of the train split
and is scored (AP at IoU 0.5 of every face) on another part, never on val. With ``use_tokens`` the
declared (published) tokens are trained instead, without a search.

The chosen network then trains on the entry's schedule as stage face_train trains a baseline: ``--out``
gets model.pdparams, model.json (with the tokens, so export and benchmark rebuild it) and config.json;
``--metrics`` the curves, train.json and search.json (the trace, the chosen and the published tokens).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stages.zoo import runtime
from stages.zoo.io import staged_dirs, write_json

SCORE_IMAGES = 200  # train images that score a candidate (held apart from those it trains on)


def _constraint(nas: dict, arch: dict, base: dict) -> tuple[Any, dict]:
    """``tokens -> (fits, reduction)`` against the base entry's network (its model.json ``base``)."""
    from stages.zoo.bench import model_stats
    from stages.zoo.face import models

    key, target = ("params", nas["target_params_reduction"]) if nas.get("target_params_reduction") is not None \
        else ("macs", nas.get("target_flops_reduction") or 0.0)
    reference = model_stats(models.build(base), arch["input"])[key]

    def fits(tokens: list[int]) -> tuple[bool, float]:
        reduction = 1 - model_stats(models.build({**arch, "tokens": tokens}), arch["input"])[key] / reference
        return reduction >= target, reduction

    return fits, {"constraint": f"{key}_reduction", "target": target}


def _scorer(config: dict, train_set: Any):
    """``tokens -> AP`` of the candidate after ``search_steps`` training steps: IoU 0.5 over every face of a
    held-out part of the train split (train records have no Easy/Medium/Hard lists; those are val's)."""
    import tempfile

    import numpy as np
    import paddle

    from stages.zoo import dense
    from stages.zoo.cls.fit import schedule_kind
    from stages.zoo.face import evaluate, fit, models
    from stages.zoo.metrics.voc import voc_map

    run, arch, seed = config["run"], config["arch"], config["seed"]
    score_set, rest = train_set.partition(min(SCORE_IMAGES, len(train_set) // 2), seed)
    fit_set, _ = rest.partition(min(len(rest), run["batch_size"] * run["search_steps"]), seed)
    # as many passes over the fit part as make search_steps steps; BlazeFace collapses to constant outputs
    # without a warm-up (params/defaults/face_detection.yaml)
    passes = max(1, round(run["search_steps"] / max(1, len(fit_set) // run["batch_size"])))
    short = {**run, "epochs": passes, "warmup_epochs": 0.25}

    def score(tokens: list[int]) -> float:
        paddle.seed(seed)
        candidate = {**arch, "tokens": tokens}
        model = models.build(candidate)
        with tempfile.TemporaryDirectory() as curves:  # a candidate's curves are not kept
            fit.fit(model, fit_set, short, schedule_kind(config), models.describe(candidate),
                    np.random.default_rng(seed), Path(curves))
        found = evaluate.predict(dense.runner(model), score_set, models.describe(candidate))
        return voc_map(score_set.dataset.samples, found, 1, map_type="integral")

    return score


def search(config: dict, base: Path, metrics: Path) -> list[int]:
    """The tokens to train: searched, or declared (``use_tokens``); writes search.json."""
    from stages.zoo.cls import nas as controller
    from stages.zoo.face import nas
    from stages.zoo.tasks import package

    method = config["method"]["nas"]
    if method.get("use_tokens"):
        write_json(metrics / "search.json", {"tokens": method["tokens"], "searched": False})
        return list(method["tokens"])
    nas.register()
    info = json.loads((base / "model.json").read_text(encoding="utf-8"))
    fits, constraint = _constraint(method, config["arch"], info)
    train_set = package(config["task"]).data.split(config, "train")
    found = controller.search(nas.NAME, _scorer(config, train_set), fits, config["run"]["search_iters"],
                              config["seed"])
    write_json(metrics / "search.json", {"searched": True, **constraint, "tokens": found["tokens"],
                                         "published_tokens": method.get("tokens"), "trace": found["trace"]})
    return found["tokens"]


def main(argv: list[str] | None = None) -> int:
    """Search (or take) the tokens and train the network; outputs appear only when all is done.

    Returns:
        0 on success, 1 on a bad config, base folder or dataset (one line on stderr).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="resolved config (stage resolve)")
    parser.add_argument("--base", type=Path, required=True, help="the base entry's train stage folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the weights")
    parser.add_argument("--metrics", type=Path, required=True, help="folder for the search trace and curves")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text(encoding="utf-8"))
    runtime.setup(config["threads"])
    from stages.dense_train import train
    from stages.zoo.datasets import DatasetError
    from stages.zoo.face import measure, nas as space

    nas = (config.get("method") or {}).get("nas")
    if config["task"] != "face_detection" or nas is None or nas["search_space"] != space.NAME:
        print(f"{args.config}: entry '{config['name']}': key 'method.nas.search_space': this stage searches "
              f"face_detection entries in {space.NAME}", file=sys.stderr)
        return 1
    if not (args.base / "model.json").is_file():
        print(f"{args.base / 'model.json'}: missing (expected the base entry's train stage output)", file=sys.stderr)
        return 1
    try:
        with staged_dirs(args.out, args.metrics) as (out, metrics):
            tokens = search(config, args.base, metrics)
            figures = train({**config, "arch": {**config["arch"], "tokens": tokens}}, out, metrics)
    except (DatasetError, ValueError) as err:
        print(f"{args.config}: entry '{config['name']}': {err}", file=sys.stderr)
        return 1
    shown = " ".join(f"{k} {figures[k]:.2f}" for k in measure.HEADLINE)
    print(f"searched {config['name']}: tokens {tokens}, {shown} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
