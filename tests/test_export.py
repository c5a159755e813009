"""The export stage: a trained classifier as Paddle inference + ONNX files that agree with it."""

from __future__ import annotations

import json

from stages.zoo.resolve import resolve


def test_export_agrees_with_the_trained_model(registry, embedded, tmp_path):
    from stages.export import main as export_main
    from stages.train import main as train_main

    cfg = resolve(registry, "mobilenetv1", "tiny")
    cfg["data"] = str(embedded["root"] / "cls")
    cfg["run"].update(epochs=1, batch_size=4)
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    assert train_main(["--config", str(tmp_path / "config.json"), "--out", str(tmp_path / "train"),
                       "--metrics", str(tmp_path / "metrics")]) == 0
    assert export_main(["--model", str(tmp_path / "train"), "--out", str(tmp_path / "export")]) == 0
    files = {p.name for p in (tmp_path / "export").iterdir()}
    assert {"inference.pdmodel", "inference.pdiparams", "model.onnx", "export.json"} <= files
    figures = json.loads((tmp_path / "export/export.json").read_text())
    assert figures["max_abs_diff_paddle_inference"] < 1e-3 and figures["max_abs_diff_onnxruntime"] < 1e-3
    from importlib import metadata

    assert metadata.version("numpy") == "1.26.4", "exporting changed the environment"
    assert not [d for d in metadata.distributions() if d.metadata["Name"] == "onnx_graphsurgeon"]


def test_export_without_a_trained_model(tmp_path, capsys):
    from stages.export import main

    assert main(["--model", str(tmp_path / "none"), "--out", str(tmp_path / "export")]) == 1
    assert "model.json: missing (expected the train stage's output)" in capsys.readouterr().err
    assert not (tmp_path / "export").exists()
