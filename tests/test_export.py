"""The export stage: a trained classifier as Paddle inference + ONNX files that agree with it."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

# make test runs two workers: the session's tiny_model is trained once, on one of them
pytestmark = pytest.mark.xdist_group("tiny_model")


def test_export_agrees_with_the_trained_model(tiny_model):
    """tiny_model ran the train and export stages' main(); check what the export wrote."""
    files = {p.name for p in (tiny_model / "export").iterdir()}
    assert {"inference.pdmodel", "inference.pdiparams", "model.onnx", "export.json"} <= files
    figures = json.loads((tiny_model / "export/export.json").read_text())
    assert figures["max_abs_diff_paddle_inference"] < 1e-3 and figures["max_abs_diff_onnxruntime"] < 1e-3
    assert metadata.version("numpy") == "1.26.4", "exporting changed the environment"
    assert not [d for d in metadata.distributions() if d.metadata["Name"] == "onnx_graphsurgeon"]


def test_export_without_a_trained_model(tiny_model, tmp_path, capsys):
    from stages.export import main

    assert main(["--config", str(tiny_model / "config.json"), "--model", str(tmp_path / "none"),
                 "--out", str(tmp_path / "export")]) == 1
    assert "model.json: missing (expected the train or compress stage's output)" in capsys.readouterr().err
    assert not (tmp_path / "export").exists()


def test_stripped_programs_do_not_depend_on_where_they_were_saved(tmp_path):
    """Paddle records each op's Python call stack; the dense export strips it, so that editing a stage
    script does not change every artifact's hash (and re-run every benchmark after it)."""
    import paddle

    from stages.zoo.cls.models import input_spec
    from stages.zoo.runtime import strip_callstacks

    def save(prefix):
        with paddle.utils.unique_name.guard():
            paddle.seed(0)
            layer = paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.ReLU())
            layer.eval()
            paddle.jit.save(layer, str(prefix), input_spec=input_spec())

    save(tmp_path / "a")
    save(tmp_path / "b")  # another line: another recorded call stack
    a, b = tmp_path / "a.pdmodel", tmp_path / "b.pdmodel"
    assert a.read_bytes() != b.read_bytes()
    strip_callstacks(a)
    strip_callstacks(b)
    assert a.read_bytes() == b.read_bytes() and b"op_callstack" not in a.read_bytes()
