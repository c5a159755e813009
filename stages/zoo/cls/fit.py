"""Training and evaluation loops for classifiers (dygraph, CPU or GPU)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from ..metrics.topk import topk_accuracy
from .data import ImageSet

Log = Callable[[dict[str, float]], None]


def predict(model: Any, data: ImageSet, batch_size: int = 256) -> np.ndarray:
    """Logits of every image, in order (eval mode, no gradients)."""
    import paddle

    model.eval()
    out = []
    with paddle.no_grad():
        for x, _ in data.batches(batch_size):
            out.append(model(paddle.to_tensor(x)).numpy())
    return np.concatenate(out)


def evaluate(model: Any, data: ImageSet, batch_size: int = 256) -> dict[str, float]:
    """Top-1 / Top-5 (%) of ``model`` on ``data``."""
    logits = predict(model, data, batch_size)
    return topk_accuracy(logits, data.labels, ks=(1, min(5, logits.shape[1])))


def recalibrate_bn(model: Any, data: ImageSet, batches: int, batch_size: int, rng: np.random.Generator) -> None:
    """Re-estimate batch-norm statistics as the exact mean over ``batches`` train-mode forwards.

    After a short schedule the running averages lag the weights (eval accuracy fell to chance
    without this, see ../shared/STACK.md); a cumulative average over fresh batches fixes them.
    """
    import paddle

    # PaddleClas builds with the legacy paddle.nn.BatchNorm, which is not a _BatchNormBase
    kinds = (paddle.nn.layer.norm._BatchNormBase, paddle.nn.BatchNorm)
    norms = [m for m in model.sublayers() if isinstance(m, kinds)]
    saved = [m._momentum for m in norms]
    model.train()
    with paddle.no_grad():
        for k, (x, _) in enumerate(data.batches(batch_size, rng)):
            if k == batches:
                break
            for m in norms:
                m._momentum = k / (k + 1)  # running = k/(k+1) * running + 1/(k+1) * batch
            model(paddle.to_tensor(x))
    for m, momentum in zip(norms, saved):
        m._momentum = momentum


def schedule(kind: str, lr: float, epochs: int, steps_per_epoch: int):
    """Paddle LR schedule: ``piecewise`` (x0.1 at 1/3 and 2/3 of training) or ``cosine``."""
    import paddle

    total = max(1, epochs * steps_per_epoch)
    if kind == "cosine":
        return paddle.optimizer.lr.CosineAnnealingDecay(lr, T_max=total)
    bounds = [max(1, total // 3), max(2, 2 * total // 3)]
    return paddle.optimizer.lr.PiecewiseDecay(bounds, [lr, lr * 0.1, lr * 0.01])


def fit(model: Any, train: ImageSet, val: ImageSet, epochs: int, lr: float, batch_size: int, kind: str,
        rng: np.random.Generator, log: Optional[Log] = None, loss_fn: Optional[Callable] = None,
        shift: int = 2, weight_decay: float = 4e-5) -> dict[str, float]:
    """Train with momentum SGD; after each epoch evaluate on ``val`` and ``log`` the figures.

    Args:
        loss_fn: ``(model, x, y) -> loss``; default cross-entropy (distillation passes its own).

    Returns:
        The last epoch's figures.
    """
    import paddle
    from tqdm import tqdm

    steps = -(-len(train) // batch_size)
    sched = schedule(kind, lr, epochs, steps)
    opt = paddle.optimizer.Momentum(sched, momentum=0.9, parameters=model.parameters(),
                                    weight_decay=paddle.regularizer.L2Decay(weight_decay))
    loss_fn = loss_fn or (lambda m, x, y: paddle.nn.functional.cross_entropy(m(x), y))
    figures: dict[str, float] = {}
    for epoch in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for x, y in tqdm(train.batches(batch_size, rng, shift), total=steps, desc=f"epoch {epoch + 1}/{epochs}",
                         leave=False, mininterval=2.0):
            loss = loss_fn(model, paddle.to_tensor(x), paddle.to_tensor(y))
            loss.backward()
            opt.step()
            opt.clear_grad()
            sched.step()
            total, seen = total + float(loss) * len(y), seen + len(y)
        recalibrate_bn(model, train, batches=8, batch_size=batch_size, rng=rng)
        figures = {"epoch": epoch + 1, "train_loss": total / seen, "lr": float(sched.get_lr()),
                   **{f"val_{k}": v for k, v in evaluate(model, val).items()}}
        if log:
            log(figures)
    return figures
