"""Training loop of a YOLOv3 detector (dygraph, CPU or GPU): ppdet's loss, the classification slice's
schedules and optimizers; the loss logged per epoch with dvclive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..cls.fit import optimizer, schedule
from .data import DetSet, yolo_targets


def fit(model: Any, train: DetSet, run: dict[str, Any], kind: str, info: dict[str, Any], rng: np.random.Generator,
        metrics: Path) -> list[float]:
    """Train ``model`` for ``run["epochs"]``; returns each epoch's mean loss.

    Args:
        run: The profile's run settings (epochs, lr, batch_size, optimizer, warmup_epochs).
        kind: LR schedule, ``piecewise`` or ``cosine``.
        info: The model's description (anchors, masks, strides, classes) for the targets.
        metrics: dvclive folder for the curves.
    """
    import paddle
    from dvclive import Live

    batch, epochs = run["batch_size"], run["epochs"]
    steps = max(1, len(train) // batch)
    sched = schedule(kind, run["lr"], epochs, steps, run.get("warmup_epochs") or 0.0)
    opt = optimizer(run.get("optimizer") or "momentum", sched, model.parameters(), 5e-4)
    losses = []
    with Live(dir=str(metrics), save_dvc_exp=False, dvcyaml=None) as live:
        for epoch in range(1, epochs + 1):
            model.train()
            order, total = rng.permutation(len(train)), []
            for k in tqdm(range(steps), desc=f"epoch {epoch}/{epochs}", leave=False):
                idx = order[k * batch:(k + 1) * batch]
                b = {key: paddle.to_tensor(v) for key, v in yolo_targets(train, idx, info).items()}
                loss = model(b["image"], b)["loss"]
                loss.backward()
                opt.step()
                opt.clear_grad()
                sched.step()
                total.append(float(loss))
            losses.append(float(np.mean(total)))
            live.log_metric("train_loss", losses[-1])
            live.log_metric("lr", float(opt.get_lr()))
            live.next_step()
            print(f"epoch {epoch} train_loss {losses[-1]:.4g} lr {opt.get_lr():.4g}")
    return losses
