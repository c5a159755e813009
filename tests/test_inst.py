"""Instance segmentation (Mask RCNN, stages/zoo/inst): mask decoding, polygon targets, the paper-scale size,
and the stages' chain on the embedded COCO set, for every entry the inst stages build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from exported import model_and_export

ROOT = Path(__file__).resolve().parents[1]


def _built() -> list[str]:
    """The entries stages inst_train / inst_export / inst_benchmark build (``groups.trained``)."""
    zoo = yaml.safe_load((ROOT / "params" / "zoo" / "instance_segmentation.yaml").read_text(encoding="utf-8"))
    return sorted(zoo["instance_segmentation"]["groups"]["trained"])


def test_mask_outputs_drop_the_placeholder_and_paste_onto_their_box():
    from stages.zoo.det import rcnn

    boxes = np.array([[2, 0.9, 10, 20, 30, 40], [0, 0.0, 0, 0, 1, 1]], np.float32)  # a box and ppdet's placeholder
    masks = np.ones((2, 28, 28), np.float32)
    masks[0, :, 14:] = 0  # left half inside
    (b, s, labels, m), = rcnn.mask_detections([boxes, np.array([2]), masks], {"name": "MaskRCNN"}, 96)
    assert b.tolist() == [[10, 20, 30, 40]] and s.tolist() == [pytest.approx(0.9)] and labels.tolist() == [2]
    pasted = rcnn.paste_masks(m, b, 64, 64)[0]
    assert pasted[20:40, 10:19].all() and not pasted[20:40, 21:30].any()
    assert pasted.sum() == pasted[20:40, 10:30].sum()  # nothing outside its box
    # the detection decoder of every RCNN gives a Mask RCNN's boxes alone
    assert rcnn.detections([boxes, np.array([2]), masks], {"name": "MaskRCNN"}, 96)[0][0].tolist() == b.tolist()


def test_mask_targets_carry_polygons_that_move_with_the_image(embedded):
    """Each augmented object's polygon stays on its augmented box (ppdet's operators move both)."""
    from stages.zoo.datasets import load
    from stages.zoo.det.data import DetSet, rcnn_targets

    data = DetSet(load("coco", embedded["root"] / "det" / "coco", "train"), 96, "coco")
    for rng in (None, np.random.default_rng(0)):
        t = rcnn_targets(data, np.arange(4), rng, polygons=True)
        assert len(t["gt_poly"]) == 4
        for k, polys in enumerate(t["gt_poly"]):
            assert len(polys) == t["gt_count"][k] > 0
            for box, poly in zip(t["gt_bbox"][k], polys):
                xy = np.concatenate([p.reshape(-1, 2) for p in poly])
                corners = np.concatenate([xy.min(0), xy.max(0)])
                np.testing.assert_allclose(corners, box, atol=2.0)  # box: pixels with mask >= 0.5
    assert "gt_poly" not in rcnn_targets(data, np.arange(2))


def test_scores_count_boxes_and_masks_apart(embedded):
    """The ground truth itself scores 100 box and mask AP; the same boxes with masks moved off their objects keep
    the box AP and lose the mask AP (one COCO ground truth serves both IoU types)."""
    from pycocotools import mask as mask_utils

    from stages.zoo.datasets import load
    from stages.zoo.det.data import DetSet
    from stages.zoo.inst.evaluate import score
    from stages.zoo.metrics import Detections

    data = DetSet(load("coco", embedded["root"] / "det" / "coco", "val"), 96, "coco")
    truth, moved = [], []
    for s in data.dataset.samples:
        # each object's polygons rasterised as COCO's evaluation does
        masks = np.stack([mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([list(p) for p in polys],
                                                                                     s.height, s.width)))
                          for polys in s.polygons])
        labels = np.asarray(s.labels)
        truth.append(Detections.of(s.boxes, np.ones(len(s.boxes)), labels, masks.astype(bool)))
        moved.append(Detections.of(s.boxes, np.ones(len(s.boxes)), labels, np.roll(masks, s.width // 2, 2) > 0))
    assert score(data, truth) == pytest.approx({"box_ap": 100, "box_ap50": 100, "mask_ap": 100, "mask_ap50": 100},
                                               abs=1)
    off = score(data, moved)
    assert off["box_ap"] == pytest.approx(100, abs=1) and off["mask_ap"] < 20


@pytest.mark.parametrize("entry", _built())
def test_mask_rcnn_paper_scale_size_matches_the_published_model(registry, entry):
    """At paper scale (full width, 80 classes) the built Mask RCNN holds the published model's weights, within 3%."""
    from stages.zoo.inst import models
    from stages.zoo.resolve import resolve

    published = [p.size_mb for p in registry.entries[entry].published if p.size_mb]
    model = models.build(resolve(registry, entry, "full")["arch"])
    mb = sum(int(p.size) for p in model.parameters()) * 4 / 1e6
    assert published and all(abs(mb / p - 1) < 0.03 for p in published), (mb, published)


def test_a_c4_mask_rcnn_trains_and_exports_what_it_computes(tmp_path):
    """C4 Mask RCNN (the mask head on the box head's Res5Head features): a training step gives every loss,
    and Paddle Inference's exported model returns what the model computes (boxes, counts, 14 px masks)."""
    import paddle

    from stages.zoo.det import rcnn

    paddle.seed(0)
    model = rcnn.build({"name": "MaskRCNN", "backbone": "ResNet50", "neck": None, "classes": 3, "input": 64,
                        "scale": 0.25})
    square = [np.array([8, 8, 40, 8, 40, 40, 8, 40], np.float32)]
    targets = {"gt_bbox": [paddle.to_tensor([[8.0, 8.0, 40.0, 40.0]])], "gt_class": [paddle.to_tensor([[1]], "int32")],
               "is_crowd": [paddle.zeros([1, 1], "int32")], "gt_poly": [[square]]}
    losses = model(paddle.randn([1, 3, 64, 64]), targets)
    assert {"loss_rpn_cls", "loss_bbox_cls", "loss_mask"} <= set(losses) and np.isfinite(float(losses["loss"]))
    expected, got = model_and_export(model, tmp_path, 64)
    assert expected[2].shape[1:] == (14, 14) and len(got) == 3
    assert all(np.abs(g - e).max() < 1e-3 for g, e in zip(got, expected))


def test_other_architectures_are_refused_in_one_line(registry):
    from stages.zoo.inst import models

    with pytest.raises(models.UnsupportedArch, match="MaskRCNN only"):
        models.build({"name": "FasterRCNN", "backbone": "ResNet50", "neck": "fpn", "classes": 3, "input": 96})


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["mask_rcnn_r50_fpn-coco"])  # the others differ by backbone (sizes above) or
# head (C4: trained and exported below)
def test_mask_rcnn_chain(registry, embedded, tmp_path, monkeypatch, entry):
    """Train an epoch, export (Paddle Inference, NMS and the mask head in the graph; no ONNX, said why),
    benchmark: box and mask AP of the exported model, a picture with masks, paper-scale figures."""
    from stages.zoo.inst import measure
    from stages.zoo.resolve import resolve
    from test_det import _chain

    monkeypatch.setattr(measure, "PAPER_SIZES", ())
    assert entry in _built()
    cfg = resolve(registry, entry, "tiny")
    cfg["data"] = str(embedded["root"] / "det" / "coco")
    cfg["paper_arch"]["input"] = 128
    cfg["run"].update(epochs=1, batch_size=4, weights="", bench_runs=1)
    train, exported, bench = _chain(cfg, tmp_path)
    assert np.isfinite(train["train_loss"]) and 0 <= train["mask_ap"] <= 100 and "box_ap" in train
    assert exported["outputs"] == 3 and exported["max_abs_diff_paddle_inference"] < 1e-2
    assert "generate_proposals_v2" in exported["onnx_unsupported"]
    assert {"paddle_fp32_mask_ap", "paddle_fp32_box_ap"} <= set(bench) and not any(k.startswith("onnx_") for k in bench)
    assert bench["paper_params_m"] > 10 * bench["params_m"] and (tmp_path / "sample.png").stat().st_size > 1000
