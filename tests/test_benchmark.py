"""The benchmark stage on a model trained for one epoch on a few embedded images."""

from __future__ import annotations

import json

import pytest

# make test runs two workers: the session's tiny_model is trained once, on one of them
pytestmark = pytest.mark.xdist_group("tiny_model")


def test_benchmark_writes_flat_figures_with_provenance(tiny_model, tmp_path):
    from stages.benchmark import main

    exported, out = tiny_model, tmp_path / "benchmark.json"
    assert main(["--config", str(exported / "config.json"), "--model", str(exported / "train"),
                 "--export", str(exported / "export"), "--out", str(out), "--threads", "1",
                 "--min-seconds", "0.01"]) == 0
    figures = json.loads(out.read_text())
    assert all(not isinstance(v, (dict, list)) for v in figures.values())  # flat
    assert figures["top1"] == figures["paddle_fp32_top1"]
    assert abs(figures["paddle_fp32_top1"] - figures["onnx_fp32_top1"]) <= 100 / 6  # same model: one near-tie at most
    assert figures["paper_params_m"] == pytest.approx(4.23, rel=0.01) and figures["paper_input"] == 224
    assert figures["paper_gflops"] == pytest.approx(2 * 0.579, rel=0.01)
    assert figures["paper_size_mb"] == pytest.approx(4.23e6 * 4 / 2 ** 20, rel=0.01)
    for runtime in ("paddle_fp32", "onnx_fp32"):
        for size in ("profile", "paper"):
            assert figures[f"{runtime}_t1_{size}_median_ms"] > 0
    assert figures["paddle_fp32_t1_paper_median_ms"] > figures["paddle_fp32_t1_profile_median_ms"]  # 224 vs 32 px
    assert figures["cpu_count"] >= 1 and figures["commit"] and figures["val_images"] == 6


def test_benchmark_without_an_export(tiny_model, tmp_path, capsys):
    exported = tiny_model
    from stages.benchmark import main

    assert main(["--config", str(exported / "config.json"), "--model", str(exported / "train"),
                 "--export", str(tmp_path / "none"), "--out", str(tmp_path / "b.json")]) == 1
    assert "inference.pdmodel: missing" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()
