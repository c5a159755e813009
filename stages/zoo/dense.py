"""What the dense_* stages (detection and segmentation) share beyond the task packages: loading a model
folder that may hold a pruned model, and the runner and scores of a model in memory.

A compressed entry's folder (stage dense_compress) has the train stage's layout: model.json records
the per-weight ``pruned`` ratios, so the model is rebuilt, pruned by them, then loaded (the pruned
shapes depend on the ratios only). Kept out of the task packages, whose changes re-run training.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def load(task: SimpleNamespace, folder: Path) -> tuple[Any, dict[str, Any]]:
    """The model a train or compress stage folder holds, with its weights, and its model.json."""
    import paddle

    from .compress.prune import apply_ratios

    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    if not info.get("pruned"):
        return task.models.load(folder)
    model = task.models.build(info)
    apply_ratios(model, info["input"], info["pruned"])
    model.set_state_dict(paddle.load(str(folder / "model.pdparams")))
    return model, info


def runner(model: Any):
    """An NCHW batch -> the model's outputs as numpy (eval mode, no gradients)."""
    import paddle

    def run(x):
        with paddle.no_grad():
            return [o.numpy() for o in model(paddle.to_tensor(x))]

    model.eval()
    return run


def scores(task: SimpleNamespace, model: Any, data: Any, info: dict[str, Any]) -> dict[str, float]:
    """The task's val scores of ``model`` on ``data`` (leaves the model in eval mode)."""
    return task.evaluate.score(data, task.evaluate.predict(runner(model), data, info))
