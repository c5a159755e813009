"""Knowledge distillation losses for classifiers: soft labels (Hinton et al.) and logit L2.

Written here rather than with ``paddleslim.dygraph.dist.Distill``: that wrapper only works with
``convert_fn=False`` on paddle 3 (its default patches paddle's functional API globally,
../shared/STACK.md), and a loss on the two models' logits is all the classification recipes need.
"""

from __future__ import annotations

from typing import Any, Callable


def soft_label(student: Any, teacher: Any, temperature: float) -> Any:
    """KL(teacher || student) of the temperature-softened distributions, times T² (batch mean)."""
    import paddle.nn.functional as F

    t = F.softmax(teacher / temperature, axis=-1)
    log_s = F.log_softmax(student / temperature, axis=-1)
    log_t = F.log_softmax(teacher / temperature, axis=-1)
    return (t * (log_t - log_s)).sum(axis=-1).mean() * temperature ** 2


def l2(student: Any, teacher: Any) -> Any:
    """Mean squared difference of the logits."""
    return ((student - teacher) ** 2).mean()


def loss_fn(teacher: Any, strategy: str, temperature: float, weight: float) -> Callable[[Any, Any, Any], Any]:
    """``(student, x, y) -> loss``: cross-entropy on the labels plus ``weight`` x the distillation term.

    The teacher runs in eval mode without gradients.
    """
    import paddle
    import paddle.nn.functional as F

    teacher.eval()

    def loss(student: Any, x: Any, y: Any) -> Any:
        with paddle.no_grad():
            target = teacher(x)
        logits = student(x)
        term = soft_label(logits, target, temperature) if strategy == "soft_label" else l2(logits, target)
        return F.cross_entropy(logits, y) + weight * term

    return loss
