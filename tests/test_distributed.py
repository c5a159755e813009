"""Data-parallel training through paddle.distributed.launch (stages/zoo/distributed.py): the same stage
command trains in two CPU processes (gloo) and follows the one-process loss curve."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_a_rank_takes_every_nth_sample_of_every_array(monkeypatch):
    from stages.zoo import distributed

    batch = {"image": np.arange(8), "targets": (np.arange(8) * 10, [np.arange(8)])}
    assert distributed.shard(batch) is batch  # one process: the whole batch
    monkeypatch.setenv("PADDLE_TRAINER_ID", "1")
    monkeypatch.setenv("PADDLE_TRAINERS_NUM", "2")
    shared = distributed.shard(batch)
    assert shared["image"].tolist() == [1, 3, 5, 7] and shared["targets"][0].tolist() == [10, 30, 50, 70]
    assert shared["targets"][1][0].tolist() == [1, 3, 5, 7] and distributed.is_worker()


@pytest.mark.parametrize("value,expected", [(None, 1), ("2", 2), ("0", "positive"), ("two", "positive")])
def test_the_process_count_comes_from_the_environment_or_the_gpus_present(monkeypatch, value, expected):
    from stages.zoo import distributed

    if value is None:
        monkeypatch.delenv(distributed.ENV, raising=False)
    else:
        monkeypatch.setenv(distributed.ENV, value)
    config = {"train": {"gpus": 8}}  # the recipe's 8 GPUs: none here, so one process
    if isinstance(expected, int):
        assert distributed.processes(config) == expected
    else:
        with pytest.raises(ValueError, match=expected):
            distributed.processes(config)


#: Per entry: its train stage, batch size and where its stage logs the loss curve.
TRAINED = {"fastscnn-cityscapes": ("stages.dense_train", 4, "plots/plots/metrics/train_loss.tsv"),
           "mobilenetv1": ("stages.train", 16, "plots/metrics/train_loss.tsv")}


@pytest.fixture(scope="module")
def data(embedded, tmp_path_factory) -> dict[str, Path]:
    """Per entry, its embedded data: seg's small set; 96 classification images, as with 12 the
    per-process batch norms of a MobileNet (2 images each) already part the curves."""
    import dataclasses

    from stages.zoo.embedded.build import BUILDERS

    cls = dataclasses.replace(embedded["params"].datasets["cls"], train=96)
    root = tmp_path_factory.mktemp("cls96") / "cls"
    BUILDERS[cls.format](root, "cls", cls, embedded["pools"], embedded["params"].seed)
    return {"fastscnn-cityscapes": embedded["root"] / "seg", "mobilenetv1": root}


def _train(registry, data, tmp_path, monkeypatch, procs: str | None, entry: str) -> tuple[list[float], dict]:
    import importlib

    from stages.zoo.distributed import ENV
    from stages.zoo.resolve import resolve

    module, batch_size, curve_file = TRAINED[entry]
    cfg = resolve(registry, entry, "tiny")
    cfg["data"] = str(data[entry])
    cfg["run"].update(epochs=4, batch_size=batch_size)
    cfg["threads"] = 1
    tmp_path.mkdir()
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    if procs:
        monkeypatch.setenv(ENV, procs)
    main = importlib.import_module(module).main
    assert main(["--config", str(tmp_path / "config.json"), "--out", str(tmp_path / "model"),
                 "--metrics", str(tmp_path / "train")]) == 0
    figures = json.loads((tmp_path / "train" / "train.json").read_text())
    curve = (tmp_path / "train" / curve_file).read_text().splitlines()[1:]
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json", "model.json", "model.pdparams"]
    return [float(line.split("\t")[-1]) for line in curve], figures


@pytest.mark.slow
@pytest.mark.parametrize("entry", sorted(TRAINED))
def test_two_processes_follow_the_one_process_loss_curve(registry, data, tmp_path, monkeypatch, entry):
    """Each of two processes takes half of every batch and DataParallel averages their gradients, so the
    curve is the one-process curve up to batch-norm statistics taken per half (and float sums)."""
    one, _ = _train(registry, data, tmp_path / "one", monkeypatch, None, entry)
    two, figures = _train(registry, data, tmp_path / "two", monkeypatch, "2", entry)
    assert figures["processes"] == 2 and len(one) == len(two) == 4
    assert one[-1] < one[0] and two[-1] < two[0]
    assert np.allclose(two, one, rtol=0.15), (one, two)


def test_a_bad_process_count_is_one_line(registry, embedded, tmp_path, monkeypatch, capsys):
    from stages.dense_train import main
    from stages.zoo.distributed import ENV
    from stages.zoo.resolve import resolve

    (tmp_path / "config.json").write_text(json.dumps(resolve(registry, "fastscnn-cityscapes", "tiny")))
    monkeypatch.setenv(ENV, "lots")
    assert main(["--config", str(tmp_path / "config.json"), "--out", str(tmp_path / "model"),
                 "--metrics", str(tmp_path / "train")]) == 1
    err = capsys.readouterr().err.strip()
    assert "SLIMZOO_PROCS='lots'" in err and "fastscnn-cityscapes" in err and "\n" not in err
    assert not (tmp_path / "model").exists()
