"""Broken params give one line naming file, entry and key; exit non-zero; no traceback; nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _edit(params: Path, rel: str, change) -> None:
    path = params / rel
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _set(entry: str, dotted: str, value):
    def change(data):
        node = data["entries"][entry]
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return change


def _move(entry: str, section: str, to: str):
    """Move a classification entry from one section of its zoo file to another."""
    def change(data):
        sections = data["classification"]
        sections[to][entry] = sections[section].pop(entry)
    return change


def _duplicate_across_files(data):
    copy = dict(data["entries"]["yolov3_darknet53-coco"])
    data["detection"]["baselines"]["mobilenetv1"] = data["detection"]["entries"]["mobilenetv1"] = copy
    data["entries"]["mobilenetv1"] = copy


CASES = {
    "unknown key": ("zoo/classification.yaml", _set("mobilenetv1", "colour", "red"),
                    "params/zoo/classification.yaml", "mobilenetv1", "colour", "unknown key"),
    "unknown architecture": ("zoo/classification.yaml", _set("mobilenetv1", "arch.name", "MobileNetV9"),
                             "params/zoo/classification.yaml", "mobilenetv1", "arch.name", "unknown architecture"),
    "pruning ratio 1.5": ("zoo/classification.yaml",
                          lambda d: d["entries"]["mobilenetv1-prune_uniform50"]["method"].update(
                              prune={"strategy": "uniform", "ratio": 1.5}),
                          "params/zoo/classification.yaml", "mobilenetv1-prune_uniform50", "method.prune.ratio",
                          "outside [0, 1)"),
    "missing teacher": ("zoo/classification.yaml",
                        _set("mobilenetv1-distill_resnet50_vd", "method.distill.teacher", "resnet999"),
                        "params/zoo/classification.yaml", "mobilenetv1-distill_resnet50_vd",
                        "method.distill.teacher", "not an entry"),
    "duplicate name": ("zoo/detection.yaml", _duplicate_across_files,
                       "params/zoo/detection.yaml", "mobilenetv1", "-", "duplicate entry name"),
    "string for a number": ("zoo/classification.yaml", _set("mobilenetv1", "arch.input", "big"),
                            "params/zoo/classification.yaml", "mobilenetv1", "arch.input", "expected an integer"),
    "missing base": ("zoo/face_detection.yaml", _set("blazeface-widerface-quant_post", "base", "blazeface-x"),
                     "params/zoo/face_detection.yaml", "blazeface-widerface-quant_post", "base", "not an entry"),
    "unknown method": ("zoo/classification.yaml", _set("mobilenetv1-quant_post", "method", {"quantize": {}}),
                       "params/zoo/classification.yaml", "mobilenetv1-quant_post", "method.quantize", "unknown key"),
    "bad published value": ("published/classification.yaml",
                            lambda d: d["published"]["resnet18"][0].update(top1="71%"),
                            "params/zoo/classification.yaml", "resnet18", "published[0].top1", "expected a number"),
    "base under baselines": ("zoo/classification.yaml",
                             _move("mobilenetv1-quant_post", "compressed", "baselines"),
                             "params/zoo/classification.yaml", "mobilenetv1-quant_post", "base",
                             "belong under 'compressed'"),
    "teacher under compressed": ("zoo/classification.yaml",
                                 _move("resnet50-distill_resnet101", "distilled", "compressed"),
                                 "params/zoo/classification.yaml", "resnet50-distill_resnet101", "method.distill",
                                 "belong under 'distilled'"),
    "NAS entry under compressed": ("zoo/classification.yaml",
                                   _move("mobilenetv2-sanas", "searched", "compressed"),
                                   "params/zoo/classification.yaml", "mobilenetv2-sanas", "method",
                                   "belong under 'searched'"),
    "entries not the union": ("zoo/classification.yaml",
                              lambda d: d.update(entries={k: v for k, v in d["entries"].items() if k != "resnet18"}),
                              "params/zoo/classification.yaml", "-", "entries", "must be exactly"),
    "group entry in no section": ("zoo/detection.yaml",
                                  lambda d: d["detection"]["groups"]["yolov3"].update(
                                      {"yolov3_extra-coco": dict(d["entries"]["yolov3_darknet53-coco"])}),
                                  "params/zoo/detection.yaml", "yolov3_extra-coco", "groups.yolov3",
                                  "must be merged"),
    "run override for no profile": ("zoo/classification.yaml", _set("mobilenetv1", "profiles", {"huge": {"epochs": 3}}),
                                    "params/zoo/classification.yaml", "mobilenetv1", "profiles.huge",
                                    "no such profile"),
    "run override: wrong type": ("zoo/classification.yaml", _set("mobilenetv1", "profiles", {"tiny": {"lr": "hi"}}),
                                  "params/zoo/classification.yaml", "mobilenetv1", "profiles.tiny.lr",
                                  "expected a number"),
    "run override: bn_shift not a number": ("zoo/classification.yaml",
                                            _set("mobilenetv2", "profiles", {"tiny": {"bn_shift": "high"}}),
                                            "params/zoo/classification.yaml", "mobilenetv2", "profiles.tiny.bn_shift",
                                            "expected a number"),
    "run override: weights not a path": ("zoo/classification.yaml",
                                         _set("mobilenetv1", "profiles", {"full": {"weights": 3}}),
                                         "params/zoo/classification.yaml", "mobilenetv1", "profiles.full.weights",
                                         "expected"),
    "defaults: unknown backbone start": ("defaults/detection.yaml",
                                         lambda d: d["profiles"]["full"].update(pretrain_from="imagenet"),
                                         "params/defaults/detection.yaml", "-", "profiles.full.pretrain_from",
                                         "expected one of"),
    "data: unknown key": ("data.yaml", lambda d: d["datasets"]["cls"].update(colour="red"),
                          "params/data.yaml", "cls", "colour", "unknown key"),
    "data: digit larger than the image": ("data.yaml", lambda d: d["datasets"]["seg"].update(size=[16, 80]),
                                          "params/data.yaml", "seg", "size", "does not fit a 128x64 image"),
    "data: unknown format": ("data.yaml", lambda d: d["datasets"]["det"].update(format="kitti"),
                             "params/data.yaml", "det", "format", "expected one of"),
}


def _snapshot(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in root.rglob("*")}


def _validate(params: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "stages.validate", "--params", str(params)],
                          cwd=params.parent, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture()
def params(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "params", tmp_path / "params")
    return tmp_path / "params"


def test_valid_params_pass(params):
    result = _validate(params)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_params_give_one_clear_line(params, case):
    rel, change, file, entry, key, message = CASES[case]
    _edit(params, rel, change)
    before = _snapshot(params.parent)
    result = _validate(params)
    problems = result.stderr.strip().splitlines()[:-1]  # the last line is the count
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert problems == [line for line in problems if line.startswith(f"{file}: entry '{entry}': key '{key}': ")]
    assert len(problems) == 1 and message in problems[0], result.stderr
    assert _snapshot(params.parent) == before, "validate wrote something"


def test_duplicate_key_in_one_file(params):
    path = params / "zoo" / "instance_segmentation.yaml"
    text = path.read_text(encoding="utf-8")
    at = text.index("\n    mask_rcnn_hrnet_w18_fpn-coco:") + 1
    block = text[text.index("\n    mask_rcnn_r18_fpn-coco:") + 1:at]
    path.write_text(text[:at] + block + text[at:], encoding="utf-8")  # the same entry twice in one mapping
    result = _validate(params)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("params/zoo/instance_segmentation.yaml: entry 'mask_rcnn_r18_fpn-coco'")
    assert "duplicate key 'mask_rcnn_r18_fpn-coco'" in first
