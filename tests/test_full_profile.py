"""The `full` profile's chain for one entry of each task, on the real-format fixtures under tests/fixtures.

Each chain is the one `dvc repro` runs in the full profile (train the base, quantize it after training,
export, benchmark; the classifier's base is PaddleClas' published model, scored as it is, the detectors
start from their published ImageNet backbone, as det_pretrain writes it) with the paper's architecture,
width, class count and input size; only the schedule is cut to one epoch and the timing to one run at the
paper's input size, because the fixtures hold one or two images per split. Instance segmentation has no
compressed entry: its chain is the baseline's (train, export, benchmark).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"

#: One post-training-quantized entry per task (a baseline where a task has none), with its fixture dataset
#: (a folder under tests/fixtures). Detection's is its baseline: its quantization is the dense_compress
#: path that the BlazeFace and DeepLab chains run at paper scale here (and tests/test_det.py's tiny YOLOv3
#: quant_post chain), and at 608 px it cost a minute of the suite, most of it in NMS over an untrained
#: detector's ~22k boxes per class.
CHAINS = {
    "mobilenetv1-quant_post": "imagenet",
    "mask_rcnn_r50_fpn-coco": "coco",
    "yolov3_mobilenetv1-coco": "coco",
    "blazeface-widerface-quant_post": "widerface",
    "deeplabv3p_mobilenetv2-cityscapes-quant_post": "cityscapes",
}

#: The tasks whose backbone comes from stage det_pretrain.
DETECTORS = ("detection", "instance_segmentation")
#: The schedule and timing of a one-image run; everything else is the full profile's.
SHORT = {"epochs": 1, "batch_size": 1, "calib_batches": 1, "bench_runs": 1, "bench_warmup": 1, "bench_seconds": 0.0}


def _config(registry, name: str, fixture: str, folder: Path, weights: str | None = None) -> list[str]:
    from stages.zoo.resolve import resolve

    config = resolve(registry, name, "full")
    config["data"] = str(FIXTURES / fixture)
    published = config["run"].get("weights") == "paddleclas"  # a classification baseline, scored as published
    config["run"].update({k: v for k, v in SHORT.items() if not (published and k == "epochs")})
    if config["task"] in DETECTORS and "weights" in config["run"]:  # det_pretrain's output: made here
        config["run"]["weights"] = weights
    config["threads"] = 1
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return ["--config", str(folder / "config.json")]


def _stages(task: str) -> dict:
    """The stage scripts that dvc.yaml runs for a task: classification's own, the dense ones otherwise."""
    if task == "classification":
        from stages import benchmark, compress, export, train
    else:
        from stages import dense_benchmark as benchmark, dense_compress as compress, dense_export as export
        from stages import dense_train as train
    return {"train": train.main, "compress": compress.main, "export": export.main, "benchmark": benchmark.main}


def _pretrained(registry, backbone: str, folder: Path, published_backbone) -> str:
    """Stage det_pretrain in the full profile: the backbone as published (a stand-in for its URL)."""
    from stages.pretrain import config_for, train

    (folder / "out").mkdir(parents=True), (folder / "metrics").mkdir()
    published_backbone(backbone)
    config = {**config_for(registry, backbone, "full"), "data": str(FIXTURES / "imagenet")}
    assert train(config, folder / "out", folder / "metrics")["weights_fresh"] == 2  # the classifier's head
    return str(folder / "out" / "model.pdparams")


def _published_classifier(registry, name: str, published_backbone) -> dict:
    """PaddleClas' published weights of a baseline (a stand-in that the weights download hands out)."""
    import paddle

    from stages.zoo.cls import models
    from stages.zoo.resolve import resolve

    paddle.seed(7)
    state = models.build(resolve(registry, name, "full")["arch"]).state_dict()
    paddle.save(state, str(published_backbone.path))
    return {k: v.numpy() for k, v in state.items()}


def _published_seg_backbone(registry, name: str, folder: Path, monkeypatch) -> dict:
    """PaddleSeg's published backbone archive as Paddle's download leaves it, unpacked: a folder holding
    model.pdparams of PaddleSeg's backbone at full width (a stand-in that the weights download hands out)."""
    import paddle
    import paddle.utils.download

    from stages.zoo.resolve import resolve
    from stages.zoo.seg import models

    arch = resolve(registry, name, "full")["arch"]
    paddle.seed(7)
    with paddle.utils.unique_name.guard():
        state = models.build(arch).backbone.state_dict()
    (folder / "mobilenetv2_x1_0_ssld").mkdir(parents=True)
    paddle.save(state, str(folder / "mobilenetv2_x1_0_ssld" / "model.pdparams"))
    monkeypatch.setattr(paddle.utils.download, "get_weights_path_from_url", lambda url: str(folder))
    return {k: v.numpy() for k, v in state.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CHAINS))
def test_full_profile_chain_on_fixtures(registry, tmp_path, published_backbone, monkeypatch, name):
    entry = registry.entries[name]
    base, fixture = entry.base or name, CHAINS[name]
    run = _stages(entry.task)
    if entry.task != "classification":  # timed at the paper input only: the seeds' other sizes are the tiny chains'
        from stages.zoo.tasks import package

        monkeypatch.setattr(package(entry.task).measure, "PAPER_SIZES", ())
    b, c = tmp_path / "base", tmp_path / "entry"
    weights = _pretrained(registry, entry.arch.backbone, tmp_path / "pretrain", published_backbone) \
        if entry.task in DETECTORS else None
    published = _published_classifier(registry, base, published_backbone) if entry.task == "classification" else None
    backbone = _published_seg_backbone(registry, base, tmp_path / "seg", monkeypatch) \
        if entry.task == "semantic_segmentation" else None
    assert run["train"](_config(registry, base, fixture, b, weights) + ["--out", str(b / "model"),
                                                                      "--metrics", str(b / "train")]) == 0
    figures = json.loads((b / "train" / "train.json").read_text())
    if weights:  # every backbone tensor of the paper-size detector from the published backbone
        import paddle

        backbone_tensors = [k for k in paddle.load(weights) if k.startswith("backbone.")]
        assert figures["weights"] == weights and figures["weights_loaded"] == len(backbone_tensors) > 100
    if backbone:  # every backbone tensor from PaddleSeg's published archive, the rest fresh
        assert figures["weights_loaded"] == len(backbone) and figures["weights_fresh"] > 0
    if published:  # the baseline is PaddleClas' published model, scored, not trained
        import paddle

        assert figures["epochs"] == 0 and figures["weights_loaded"] == len(published) and "top1" in figures
        saved = paddle.load(str(b / "model" / "model.pdparams"))
        assert all(np.array_equal(saved[k].numpy(), v) for k, v in published.items())
    assert json.loads((b / "model" / "config.json").read_text())["arch"] == json.loads(
        (b / "config.json").read_text())["paper_arch"]  # the paper's architecture, not the tiny one
    if entry.base is None:  # the baseline's own chain: export and benchmark what train wrote
        c, args = b, ["--config", str(b / "config.json")]
    else:
        args = _config(registry, name, fixture, c)
        assert run["compress"](args + ["--base", str(b / "model"), "--out", str(c / "model"),
                                       "--metrics", str(c / "compress")]) == 0
    assert run["export"](args + ["--model", str(c / "model"), "--out", str(c / "export")]) == 0
    bench = args + ["--model", str(c / "model"), "--export", str(c / "export"), "--out", str(c / "bench.json"),
                    "--threads", "1", "--min-seconds", "0"]
    if entry.task != "classification":
        bench += ["--sample", str(c / "sample.png")]
    assert run["benchmark"](bench) == 0
    figures = json.loads((c / "bench.json").read_text())
    assert figures["paper_input"] == entry.arch.input
    assert all(np.isfinite(v) for v in figures.values() if isinstance(v, float))
