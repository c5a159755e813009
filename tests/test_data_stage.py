"""The data stage as DVC runs it: a small build, its summary, and clean failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "stages.data", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _params(tmp_path: Path, change=None) -> Path:
    data = yaml.safe_load((ROOT / "params" / "data.yaml").read_text(encoding="utf-8"))
    for settings in data["datasets"].values():
        settings.update(train=20, val=10)
    if change:
        change(data)
    path = tmp_path / "params" / "data.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_builds_and_reports_class_balance(tmp_path):
    _params(tmp_path)
    result = _run(["cls", "--out", "data/cls"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "train: 20 images, 20 objects, per class 2..2" in result.stdout
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["cls"]  # no temporary folder left
    assert len((tmp_path / "data/cls/val_list.txt").read_text().splitlines()) == 10


def test_bad_params_one_line_nothing_written(tmp_path):
    _params(tmp_path, lambda d: d["datasets"]["face"].update(easy=4))
    result = _run(["face", "--out", "data/face"], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == ("params/data.yaml: entry 'face': key 'easy': widerface needs "
                                             "easy > medium (smallest face heights per setting)")
    assert not (tmp_path / "data").exists()


def test_unknown_dataset(tmp_path):
    _params(tmp_path)
    result = _run(["kitti", "--out", "data/kitti"], tmp_path)
    assert result.returncode == 1 and "key 'datasets.kitti': not declared" in result.stderr


def test_check_data_describes_a_dataset_or_its_error(tmp_path):
    from stages.check_data import _describe

    fixtures = Path(__file__).parent / "fixtures"
    ok, lines = _describe("coco", str(fixtures / "coco"))
    assert ok and lines[1].startswith("coco val: 2 images, 3 objects, 2 classes")
    ok, lines = _describe("voc", str(tmp_path))
    assert not ok and lines[0].startswith(f"voc train: error: {tmp_path}: no VOC2007/VOC2012 folder")


def test_check_data_full_profile_without_datasets_exits_1(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "stages.check_data", "--profile", "full",
                             "--params", str(ROOT / "params")], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "imagenet val: error: datasets/ILSVRC2012: no such directory" in result.stdout
