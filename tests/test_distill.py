"""Distillation losses against values worked out by hand."""

from __future__ import annotations

import math

import pytest


def test_soft_label_known_values():
    import paddle

    from stages.zoo.compress.distill import soft_label

    student = paddle.to_tensor([[0.0, 0.0]])
    teacher = paddle.to_tensor([[math.log(3.0), 0.0]])  # softmax: 0.75, 0.25
    # T = 1: KL = 0.75 ln(0.75/0.5) + 0.25 ln(0.25/0.5)
    assert float(soft_label(student, teacher, 1.0)) == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5))
    # T = 2: teacher softens to sqrt(3) : 1; the KL is scaled back by T^2 = 4
    p = math.sqrt(3) / (math.sqrt(3) + 1)
    expected = 4 * (p * math.log(2 * p) + (1 - p) * math.log(2 * (1 - p)))
    assert float(soft_label(student, teacher, 2.0)) == pytest.approx(expected, rel=1e-5)
    assert float(soft_label(teacher, teacher, 3.0)) == pytest.approx(0.0, abs=1e-7)


def test_loss_adds_the_weighted_term_to_cross_entropy():
    import paddle
    import paddle.nn.functional as F

    from stages.zoo.compress.distill import loss_fn

    paddle.seed(0)
    student, teacher = paddle.nn.Linear(4, 3), paddle.nn.Linear(4, 3)
    x, y = paddle.randn([5, 4]), paddle.to_tensor([0, 1, 2, 0, 1])
    ce = float(F.cross_entropy(student(x), y))
    kl = float(((F.softmax(teacher(x) / 2) * (F.log_softmax(teacher(x) / 2) - F.log_softmax(student(x) / 2)))
                .sum(-1).mean()) * 4)
    assert float(loss_fn(teacher, "soft_label", 2.0, 0.5)(student, x, y)) == pytest.approx(ce + 0.5 * kl, rel=1e-5)
    l2 = float(((student(x) - teacher(x)) ** 2).mean())
    assert float(loss_fn(teacher, "l2", 1.0, 2.0)(student, x, y)) == pytest.approx(ce + 2 * l2, rel=1e-5)


def test_a_student_distilled_with_weight_zero_is_its_base(registry, embedded, tmp_path):
    """The distilled student starts as its base started (same initialisation, data order and dropout),
    so against its base it differs by the teacher's loss alone."""
    import json

    import numpy as np
    import paddle

    from stages.compress import compress
    from stages.train import main as train
    from stages.zoo.resolve import resolve

    configs = {}
    for name in ("mobilenetv1", "mobilenetv1-distill_resnet50_vd"):
        cfg = resolve(registry, name, "tiny")
        cfg["data"] = str(embedded["root"] / "cls")  # 12 train, 6 val images
        cfg["run"].update(epochs=2, batch_size=4)
        configs[name] = cfg
    (tmp_path / "base.json").write_text(json.dumps(configs["mobilenetv1"]), encoding="utf-8")
    assert train(["--config", str(tmp_path / "base.json"), "--out", str(tmp_path / "base"),
                  "--metrics", str(tmp_path / "base_metrics")]) == 0
    student = configs["mobilenetv1-distill_resnet50_vd"]
    student["method"]["distill"]["weight"] = 0.0
    for folder in ("student", "student_metrics"):
        (tmp_path / folder).mkdir()
    # the base as its own teacher: with weight 0 the teacher's outputs do not count
    compress(student, tmp_path / "base", tmp_path / "base", tmp_path / "student", tmp_path / "student_metrics")
    base = paddle.load(str(tmp_path / "base/model.pdparams"))
    distilled = paddle.load(str(tmp_path / "student/model.pdparams"))
    assert set(base) == set(distilled)
    assert all(np.array_equal(base[k].numpy(), distilled[k].numpy()) for k in base)
