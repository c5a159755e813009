"""The compress stages' command lines: a config they do not build, or a missing input, is one line on
stderr and nothing written (stages/compress.py, stages/dense_compress.py)."""

import importlib
import json

import pytest


@pytest.mark.parametrize("module, entry, key", [
    ("stages.dense_compress", "mobilenetv1-quant_post", "key 'task'"),  # a classification entry
    ("stages.dense_compress", "yolov3_mobilenetv1-coco-prune_r578-distill_r34", "key 'method.distill.teacher'"),  # no --teacher
    ("stages.dense_compress", "yolov3_mobilenetv1-coco-prune_r578", "model.json: missing"),  # no base model
    ("stages.compress", "fastscnn-cityscapes-prune_uniform17", "key 'method'"),  # a segmentation entry
    ("stages.compress", "mobilenetv1-quant_post", "model.json: missing"),  # no base model in --base
])
def test_compress_rejects_what_it_does_not_build(registry, tmp_path, capsys, module, entry, key):
    from stages.zoo.resolve import resolve

    main = importlib.import_module(module).main
    (tmp_path / "config.json").write_text(json.dumps(resolve(registry, entry, "tiny")), encoding="utf-8")
    assert main(["--config", str(tmp_path / "config.json"), "--base", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--metrics", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err.strip()
    assert entry in err and key in err and "\n" not in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "m").exists()
