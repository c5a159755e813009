"""Segmentation building blocks (issue 8, in progress): PaddleSeg models for the registered Cityscapes
baselines, the embedded split in memory with its training crops, mIoU and the mask picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _seg_archs() -> list[tuple[str, str]]:
    """(name, backbone) of every semantic segmentation architecture in the registry."""
    from stages.zoo.registry import load_registry

    entries = load_registry(ROOT / "params").entries.values()
    return sorted({(e.arch.name, e.arch.backbone or "") for e in entries if e.task == "semantic_segmentation"})


@pytest.mark.parametrize("name,backbone", _seg_archs())
def test_every_registered_segmenter_builds_or_says_why(name, backbone):
    import paddle

    from stages.zoo.seg import models

    arch = {"name": name, "backbone": backbone or None, "scale": 0.25, "classes": 3, "input": 64}
    try:
        model = models.build(arch)
    except models.UnsupportedArch as err:  # not built yet: one line naming the architecture
        assert name in str(err) and "\n" not in str(err)
        pytest.skip(str(err))
    model.eval()
    with paddle.no_grad():
        logits = model(paddle.zeros([1, 3, 64, 128]))[0]
    assert tuple(logits.shape) == (1, 3, 64, 128)


def test_the_seg_split_loads_and_crops(embedded):
    from stages.zoo.seg import data

    seg = data.split({"dataset": "cityscapes", "data": str(embedded["root"] / "seg")}, "train")
    assert seg.images.shape[:3] == seg.labels.shape and seg.images.dtype == np.uint8
    x, y = next(seg.crops(4, 32, np.random.default_rng(0)))
    assert x.shape == (4, 3, 32, 32) and y.shape == (4, 32, 32) and y.dtype == np.int64
    assert set(np.unique(y)) <= set(range(len(seg.dataset.classes))) | {seg.ignore}


def test_miou_ignores_unlabelled_pixels_and_scores_an_all_background_guess(embedded, tmp_path):
    from stages.zoo.seg import data, evaluate

    val = data.split({"dataset": "cityscapes", "data": str(embedded["root"] / "seg")}, "val")
    truth = np.where(val.labels == val.ignore, 0, val.labels)
    perfect = evaluate.score(val, truth)
    assert perfect["miou"] == pytest.approx(100) and perfect["pixel_acc"] == pytest.approx(100)
    background = evaluate.score(val, np.zeros_like(truth))
    present = len(np.unique(val.labels[val.labels != val.ignore]))
    assert present > 1
    assert background["miou"] == pytest.approx(background["background_iou"] / present)
    evaluate.draw(val, 0, truth[0], tmp_path / "sample.png")
    assert (tmp_path / "sample.png").stat().st_size > 0
