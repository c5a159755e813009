"""The epoch loop that the detection and segmentation trainers share: the classification slice's
schedules and optimizers, a progress bar per epoch, the mean loss logged per epoch with dvclive.

Each task supplies how an epoch's batches are drawn and what a batch's loss is (stages/zoo/det/fit.py,
stages/zoo/seg/fit.py). Under ``paddle.distributed.launch`` each process trains on its share of every
batch (stages/zoo/distributed.py) and rank 0 alone shows and logs the curve.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from tqdm import tqdm

from . import distributed
from .cls.fit import optimizer, schedule


def fit(model: Any, run: dict[str, Any], kind: str, steps: int, batches: Callable[[], Iterable[Any]],
        loss: Callable[[Any, Any], Any], metrics: Path, weight_decay: float) -> list[float]:
    """Train ``model`` for ``run["epochs"]`` epochs of ``steps`` batches; returns each epoch's mean loss.

    Args:
        run: The profile's run settings (epochs, lr, optimizer, warmup_epochs).
        kind: LR schedule, ``piecewise`` or ``cosine``.
        batches: A new epoch's batches (called once per epoch, ``steps`` of them).
        loss: The scalar loss tensor of ``model`` on one batch.
        metrics: dvclive folder for the curves.
        weight_decay: L2 (momentum) or decoupled (adamw) decay, as the task's recipe says.
    """
    from dvclive import Live

    epochs = run["epochs"]
    sched = schedule(kind, run["lr"], epochs, steps, run.get("warmup_epochs") or 0.0)
    opt = optimizer(run.get("optimizer") or "momentum", sched, model.parameters(), weight_decay)
    net, lead = distributed.wrap(model), distributed.rank_and_size()[0] == 0
    losses = []
    with Live(dir=str(metrics), save_dvc_exp=False, dvcyaml=None) if lead else contextlib.nullcontext() as live:
        for epoch in range(1, epochs + 1):
            model.train()
            total = []
            for batch in tqdm(batches(), total=steps, desc=f"epoch {epoch}/{epochs}", leave=False, disable=not lead):
                value = loss(net, distributed.shard(batch))
                value.backward()
                opt.step()
                opt.clear_grad()
                sched.step()
                total.append(distributed.mean(float(value)))
            losses.append(float(np.mean(total)))
            if lead:
                live.log_metric("train_loss", losses[-1])
                live.log_metric("lr", float(opt.get_lr()))
                live.next_step()
                print(f"epoch {epoch} train_loss {losses[-1]:.4g} lr {opt.get_lr():.4g}")
    return losses
