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


def _batch_norms(model: Any) -> list:
    import paddle

    # PaddleClas builds with the legacy paddle.nn.BatchNorm, which is not a _BatchNormBase
    kinds = (paddle.nn.layer.norm._BatchNormBase, paddle.nn.BatchNorm)
    return [m for m in model.sublayers() if isinstance(m, kinds)]


def shift_batch_norms(model: Any, shift: float | None) -> int:
    """Start every batch-norm shift (beta) but the last at ``shift`` (nothing when None); returns how many.

    Why: at initialisation the gradients of a deep plain BN+ReLU net grow ~1.5x per layer towards
    the input (Yang et al., ICLR 2019), 100-400x the head's in MobileNetV1, and the from-scratch tiny
    profile's few hundred steps learned nothing (MobileNets, ShuffleNet, ResNet50 near chance). With
    beta 2 the ReLUs start almost linear and the early gradients are the head's order.
    The last batch norm in layer order stays at 0. In the light nets it feeds the pool and classifier:
    shifted, its features share a mean of ~``shift``, so each optimizer step moves every logit by
    ~features x shift x lr (MobileNetV2's 1280 features: ~7.7 at lr 0.003) and the head never settles.
    Probes of 2026-12-07 (10 epochs at lr 0.003), top-1 shifted everywhere -> last one unshifted:
    MobileNetV2 17 -> 61, MobileNetV1 71 -> 80, ShuffleNetV2 67 -> 75, MobileNetV3_large 66 -> 75;
    HRNet_W18_C (2 epochs) 13 -> 68; ResNet18 78 -> 79. In bottleneck ResNets it is the last residual
    branch's, before the add; at full width leaving it unshifted cost ResNet50 4 points, narrowed to
    x0.25 (:func:`.models.narrow`) nothing (2 epochs: 70.2 shifted, 70.7 not).
    Published weights overwrite it, so only training from scratch sees it.
    """
    import paddle

    norms = [] if shift is None else [m for m in _batch_norms(model)[:-1] if m.bias is not None]
    for m in norms:
        m.bias.set_value(paddle.full_like(m.bias, shift))
    return len(norms)


def recalibrate_bn(model: Any, data: ImageSet, batches: int, batch_size: int, rng: np.random.Generator) -> None:
    """Re-estimate batch-norm statistics as the exact mean over ``batches`` train-mode forwards.

    After a short schedule the running averages lag the weights (eval accuracy fell to chance
    without this, see ../shared/STACK.md); a cumulative average over fresh batches fixes them.
    """
    import paddle

    norms = _batch_norms(model)
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


def schedule(kind: str, lr: float, epochs: int, steps_per_epoch: int, warmup_epochs: float = 0.0):
    """Paddle LR schedule: ``piecewise`` (x0.1 at 1/3 and 2/3 of training) or ``cosine``, after a
    linear warm-up from lr/10 over ``warmup_epochs``."""
    import paddle

    total = max(1, epochs * steps_per_epoch)
    if kind == "cosine":
        sched = paddle.optimizer.lr.CosineAnnealingDecay(lr, T_max=total)
    else:
        bounds = [max(1, total // 3), max(2, 2 * total // 3)]
        sched = paddle.optimizer.lr.PiecewiseDecay(bounds, [lr, lr * 0.1, lr * 0.01])
    warmup = int(warmup_epochs * steps_per_epoch)
    return paddle.optimizer.lr.LinearWarmup(sched, warmup, lr / 10, lr) if warmup else sched


def optimizer(kind: str, sched, parameters, weight_decay: float):
    """``momentum`` (SGD 0.9, L2 decay, PaddleClas' ImageNet recipe) or ``adamw`` (decoupled decay)."""
    import paddle

    if kind == "adamw":
        return paddle.optimizer.AdamW(sched, parameters=parameters, weight_decay=weight_decay)
    return paddle.optimizer.Momentum(sched, momentum=0.9, parameters=parameters,
                                     weight_decay=paddle.regularizer.L2Decay(weight_decay))


def fit(model: Any, train: ImageSet, val: ImageSet, run: dict[str, Any], kind: str, rng: np.random.Generator,
        log: Optional[Log] = None, loss_fn: Optional[Callable] = None, shift: int = 2) -> dict[str, float]:
    """Train; after each epoch evaluate on ``val`` and ``log`` the figures. Under
    ``paddle.distributed.launch`` each process takes its share of every batch (stages/zoo/distributed.py;
    a last batch smaller than the process count is left out) and rank 0 alone shows the bar.

    Args:
        run: The profile's run settings (epochs, lr, batch_size, optimizer, warmup_epochs).
        kind: LR schedule, ``piecewise`` or ``cosine``.
        loss_fn: ``(model, x, y) -> loss``; default cross-entropy (distillation passes its own).

    Returns:
        The last epoch's figures.
    """
    import paddle
    from tqdm import tqdm

    from .. import distributed

    net, (rank, size) = distributed.wrap(model), distributed.rank_and_size()
    epochs, batch_size = run["epochs"], run["batch_size"]
    steps = -(-len(train) // batch_size)
    sched = schedule(kind, run["lr"], epochs, steps, run.get("warmup_epochs") or 0.0)
    adamw = run.get("optimizer") == "adamw"
    opt = optimizer(run.get("optimizer") or "momentum", sched, model.parameters(), 1e-4 if adamw else 4e-5)
    loss_fn = loss_fn or (lambda m, x, y: paddle.nn.functional.cross_entropy(m(x), y))
    figures: dict[str, float] = {}
    for epoch in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for x, y in tqdm(train.batches(batch_size, rng, shift), total=steps, desc=f"epoch {epoch + 1}/{epochs}",
                         leave=False, mininterval=2.0, disable=rank > 0):
            if len(y) < size:  # a rank would get no images
                continue
            n, (x, y) = len(y), distributed.shard((x, y))
            loss = loss_fn(net, paddle.to_tensor(x), paddle.to_tensor(y))
            loss.backward()
            opt.step()
            opt.clear_grad()
            sched.step()
            total, seen = total + distributed.mean(float(loss)) * n, seen + n
        recalibrate_bn(model, train, batches=8, batch_size=batch_size, rng=rng)
        figures = {"epoch": epoch + 1, "train_loss": total / seen, "lr": float(sched.get_lr()),
                   **{f"val_{k}": v for k, v in evaluate(model, val).items()}}
        if log:
            log(figures)
    return figures


def fit_logged(model: Any, train: ImageSet, val: ImageSet, run: dict[str, Any], kind: str, rng: np.random.Generator,
               metrics: Any, loss_fn: Optional[Callable] = None) -> dict[str, float]:
    """:func:`fit`, logging every epoch's figures with dvclive into the folder ``metrics``
    (``dvc plots show`` draws them)."""
    from dvclive import Live

    from .. import distributed

    if distributed.rank_and_size()[0]:  # rank 0 alone logs
        return fit(model, train, val, run, kind, rng, None, loss_fn)
    with Live(dir=str(metrics), save_dvc_exp=False, dvcyaml=None) as live:
        def log(figures: dict) -> None:
            for key, value in figures.items():
                if key != "epoch":
                    live.log_metric(key, value)
            live.next_step()
            print(" ".join(f"{k} {v:.4g}" for k, v in figures.items()))

        return fit(model, train, val, run, kind, rng, log, loss_fn)


def log_once(metrics: Any, figures: dict[str, float]) -> None:
    """Log ``figures`` as a single dvclive step into the folder ``metrics``."""
    from dvclive import Live

    with Live(dir=str(metrics), save_dvc_exp=False, dvcyaml=None) as live:
        for key, value in figures.items():
            live.log_metric(key, value)


def schedule_kind(config: dict[str, Any]) -> str:
    """The LR schedule of a resolved config: the profile's, else the recipe's, else piecewise."""
    return config["run"].get("lr_schedule") or config["train"].get("lr_schedule") or "piecewise"
