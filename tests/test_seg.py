"""Segmentation slice: PaddleSeg models for the registered segmenters, the embedded split in memory with
its training crops, mIoU and the mask picture, and train -> export -> benchmark of every Cityscapes
baseline architecture that the seg stages run (one epoch on the small embedded set)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from zoo_groups import one_per_method, untrained_base

ROOT = Path(__file__).resolve().parents[1]


def _seg_archs() -> list[tuple[str, str]]:
    """(name, backbone) of every semantic segmentation architecture in the registry."""
    from stages.zoo.registry import load_registry

    entries = load_registry(ROOT / "params").entries.values()
    return sorted({(e.arch.name, e.arch.backbone or "") for e in entries if e.task == "semantic_segmentation"})


def _staged() -> list[str]:
    """One baseline per architecture (the first by name) of those the seg_train stage runs: a COCO entry
    of an architecture that a Cityscapes entry already has runs the same code on other label maps."""
    import yaml

    zoo = yaml.safe_load((ROOT / "params/zoo/semantic_segmentation.yaml").read_text(encoding="utf-8"))
    first: dict[tuple, str] = {}
    for name, entry in sorted(zoo["semantic_segmentation"]["baselines"].items()):
        first.setdefault((entry["arch"]["name"], entry["arch"].get("backbone")), name)
    return sorted(first.values())


def _embedded_data(config: dict, embedded: dict) -> str:
    """The small embedded copy of a resolved config's data folder (data/seg -> <root>/seg)."""
    return str(embedded["root"] / Path(config["data"]).relative_to("data"))


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


@pytest.mark.parametrize("name", ["UNet", "Xception65"])
def test_narrow_rebuilds_are_paddleseg_models_at_full_width(name):
    """The tiny profile's narrow UNet / Xception65 are PaddleSeg's own layout: at scale 1 the rebuild has
    exactly PaddleSeg's parameter shapes, and at 0.5 about a quarter of its weights."""
    from paddleseg.models import UNet
    from paddleseg.models.backbones.xception_deeplab import Xception65_deeplab

    from stages.zoo.seg import models

    full, narrow = {"UNet": (lambda: UNet(11), lambda s: models._narrow_unet(11, s)),
                    "Xception65": (Xception65_deeplab, models._narrow_xception65)}[name]

    def shapes(model):
        return {k: tuple(v.shape) for k, v in model.state_dict().items()}

    reference = shapes(full())
    assert shapes(narrow(1.0)) == reference
    ratio = sum(np.prod(s) for s in shapes(narrow(0.5)).values()) / sum(np.prod(s) for s in reference.values())
    assert 0.2 < ratio < 0.35


def test_the_seg_split_loads_and_crops(embedded):
    from stages.zoo.seg import data

    seg = data.split({"dataset": "cityscapes", "data": str(embedded["root"] / "seg")}, "train")
    images, labels = seg.images(range(3)), seg.labels(range(3))
    assert images.shape[:3] == labels.shape == (3, *seg.canvas) and images.dtype == np.uint8
    x, y = next(seg.crops(4, 32, np.random.default_rng(0)))
    assert x.shape == (4, 3, 32, 32) and y.shape == (4, 32, 32) and y.dtype == np.int64
    assert set(np.unique(y)) <= set(range(len(seg.classes))) | {seg.ignore}


def test_coco_polygons_become_label_maps(embedded):
    """Background 0, each object's polygons filled with its category + 1, crowd objects ignored."""
    import dataclasses

    from stages.zoo.seg import data

    coco = data.split({"dataset": "coco", "data": str(embedded["root"] / "det" / "coco")}, "val")
    assert coco.classes[0] == "background" and len(coco.classes) == len(coco.dataset.classes) + 1
    assert coco.ignore == data.IGNORE
    for i, sample in enumerate(coco.dataset.samples):
        label = coco.label(i)
        assert set(np.unique(label)) - {0} <= {c + 1 for c in sample.labels}
        assert (label > 0).sum() > 0 and (label == 0).mean() > 0.5  # digits on a background
    sample = coco.dataset.samples[0]
    crowd = dataclasses.replace(sample, ignore=(True,) * len(sample.labels))
    assert set(np.unique(data.rasterise(crowd, data.IGNORE))) == {0, data.IGNORE}


def test_small_and_mixed_size_images_are_padded_with_ignored_pixels():
    """Real-format fixtures: COCO val images of two shapes share one canvas, and crops larger than the
    images (the full profile's 769 px) are padded; padding is grey and never labelled."""
    from stages.zoo.seg import data

    fixtures = Path(__file__).parent / "fixtures"
    coco = data.split({"dataset": "coco", "data": str(fixtures / "coco")}, "val")
    shapes = {(s.height, s.width) for s in coco.dataset.samples}
    assert len(shapes) == 2 and coco.canvas == tuple(max(d) for d in zip(*shapes))
    for i, sample in enumerate(coco.dataset.samples):
        image, label = coco.image(i), coco.label(i)
        assert label.shape == image.shape[:2] == coco.canvas
        assert (label[sample.height:] == data.IGNORE).all() and (label[:, sample.width:] == data.IGNORE).all()
        assert (image[sample.height:] == data.GREY).all()
    city = data.split({"dataset": "cityscapes", "data": str(fixtures / "cityscapes")}, "train")
    images, labels = next(city.crops(1, 32, np.random.default_rng(0)))
    assert images.shape == (1, 3, 32, 32) and labels.shape == (1, 32, 32)
    assert (labels != city.ignore).sum() == (city.labels(range(len(city))) != city.ignore).sum() > 0  # every pixel, once


def test_miou_ignores_unlabelled_pixels_and_scores_an_all_background_guess(embedded, tmp_path):
    from stages.zoo.seg import data, evaluate

    val = data.split({"dataset": "cityscapes", "data": str(embedded["root"] / "seg")}, "val")
    labels = val.labels(range(len(val)))
    truth = np.where(labels == val.ignore, 0, labels)
    perfect = evaluate.score(val, truth)
    assert perfect["miou"] == pytest.approx(100) and perfect["pixel_acc"] == pytest.approx(100)
    background = evaluate.score(val, np.zeros_like(truth))
    present = len(np.unique(labels[labels != val.ignore]))
    assert present > 1
    assert background["miou"] == pytest.approx(background["background_iou"] / present)
    evaluate.draw(val, 0, truth[0], tmp_path / "sample.png")
    assert (tmp_path / "sample.png").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("entry", _staged())
def test_segmenter_chain(registry, embedded, tmp_path, monkeypatch, entry):
    """Train, export and benchmark: both runtimes score the same mIoU. The paper sizes are made small here
    (769 px costs a minute for HRNet); the DVC test below measures at 769."""
    from stages.dense_benchmark import main as bench_main
    from stages.dense_export import main as export_main
    from stages.dense_train import main as train_main
    from stages.zoo import measure as measuring, runtimes
    from stages.zoo.resolve import resolve
    from stages.zoo.seg import measure

    monkeypatch.setattr(measure, "PAPER_SIZES", (96,))
    # one Paddle predictor per thread count: building one runs oneDNN's passes, 20 s for HRNet
    cached = functools.lru_cache(maxsize=None)(runtimes.paddle_runner)
    monkeypatch.setattr(runtimes, "paddle_runner", cached)
    monkeypatch.setattr(measuring, "paddle_runner", cached)
    cfg = resolve(registry, entry, "tiny")
    cfg["data"] = _embedded_data(cfg, embedded)
    cfg["paper_arch"]["input"] = 256  # 16x the profile's pixels: one timed run each must still order them
    cfg["run"].update(epochs=1, batch_size=4, bench_runs=1)
    cfg["threads"] = 1  # the thread count the benchmark times below, so its predictor is reused
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    c = ["--config", str(tmp_path / "config.json")]
    assert train_main(c + ["--out", str(tmp_path / "model"), "--metrics", str(tmp_path / "train")]) == 0
    train = json.loads((tmp_path / "train" / "train.json").read_text())
    assert np.isfinite(train["train_loss"]) and 0 <= train["miou"] <= 100  # one epoch: may miss every class
    assert export_main(c + ["--model", str(tmp_path / "model"), "--out", str(tmp_path / "export")]) == 0
    exported = json.loads((tmp_path / "export" / "export.json").read_text())
    assert exported["outputs"] == 1 and (tmp_path / "export/model.onnx").is_file() != bool(exported["onnx_unsupported"])
    assert bench_main(c + ["--model", str(tmp_path / "model"), "--export", str(tmp_path / "export"),
                           "--out", str(tmp_path / "bench.json"), "--sample", str(tmp_path / "sample.png"),
                           "--threads", "1", "--min-seconds", "0"]) == 0
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert bench["miou"] == bench["paddle_fp32_miou"]
    assert exported["onnx_unsupported"] or abs(bench["miou"] - bench["onnx_fp32_miou"]) < 0.5
    assert bench["miou"] == pytest.approx(train["miou"], abs=0.5)  # the artifact is the trained model
    assert bench["paddle_fp32_t1_paper_median_ms"] > bench["paddle_fp32_t1_profile_median_ms"] > 0
    assert bench["paddle_fp32_t1_paper96_median_ms"] > 0 and bench["paper_input"] == 256
    assert bench["paper_params_m"] > bench["params_m"]  # 19 classes, full width
    assert (tmp_path / "sample.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.parametrize("entry", one_per_method("semantic_segmentation", "cityscapes_compressed"))
def test_compressed_segmenter_chain(registry, embedded, tmp_path, monkeypatch, entry):
    """Compress (from an untrained base: the mechanics, not the accuracy), export, benchmark: a pruned
    model removes its FLOPs target and is smaller at paper scale too; a quantized one is measured as
    int8 in both runtimes, with int8 weights on disk."""
    from stages import dense_compress
    from stages.dense_benchmark import main as bench_main
    from stages.dense_export import main as export_main
    from stages.zoo.measure import paper_stats
    from stages.zoo.resolve import resolve
    from stages.zoo.seg import measure, models

    monkeypatch.setattr(measure, "PAPER_SIZES", ())
    monkeypatch.setattr(dense_compress, "PROBE_IMAGES", 2)  # sensitivity: ~9 ratios x every conv
    cfg = resolve(registry, entry, "tiny")
    cfg["data"] = str(embedded["root"] / "seg")
    cfg["paper_arch"]["input"] = 128
    cfg["run"].update(finetune_epochs=1, batch_size=4, bench_runs=1, calib_batches=1)
    cfg["threads"] = 1
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    untrained_base(registry, cfg["base"], tmp_path / "base")
    c, model = ["--config", str(tmp_path / "config.json")], str(tmp_path / "model")
    assert dense_compress.main(c + ["--base", str(tmp_path / "base"), "--out", model,
                                    "--metrics", str(tmp_path / "compress")]) == 0
    figures = json.loads((tmp_path / "compress" / "compress.json").read_text())
    assert 0 <= figures["float_miou"] <= 100
    assert export_main(c + ["--model", model, "--out", str(tmp_path / "export")]) == 0
    assert bench_main(c + ["--model", model, "--export", str(tmp_path / "export"), "--out", str(tmp_path / "b.json"),
                           "--sample", str(tmp_path / "sample.png"), "--threads", "1", "--min-seconds", "0"]) == 0
    bench = json.loads((tmp_path / "b.json").read_text())
    base = resolve(registry, cfg["base"], "tiny")
    unpruned = paper_stats({**cfg, "paper_arch": {**base["paper_arch"], "input": 128}}, models, {}, False)
    prune, quant = cfg["method"]["prune"], cfg["method"]["quant"]
    if prune:
        target = prune["target_flops_reduction"]
        assert figures["flops_reduction"] == pytest.approx(target, abs=0.02)
        assert bench["paper_gflops"] < unpruned["paper_gflops"] * (1 - target + 0.05)
        assert bench["paper_params_m"] < unpruned["paper_params_m"]
        assert (tmp_path / "compress" / "sensitivity.json").is_file() == (prune["strategy"] == "sensitive")
    if quant:
        exported = json.loads((tmp_path / "export" / "export.json").read_text())
        assert exported["onnx_int8_initializers"] > 0
        assert bench["miou"] == bench["paddle_int8_miou"] and "onnx_int8_miou" in bench
        assert bench["paddle_int8_size_mb"] < bench["paddle_fp32_size_mb"] / 2
        assert bench["paper_size_mb"] == pytest.approx(unpruned["paper_size_mb"] / 4)
    assert (tmp_path / "sample.png").stat().st_size > 1000


def _published(backbone: str):
    """A stand-in for the published ImageNet model of a segmenter's backbone, as its publisher keys it:
    ppdet's MobileNet (MobileNetV1_pretrained.pdparams), PaddleClas' Xception65_deeplab (with its classifier)."""
    if backbone == "MobileNetV1":
        from ppdet.modeling.backbones.mobilenet_v1 import MobileNet

        return MobileNet(scale=1.0)
    from paddleclas.ppcls.arch.backbone.model_zoo.xception_deeplab import Xception65_deeplab

    return Xception65_deeplab()


@pytest.mark.parametrize("entry", ["deeplabv3p_mobilenetv1-cityscapes", "deeplabv3p_xception65-cityscapes",
                                   "deeplabv3p_xception65-coco"])
def test_full_profile_backbone_loads_the_published_imagenet_model(registry, tmp_path, monkeypatch, entry):
    """In the full profile DeepLabv3+ MobileNetV1 / Xception65 start from the published ImageNet model that the
    seeds link (as a dygraph .pdparams): every backbone tensor of the full-width segmenter is loaded from it,
    the head stays fresh."""
    import paddle
    import paddle.utils.download

    from stages.train import initialise
    from stages.zoo.resolve import resolve
    from stages.zoo.seg import models

    config = resolve(registry, entry, "full")
    url, backbone = config["run"]["weights"], config["arch"]["backbone"]
    assert url.startswith("https://") and url.endswith(".pdparams")
    path = tmp_path / "published.pdparams"
    paddle.seed(7)
    with paddle.utils.unique_name.guard():
        paddle.save(_published(backbone).state_dict(), str(path))
    monkeypatch.setattr(paddle.utils.download, "get_weights_path_from_url", lambda _: str(path))
    model = models.build(config["arch"])
    own = [k for k in model.state_dict() if k.startswith("backbone.")]
    figures = initialise(model, url)
    assert figures["weights_loaded"] == len(own) > 50 and figures["weights_fresh"] > 0
