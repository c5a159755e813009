"""Stage `search@<entry>`: an entry found by NAS, searched with PaddleSlim's SANAS and trained.

    python -m stages.search --config models/ENTRY/config.json --out models/ENTRY/model \
        --metrics metrics/ENTRY/search

- A search-space architecture without a NAS method (``DARTS``) is the space's network at its
  initial tokens, trained as a baseline.
- ``method.nas``: PaddleSlim's simulated-annealing controller searches the space's tokens, from its
  initial ones (the space's reference network), keeping candidates that cut FLOPs or parameters by
  the target; each candidate is trained for ``search_steps`` steps on part of the train split and
  scored on another part (never on val). The trace and the chosen tokens go to ``--metrics``/search.json.
  With ``use_tokens`` the declared (published) tokens are trained instead, without a search.

The chosen network is then trained with the entry's schedule, as the train stage does: ``--out`` gets
model.json (its tokens recorded, so export and benchmark rebuild it), model.pdparams and config.json;
``--metrics`` gets the curves and search.json / train.json.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from stages.train import parse, train
from stages.zoo.io import staged_dirs, write_json

SCORE_IMAGES = 500  # train images that score a candidate (held apart from those it trains on)


def _constraint(nas: dict, arch: dict):
    """``tokens -> (fits, reduction)`` against the space's initial network, at the profile's input."""
    from stages.zoo.cls import nas as spaces
    from stages.zoo.bench import model_stats

    space, size = nas["search_space"], arch["input"]
    key, target = ("params", nas["target_params_reduction"]) if nas.get("target_params_reduction") is not None \
        else ("macs", nas.get("target_flops_reduction") or 0.0)

    def count(tokens):
        return model_stats(spaces.build(space, tokens, arch.get("scale") or 1.0, arch["classes"]), size)[key]

    reference = count(None)

    def fits(tokens) -> tuple[bool, float]:
        reduction = 1 - count(tokens) / reference
        return reduction >= target, reduction

    return fits, {"constraint": f"{key}_reduction", "target": target}


def _scorer(config: dict, train_set):
    """``tokens -> top-1`` after a short training of the candidate (the search's reward)."""
    import numpy as np
    import paddle

    from stages.zoo.cls import fit, nas

    run, arch, space = config["run"], config["arch"], config["method"]["nas"]["search_space"]
    score_set, rest = train_set.partition(min(SCORE_IMAGES, len(train_set) // 2), config["seed"])
    fit_set = rest.subset(run["batch_size"] * run["search_steps"], config["seed"])
    short = {**run, "epochs": 1, "warmup_epochs": 0.0}

    def score(tokens) -> float:
        paddle.seed(config["seed"])
        model = nas.build(space, tokens, arch.get("scale") or 1.0, arch["classes"])
        fit.shift_batch_norms(model, run.get("bn_shift"))  # as the chosen network will be trained
        fit.fit(model, fit_set, score_set, short, "cosine", np.random.default_rng(config["seed"]))
        return fit.evaluate(model, score_set)["top1"]

    return score


def search(config: dict, metrics: Path) -> list[int] | None:
    """The tokens to train: searched, declared (``use_tokens``), or None (the initial network)."""
    from stages.zoo.cls import data as cls_data
    from stages.zoo.cls import nas

    method = (config.get("method") or {}).get("nas")
    if method is None:  # search.json is a declared out of every search@ stage
        write_json(metrics / "search.json", {"tokens": None, "searched": False})
        return None
    if method.get("use_tokens"):
        write_json(metrics / "search.json", {"tokens": method["tokens"], "searched": False})
        return list(method["tokens"])
    fits, constraint = _constraint(method, config["arch"])
    found = nas.search(method["search_space"], _scorer(config, cls_data.split(config, "train")), fits,
                       config["run"]["search_iters"], config["seed"])
    write_json(metrics / "search.json", {"searched": True, **constraint, "tokens": found["tokens"],
                                         "published_tokens": method.get("tokens"), "trace": found["trace"]})
    return found["tokens"]


def main(argv: list[str] | None = None) -> int:
    """Search (or take) the tokens and train the network; outputs appear only when all is done.

    Returns:
        0 on success, 1 on a bad config or dataset (one line on stderr).
    """
    args, config = parse(argv, __doc__, "folder for the search trace and curves")
    from stages.zoo.datasets import DatasetError

    if config["task"] != "classification":
        print(f"{args.config}: entry '{config['name']}': key 'task': the search stage builds classification "
              "entries", file=sys.stderr)
        return 1
    try:
        with staged_dirs(args.out, args.metrics) as (out, metrics):
            tokens = search(config, metrics)
            figures = train(config, out, metrics, tokens)
    except (DatasetError, ValueError) as err:
        print(f"{args.config}: entry '{config['name']}': {err}", file=sys.stderr)
        return 1
    print(f"searched {config['name']}: tokens {tokens}, top1 {figures['top1']:.2f} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
