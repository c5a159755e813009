"""Benchmark measurements: known model statistics, latency statistics that hang together, sizes."""

from __future__ import annotations

import numpy as np
import pytest


def test_mobilenetv1_statistics_match_the_known_figures():
    from stages.zoo.bench import model_stats
    from stages.zoo.cls import models

    stats = model_stats(models.build({"name": "MobileNetV1", "scale": 1.0, "classes": 1000}), 224)
    assert stats["params"] == pytest.approx(4.23e6, rel=0.01)  # PaddleClas: 4.23 M parameters
    assert stats["macs"] / 1e9 == pytest.approx(0.579, rel=0.01)  # paddle.flops, ../shared/STACK.md
    assert stats["gflops"] == pytest.approx(2 * stats["macs"] / 1e9)


def test_a_deformable_convolution_counts_as_the_convolution_it_is():
    """paddle.flops has no DeformConv2D rule (it counted 0 MACs for YOLOv3 R50-vd-dcn's deformable
    layers); model_stats counts one as the Conv2D of the same shape."""
    import paddle

    from stages.zoo.bench import model_stats

    class Net(paddle.nn.Layer):
        def __init__(self, deformable: bool):
            super().__init__()
            self.offsets = paddle.nn.Conv2D(3, 18, 3, padding=1)
            kind = paddle.vision.ops.DeformConv2D if deformable else paddle.nn.Conv2D
            self.conv, self.deformable = kind(3, 8, 3, padding=1), deformable

        def forward(self, x):
            offsets = self.offsets(x)
            return self.conv(x, offsets) if self.deformable else self.conv(x) + offsets.mean()

    plain, deformable = model_stats(Net(False), 16), model_stats(Net(True), 16)
    assert deformable["macs"] == plain["macs"] > 16 * 16 * 18 * 3 * 9  # more than the offsets' convolution
    assert deformable["params"] == plain["params"]


def test_latency_statistics_are_consistent():
    from stages.zoo.bench import latency

    got = latency(lambda x: np.linalg.svd(x), np.random.default_rng(0).standard_normal((64, 64)),
                  warmup=2, min_runs=20, min_seconds=0.05)
    assert got["runs"] >= 20
    assert 0 < got["median_ms"] <= got["p90_ms"] and got["std_ms"] >= 0 and got["mean_ms"] > 0


def test_disk_size(tmp_path):
    from stages.zoo.bench import disk_size

    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b").write_bytes(b"y" * 5)
    assert disk_size(tmp_path / "a", tmp_path / "d") == 15
