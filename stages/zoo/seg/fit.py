"""Training loop of a segmenter (dygraph, CPU or GPU): pixel cross-entropy averaged over labelled
pixels, the classification slice's schedules and optimizers; the loss logged per epoch with dvclive.

The loss is paddle's own ``cross_entropy`` with ``ignore_index``: PaddleSeg 2.8's CrossEntropyLoss
computes the same mean (``avg_non_ignore``) but fails on paddle 3.3.1 (it multiplies a float mask by
an int64 tensor, which paddle 3 no longer promotes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..cls.fit import optimizer, schedule
from .data import SegSet


def fit(model: Any, train: SegSet, run: dict[str, Any], kind: str, rng: np.random.Generator,
        metrics: Path) -> list[float]:
    """Train ``model`` for ``run["epochs"]`` on random ``run["input"]`` crops; returns each epoch's mean loss."""
    import paddle
    from dvclive import Live

    batch, epochs = run["batch_size"], run["epochs"]
    steps = max(1, len(train) // batch)
    sched = schedule(kind, run["lr"], epochs, steps, run.get("warmup_epochs") or 0.0)
    opt = optimizer(run.get("optimizer") or "momentum", sched, model.parameters(), 4e-5)
    losses = []
    with Live(dir=str(metrics), save_dvc_exp=False, dvcyaml=None) as live:
        for epoch in range(1, epochs + 1):
            model.train()
            total = []
            for x, y in tqdm(train.crops(batch, run["input"], rng), total=steps, desc=f"epoch {epoch}/{epochs}",
                             leave=False):
                loss = paddle.nn.functional.cross_entropy(model(paddle.to_tensor(x))[0], paddle.to_tensor(y),
                                                          ignore_index=train.ignore, axis=1)
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
