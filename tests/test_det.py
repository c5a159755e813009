"""Detection slice: ppdet YOLOv3 for every registered backbone, decoding and NMS, the leaky_relu
export shim, and train -> export -> benchmark of one detector on the small embedded set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from exported import model_and_export
from stages.zoo.det.models import _ONE_WIDTH
from zoo_groups import one_per_method, untrained_base

ROOT = Path(__file__).resolve().parents[1]


def _yolo_backbones() -> list[tuple[str, bool]]:
    """(backbone, dcn) of every YOLOv3 entry in the registry."""
    from stages.zoo.registry import load_registry

    entries = load_registry(ROOT / "params").entries.values()
    return sorted({(e.arch.backbone, bool(e.arch.dcn)) for e in entries if e.arch.name == "YOLOv3"})


def _declared_backbones() -> list[str]:
    """The backbones that stage det_pretrain makes (``pretrain`` in params/defaults/detection.yaml)."""
    from stages.zoo.registry import load_registry

    return sorted(load_registry(ROOT / "params").defaults["detection"].pretrain)


@pytest.mark.parametrize("backbone,dcn", _yolo_backbones())
def test_yolov3_builds_for_every_registered_backbone(backbone, dcn):
    import paddle

    from stages.zoo.det import models

    arch = {"name": "YOLOv3", "backbone": backbone, "dcn": dcn, "scale": 0.25, "classes": 3, "input": 64}
    model = models.build(arch)
    model.eval()
    with paddle.no_grad():
        outs = model(paddle.zeros([2, 3, 64, 64]))
    assert [tuple(o.shape) for o in outs] == [(2, 3 * (5 + 3), 64 // s, 64 // s) for s in models.STRIDES]


def test_decode_puts_a_confident_cell_where_it_is():
    from stages.zoo.det import decode, models

    info = {"name": "YOLOv3", "anchors": models.anchors_for(64), "anchor_masks": models.ANCHOR_MASKS,
            "strides": models.STRIDES}
    outs = [np.full((1, 3 * 7, 64 // s, 64 // s), -20.0, np.float32) for s in models.STRIDES]
    cell = outs[2][0].reshape(3, 7, 8, 8)[1]  # finest output, its second anchor (anchor 1: 16x30 at 608)
    cell[:, 2, 5] = [0, 0, 0, 0, 20, -20, 20]  # centre of cell (row 2, col 5), class 1, certain
    boxes, scores, labels = decode.detections(outs, info, 64)[0]
    assert len(boxes) == 1 and labels[0] == 1 and scores[0] > 0.99
    w, h = info["anchors"][1]
    np.testing.assert_allclose(boxes[0], [44 - w / 2, 20 - h / 2, 44 + w / 2, 20 + h / 2], atol=1e-6)


def test_nms_keeps_the_best_of_overlapping_boxes():
    from stages.zoo.det.decode import nms

    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], float)
    assert nms(boxes, np.array([0.5, 0.9, 0.3])).tolist() == [1, 2]


def test_leaky_relu_exports_with_its_slope(tmp_path):
    """paddle2onnx 2.1 drops leaky_relu's alpha; with the shim ppdet's DarkNet block converts exactly."""
    import paddle
    import paddle2onnx
    from ppdet.modeling.backbones.darknet import ConvBNLayer

    from stages.zoo.cls.models import input_spec
    from stages.zoo.runtimes import onnx_runner
    from stages.zoo.runtime import shim_leaky_relu

    shim_leaky_relu()
    layer = ConvBNLayer(3, 4, 3, padding=1)
    layer.eval()
    paddle.jit.save(layer, str(tmp_path / "m"), input_spec=input_spec())
    paddle2onnx.export(str(tmp_path / "m.pdmodel"), str(tmp_path / "m.pdiparams"), save_file=str(tmp_path / "m.onnx"),
                       opset_version=13, optimize_tool="None")
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32) * 4
    with paddle.no_grad():
        ref = layer(paddle.to_tensor(x)).numpy()
    assert (ref < 0).any()
    np.testing.assert_allclose(onnx_runner(tmp_path / "m.onnx", 1)(x)[0], ref, atol=1e-4)


def _chain(cfg: dict, folder: Path) -> tuple[dict, dict, dict]:
    """Stages det_train, det_export and det_benchmark of ``cfg`` in ``folder``: their figures."""
    from stages.dense_benchmark import main as bench_main
    from stages.dense_export import main as export_main
    from stages.dense_train import main as train_main

    (folder / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    c, model = ["--config", str(folder / "config.json")], str(folder / "model")
    assert train_main(c + ["--out", model, "--metrics", str(folder / "train")]) == 0
    assert export_main(c + ["--model", model, "--out", str(folder / "export")]) == 0
    assert bench_main(c + ["--model", model, "--export", str(folder / "export"), "--out", str(folder / "bench.json"),
                           "--sample", str(folder / "sample.png"), "--threads", "1", "--min-seconds", "0.01"]) == 0
    return tuple(json.loads((folder / name).read_text()) for name in ("train/train.json", "export/export.json",
                                                                      "bench.json"))


def test_detector_chain(registry, embedded, tmp_path):
    from stages.pretrain import config_for
    from stages.pretrain import train as pretrain_train
    from stages.zoo.resolve import resolve

    pretrain = config_for(registry, "MobileNetV1")  # stage det_pretrain, on the small embedded set
    pretrain["data"] = str(embedded["root"] / "cls")
    pretrain["run"].update(epochs=1, train_images=8)
    (tmp_path / "pre").mkdir(), (tmp_path / "pre-metrics").mkdir()
    assert pretrain_train(pretrain, tmp_path / "pre", tmp_path / "pre-metrics")["epochs"] == 1
    cfg = resolve(registry, "yolov3_mobilenetv1-coco", "tiny")
    cfg["data"] = str(embedded["root"] / "det" / "coco")
    assert cfg["run"]["weights"] == "models/pretrain/MobileNetV1/model.pdparams"  # the tiny profile's
    backbone = str(tmp_path / "pre" / "model.pdparams")
    cfg["run"].update(epochs=1, batch_size=4, weights=backbone)
    train, exported, bench = _chain(cfg, tmp_path)
    assert train["train_images"] == 12 and np.isfinite(train["train_loss"]) and 0 <= train["box_ap"] <= 100
    assert train["weights"] == backbone and train["weights_loaded"] == 135  # every MobileNetV1 backbone tensor
    assert json.loads((tmp_path / "model" / "config.json").read_text())["run"]["weights"] == backbone
    assert exported["outputs"] == 3 and exported["max_abs_diff_onnxruntime"] < 1e-2
    for key in ("box_ap", "onnx_fp32_box_ap", "paddle_fp32_t1_paper_median_ms", "onnx_fp32_t1_paper320_median_ms",
                "params_m", "paper_params_m", "paper_gflops", "size_mb", "commit"):
        assert key in bench, key
    assert abs(bench["paddle_fp32_box_ap"] - bench["onnx_fp32_box_ap"]) < 1.0  # same model, two runtimes
    assert bench["paper_params_m"] > 10 * bench["params_m"]  # 80 classes, full width
    assert (tmp_path / "sample.png").stat().st_size > 1000


def test_det_train_rejects_a_classification_config(registry, tmp_path, capsys):
    from stages.dense_train import main as train_main
    from stages.zoo.resolve import resolve

    (tmp_path / "config.json").write_text(json.dumps(resolve(registry, "mobilenetv1", "tiny")), encoding="utf-8")
    assert train_main(["--config", str(tmp_path / "config.json"), "--out", str(tmp_path / "m"),
                       "--metrics", str(tmp_path / "t")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "mobilenetv1" in err and "'task'" in err
    assert not (tmp_path / "m").exists()


def test_sample_image_shows_an_unsure_detectors_best_boxes(embedded, tmp_path):
    """Below the score threshold the most confident boxes (one per ground-truth box) are still drawn;
    above it, every box is."""
    import cv2

    from stages.zoo.det import data, evaluate
    from stages.zoo.metrics import Detections

    val = data.split({"dataset": "coco", "data": str(embedded["root"] / "det" / "coco"),
                      "arch": {"input": 64}}, "val")
    n_gt = len(val.dataset.samples[0].boxes)
    boxes = [[4 * k, 4 * k, 4 * k + 10, 4 * k + 10] for k in range(n_gt + 2)]

    def red(scores: list[float]) -> int:
        evaluate.draw(val, 0, Detections.of(boxes, scores, [0] * len(scores)), tmp_path / "s.png")
        image = cv2.imread(str(tmp_path / "s.png"))
        return int(((image[..., 2] == 255) & (image[..., 0] == 0) & (image[..., 1] == 0)).sum())

    assert red([]) == 0
    low, high = [0.01] * (n_gt + 2), [0.9] * (n_gt + 2)
    assert 0 < red(low[:n_gt] + [0.0, 0.0]) < red(high)


def test_objectness_starts_at_the_prior():
    import paddle

    from stages.zoo.det import models

    model = models.build({"name": "YOLOv3", "backbone": "MobileNetV1", "scale": 0.25, "classes": 3, "input": 64})
    for conv in model.yolo_head.yolo_outputs:
        prob = paddle.nn.functional.sigmoid(conv.bias).numpy().reshape(3, 3 + 5)
        np.testing.assert_allclose(prob[:, 4], models.OBJECT_PRIOR, rtol=1e-5)
        np.testing.assert_allclose(prob[:, :4], 0.5)  # the rest as ppdet starts them


@pytest.mark.slow
@pytest.mark.parametrize("entry", one_per_method("detection", "compressed_built"))  # stage det_compress's group
def test_compressed_detector_chain(registry, embedded, tmp_path, monkeypatch, entry):
    """Compress (from an untrained base), export, benchmark. Quantized: measured as int8, with int8 weights
    on disk and a quarter of the fp32 paper size. Pruned: the seeds' head list, mapped to ppdet 2.6's
    names, pruned by its ratios (or by those of the sensitivity analysis), in a smaller artifact."""
    from stages import dense_compress
    from stages.dense_benchmark import main as bench_main
    from stages.dense_export import main as export_main
    from stages.zoo.det import measure, models
    from stages.zoo.resolve import resolve

    monkeypatch.setattr(measure, "PAPER_SIZES", ())
    monkeypatch.setattr(dense_compress, "PROBE_IMAGES", 4)
    cfg = resolve(registry, entry, "tiny")
    cfg["data"] = str(embedded["root"] / "det" / "coco")
    cfg["paper_arch"]["input"] = 128
    cfg["run"].update(finetune_epochs=1, batch_size=4, bench_runs=1, calib_batches=1)
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    arch = untrained_base(registry, cfg["base"], tmp_path / "base")
    c, model = ["--config", str(tmp_path / "config.json")], str(tmp_path / "model")
    assert dense_compress.main(c + ["--base", str(tmp_path / "base"), "--out", model,
                                    "--metrics", str(tmp_path / "compress")]) == 0
    done = json.loads((tmp_path / "compress" / "compress.json").read_text())
    assert "base_box_ap" in done
    assert export_main(c + ["--model", model, "--out", str(tmp_path / "export")]) == 0
    exported = json.loads((tmp_path / "export" / "export.json").read_text())
    assert bench_main(c + ["--model", model, "--export", str(tmp_path / "export"), "--out", str(tmp_path / "b.json"),
                           "--sample", str(tmp_path / "sample.png"), "--threads", "1", "--min-seconds", "0"]) == 0
    bench = json.loads((tmp_path / "b.json").read_text())
    prune = cfg["method"]["prune"]
    if prune:
        names = models.weight_names(models.build(arch), prune["params"])
        pruned = json.loads((tmp_path / "model" / "model.json").read_text())["pruned"]
        assert list(pruned) == names  # the 18 head convolutions, and nothing else
        if prune["ratios"]:
            assert list(pruned.values()) == prune["ratios"]
        else:
            assert done["flops_reduction"] == pytest.approx(prune["target_flops_reduction"], abs=0.02)
            assert set(json.loads((tmp_path / "compress" / "sensitivity.json").read_text())) == set(names)
        assert 0 < done["flops_reduction"] and done["macs_after"] < done["macs_before"]
        assert bench["box_ap"] == bench["paddle_fp32_box_ap"] and "onnx_fp32_box_ap" in bench
        return
    assert bench["box_ap"] == bench["paddle_int8_box_ap"]
    # ONNX Runtime quantized YOLOv3's upsample-size arithmetic, and the int8 model ran only at its
    # calibration size; with shape arithmetic kept float it runs at the export check's 2x size and is measured
    assert "onnx_int8_unsupported" not in exported and exported["onnx_int8_initializers"] > 0
    assert "onnx_int8_box_ap" in bench
    # layers the seeds leave in float (SSDLite: depthwise and squeeze-excitation convs) keep float weights
    floats = cfg["method"]["quant"]["not_quant_pattern"]
    assert bench["paddle_int8_size_mb"] < bench["paddle_fp32_size_mb"] * (0.8 if floats else 0.5)
    assert bench["paper_size_mb"] == pytest.approx(bench["paper_params_m"] * 1e6 / 2 ** 20, rel=1e-3)


def test_only_each_class_best_candidates_enter_nms():
    from stages.zoo.det.decode import candidates

    scores, labels = np.array([0.2, 0.9, 0.5, 0.7, 0.6]), np.array([0, 0, 1, 0, 0])
    assert candidates(scores, labels, 0, top_k=2).tolist() == [1, 3]  # best two of class 0
    assert candidates(scores, labels, 0, top_k=9).tolist() == [1, 3, 4, 0]
    assert candidates(scores, labels, 1, top_k=2).tolist() == [2]


def test_every_trained_detector_backbone_is_pretrained(registry):
    """det_train and inst_train start every detector from stage det_pretrain's backbone: each must be declared."""
    import yaml

    declared = set(registry.defaults["detection"].pretrain)
    assert {backbone for backbone, _ in _yolo_backbones()} | set(_ssdlite_backbones()) <= declared
    for task in ("detection", "instance_segmentation"):
        zoo = yaml.safe_load((ROOT / "params" / "zoo" / f"{task}.yaml").read_text(encoding="utf-8"))
        trained = zoo[task]["groups"]["trained"]
        assert {registry.entries[name].arch.backbone for name in trained} <= declared, task


@pytest.mark.parametrize("name", ["MobileNetV1", "MobileNetV3_large"])  # the narrowed ones: the test below
def test_a_pretrained_classifier_fills_its_detector_backbone(registry, name):
    """Every tensor of the detector's backbone comes from det_pretrain's classifier, by name and shape."""
    from stages.zoo.det import models

    assert name in registry.defaults["detection"].pretrain
    state = models.classifier(name, 0.25, 10).state_dict()
    detector = models.build({"name": "YOLOv3", "backbone": name, "scale": 0.25, "classes": 3, "input": 64})
    own = detector.state_dict()
    backbone = [k for k in own if k.startswith("backbone.")]
    assert backbone and all(k in state and list(state[k].shape) == list(own[k].shape) for k in backbone)


#: One one-width backbone per kind of block: ResNet18 and ResNet101 narrow as ResNet34 and ResNet50 (the same
#: blocks, other depths; ResNet101's case alone took 22 s of the suite), ResNet101_vd as ResNet50_vd (its stem and
#: average-pooled shortcuts), which is narrowed with the deformable convolutions of its YOLOv3 entries.
_NARROWED = [("DarkNet53", False), ("ResNet34", False), ("ResNet50", False), ("ResNet50_vd", True)]


def test_the_narrowing_cases_cover_every_one_width_backbones_block():
    names = {name for name, _ in _NARROWED}
    assert names <= _ONE_WIDTH and _ONE_WIDTH - names == {"ResNet18", "ResNet101", "ResNet101_vd"}


@pytest.mark.parametrize("name,dcn", _NARROWED)
def test_a_one_width_backbone_is_narrowed_to_the_profile_width(name, dcn):
    """ppdet builds the ResNets and DarkNet53 at one width: at scale 0.25 they keep a quarter of every
    convolution's filters (~1/16 of the tensors; a deformable one's too, which PaddleSlim's tracer passes
    over), ``out_shape`` (what the FPN is built from) says the channels the narrowed maps have, and
    det_pretrain's narrowed classifier fills every backbone tensor by name and shape (but a deformable
    convolution's offsets: the classifier has none, they start at zero as ppdet's)."""
    import paddle

    from stages.zoo.det import models

    size = lambda net: sum(int(np.prod(p.shape)) for p in net.parameters())
    detector = models.build({"name": "YOLOv3", "backbone": name, "dcn": dcn, "scale": 0.25, "classes": 3,
                             "input": 64})
    full, narrow = models.backbone(name, 1.0, dcn), detector.backbone
    assert 1 / 20 < size(narrow) / size(full) < 1 / 12
    maps = narrow({"image": paddle.zeros([1, 3, 64, 64])})
    assert [m.shape[1] for m in maps] == [s.channels for s in narrow.out_shape]
    assert [s.channels // 4 for s in full.out_shape] == [s.channels for s in narrow.out_shape]
    wide = dict(full.named_parameters())
    for key, p in narrow.named_parameters():  # every convolution (not the offsets': 3 x 3 x 3 fixed)
        if len(p.shape) == 4 and "conv_offset" not in key:
            assert p.shape[0] == wide[key].shape[0] // 4, key
    names = [p.name for p in detector.parameters()]
    assert len(set(names)) == len(names)  # the optimizers key their state by name
    state = models.classifier(name, 0.25, 10).state_dict()
    own = {k: v.shape for k, v in detector.state_dict().items() if k.startswith("backbone.")}
    assert own and all(k in state and state[k].shape == shape for k, shape in own.items() if "conv_offset" not in k)


def test_a_narrowed_deformable_yolov3_trains_loads_back_and_exports_what_it_computes(embedded, tmp_path):
    """YOLOv3 R50-vd-dcn at the tiny profile's width: a training step, its model.json rebuilds the same
    shapes (the narrowing is redone at load), Paddle Inference returns what the model computes; no ONNX."""
    import json

    import paddle

    from stages.zoo.datasets import load
    from stages.zoo.det import data, models

    paddle.seed(0)
    arch = {"name": "YOLOv3", "backbone": "ResNet50_vd", "dcn": True, "scale": 0.25, "classes": 10, "input": 64}
    model, info = models.build(arch), models.describe(arch)
    split = data.DetSet(load("coco", embedded["root"] / "det" / "coco", "train"), 64, "coco")
    batch = {k: paddle.to_tensor(v) for k, v in data.yolo_targets(split, np.arange(2), info).items()}
    loss = model(batch["image"], batch)["loss"]
    loss.backward()
    assert np.isfinite(float(loss)) and model.backbone.res5.res5a.branch2b.conv.weight.grad is not None
    paddle.save(model.state_dict(), str(tmp_path / "model.pdparams"))
    (tmp_path / "model.json").write_text(json.dumps(info), encoding="utf-8")
    loaded, _ = models.load(tmp_path)
    assert {k: v.shape for k, v in loaded.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    expected, got = model_and_export(model, tmp_path, 64)
    assert len(got) == 3 and all(np.abs(g - e).max() < 1e-3 for g, e in zip(got, expected))
    assert models.onnx_unsupported(info) == models.DCN_ONNX


@pytest.mark.parametrize("name", _declared_backbones())
def test_full_profile_pretrain_is_the_published_backbone(registry, tmp_path, published_backbone, name):
    """In the full profile stage det_pretrain trains nothing: it writes PaddleDetection's published
    ImageNet backbone (its URL in params, fetched through Paddle's download cache) under the detector's
    names, every backbone tensor loaded, only the classification head fresh, no score claimed."""
    import paddle

    from stages.pretrain import config_for, train
    from stages.zoo.det import models

    config = config_for(registry, name, "full")
    url = registry.defaults["detection"].pretrain[name]
    assert config["run"]["weights"] == url and config["run"]["epochs"] == 0 and config["arch"]["scale"] == 1.0
    assert url.startswith("https://paddledet.bj.bcebos.com/models/pretrained/") and url.endswith(".pdparams")
    published = published_backbone(name)
    config["data"] = str(ROOT / "tests/fixtures/imagenet")
    (tmp_path / "out").mkdir(), (tmp_path / "metrics").mkdir()
    figures = train(config, tmp_path / "out", tmp_path / "metrics")
    assert published_backbone.fetched == [url] and figures["weights"] == url and "top1" not in figures
    assert (figures["weights_loaded"], figures["weights_fresh"]) == (len(published), 2)  # fc weight and bias
    state = paddle.load(str(tmp_path / "out/model.pdparams"))
    assert all(np.array_equal(state[f"backbone.{k}"].numpy(), v) for k, v in published.items())
    detector = models.build({"name": "YOLOv3", "backbone": name, "scale": 1.0, "classes": 80, "input": 608})
    own = [k for k in detector.state_dict() if k.startswith("backbone.")]
    assert sorted(own) == sorted(f"backbone.{k}" for k in published)  # det_train takes all of it


def test_pretrain_reports_published_weights_it_cannot_read(tmp_path, monkeypatch, published_backbone, capsys):
    """A broken download of the published backbone: one line that names the key, nothing written."""
    from stages import pretrain

    published_backbone.path.write_bytes(b"not a pickle")  # what the download hands out
    full = pretrain.config_for  # the full profile's run, on the ImageNet-format fixture
    monkeypatch.setattr(pretrain, "config_for", lambda registry, name: {
        **full(registry, name, "full"), "data": str(ROOT / "tests/fixtures/imagenet")})
    capsys.readouterr()
    assert pretrain.main(["MobileNetV1", "--out", str(tmp_path / "out"), "--metrics", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "MobileNetV1_pretrained.pdparams cannot be read" in err
    assert err.startswith("params/defaults/detection.yaml: key 'pretrain.MobileNetV1': ")
    assert not (tmp_path / "out").exists() and not (tmp_path / "m").exists()


def test_pretrain_rejects_an_undeclared_backbone(tmp_path, capsys):
    from stages.pretrain import main

    assert main(["ResNet18", "--out", str(tmp_path / "out"), "--metrics", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "params/defaults/detection.yaml" in err and "'pretrain'" in err and "ResNet18" in err
    assert not (tmp_path / "out").exists()


def test_augmented_images_keep_their_digits_and_boxes(registry, embedded):
    """ppdet's distortion and expansion, deterministic for a seed, leave NumPy's global generator as
    it was, and move each box with its digit: same labels, same aspect ratio, inside the image."""
    from stages.zoo.det.data import augmented, split
    from stages.zoo.resolve import resolve

    cfg = resolve(registry, "yolov3_mobilenetv1-coco", "tiny")
    cfg["data"] = str(embedded["root"] / "det" / "coco")
    data = split(cfg, "train")
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    for i in range(4):
        xywh, labels = data.gt_xywh(i)
        for seed in range(3):
            image, boxes, kept = augmented(data, i, seed)
            again = augmented(data, i, seed)
            np.testing.assert_array_equal(image, again[0])
            assert image.shape == (3, data.size, data.size) and sorted(kept) == sorted(labels)
            order, was = np.argsort(kept, kind="stable"), np.argsort(labels, kind="stable")
            np.testing.assert_allclose(boxes[order, 2] / boxes[order, 3], xywh[was, 2] / xywh[was, 3], rtol=0.05)
            assert (boxes[:, :2] - boxes[:, 2:] / 2 >= -1e-6).all() and (boxes[:, :2] + boxes[:, 2:] / 2 <= 1 + 1e-6).all()
    np.testing.assert_array_equal(np.random.get_state()[1], before)



def _ssdlite_backbones() -> list[str]:
    """The backbones of every SSDLite entry in the registry."""
    from stages.zoo.registry import load_registry

    return sorted({e.arch.backbone for e in load_registry(ROOT / "params").entries.values() if e.arch.name == "SSDLite"})


@pytest.mark.parametrize("size,scale,classes", [(96, 0.25, 10), (320, 1.0, 80)])
@pytest.mark.parametrize("backbone", _ssdlite_backbones())
def test_ssdlite_outputs_one_box_and_score_per_ppdet_anchor(backbone, size, scale, classes):
    """Six outputs (stride 16 to the whole image); the NumPy anchors that score an exported model are
    ppdet's own, at the profile's and at the paper's input."""
    import paddle

    from stages.zoo.det import models, ssd

    model = models.build({"name": "SSDLite", "backbone": backbone, "scale": scale, "classes": classes, "input": size})
    model.eval()
    x = paddle.zeros([1, 3, size, size])
    with paddle.no_grad():
        boxes, logits = model(x)
        feats = model.backbone({"image": x})
        ppdet = np.concatenate([b.numpy() for b in model.ssd_head.anchor_generator(feats, x)])
    assert [f.shape[2] for f in feats] == [-(-size // (16 * 2 ** k)) for k in range(6)]
    anchors = ssd.priors(ssd.anchor_levels(size), size)
    np.testing.assert_allclose(anchors, ppdet, atol=1e-6)
    assert tuple(boxes.shape) == (1, len(anchors), 4) and tuple(logits.shape) == (1, len(anchors), classes + 1)


def test_ssdlite_anchor_sizes_are_the_published_ones_at_320():
    from stages.zoo.det import ssd

    levels = ssd.anchor_levels(320)
    assert [round(lv["step"]) for lv in levels] == [16, 32, 64, 107, 160, 320]  # the published steps
    assert [lv["min_size"] for lv in levels] == pytest.approx([32, 64, 121.6, 179.2, 236.8, 294.4])


def test_ssdlite_decode_returns_the_anchor_of_a_confident_zero_offset():
    from stages.zoo.det import decode, models, ssd

    info = models.describe({"name": "SSDLite", "backbone": "MobileNetV3_small", "classes": 3, "input": 96})
    anchors = ssd.priors(ssd.anchor_levels(96), 96)
    offsets = np.zeros((1, len(anchors), 4), np.float32)
    logits = np.tile(np.array([-10, -10, -10, 10], np.float32), (1, len(anchors), 1))  # background everywhere
    logits[0, 30] = [-10, -10, 10, -10]  # class 2, certain
    boxes, scores, labels = decode.detections([offsets, logits], info, 96)[0]
    assert len(boxes) == 1 and labels[0] == 2 and scores[0] > 0.99
    np.testing.assert_allclose(boxes[0], anchors[30] * 96, atol=1e-6)


def test_ssd_targets_carry_each_box_label(embedded):
    from stages.zoo.datasets import load
    from stages.zoo.det.data import DetSet, ssd_targets

    data = DetSet(load("coco", embedded["root"] / "det" / "coco", "train"), 64, "coco")
    batch = ssd_targets(data, np.arange(4))
    for k in range(4):
        xywh, labels = data.gt_xywh(k)
        n = len(labels)
        assert batch["gt_class"][k, :n].tolist() == labels.tolist() and not batch["gt_bbox"][k, n:].any()
        np.testing.assert_allclose(batch["gt_bbox"][k, :n, :2], xywh[:, :2] - xywh[:, 2:] / 2, atol=1e-6)
    augmented = ssd_targets(data, np.arange(4), np.random.default_rng(0))
    assert augmented["image"].shape == (4, 3, 64, 64) and (augmented["gt_bbox"] <= 1).all()


def test_ssdlite_quant_aware_leaves_the_seeds_layers_in_float(registry):
    """``not_quant_pattern: [res_conv1, se_block]`` (ppdet 1.x names): every residual unit's depthwise conv
    and squeeze-excitation stay float convolutions; the rest get fake-quant ops."""
    from stages.zoo.compress.qat import leave_float
    from stages.zoo.compress import qat
    from stages.zoo.det import models

    entry = registry.entries["ssdlite_mobilenetv3_small-coco-quant_aware"]
    model = models.build({"name": "SSDLite", "backbone": "MobileNetV3_small", "scale": 0.25, "classes": 3, "input": 64})
    leave_float(model, [models.NOT_QUANT[p] for p in entry.method.quant.not_quant_pattern])
    qat.prepare(model)
    kinds = {path: type(layer).__name__ for path, layer in model.named_sublayers()}
    floats = [p for p, k in kinds.items() if k == "Conv2D"]
    assert floats and all(".bottleneck_conv." in p or ".mid_se." in p for p in floats)
    assert any(".bottleneck_conv." in p for p in floats) and any(".mid_se." in p for p in floats)
    assert any(k.startswith("Quantized") for p, k in kinds.items() if ".expand_conv." in p)


def test_ssdlite_chain(registry, embedded, tmp_path):
    """An SSDLite trained, exported and benchmarked as the YOLOv3s."""
    from stages.zoo.det import measure
    from stages.zoo.resolve import resolve

    full = resolve(registry, "ssdlite_mobilenetv3_small-coco", "full")
    assert full["run"]["weights"] == "models/pretrain/MobileNetV3_small/model.pdparams"  # stage det_pretrain's
    cfg = resolve(registry, "ssdlite_mobilenetv3_small-coco", "tiny")
    assert cfg["run"]["weights"] == ""  # the tiny profile trains it from scratch (params/zoo/detection.yaml)
    cfg["data"] = str(embedded["root"] / "det" / "coco")
    cfg["run"].update(epochs=1, batch_size=4)
    train, exported, bench = _chain(cfg, tmp_path)
    assert np.isfinite(train["train_loss"]) and 0 <= train["box_ap"] <= 100 and "weights" not in train
    assert exported["outputs"] == 2 and exported["max_abs_diff_onnxruntime"] < 1e-2
    assert abs(bench["paddle_fp32_box_ap"] - bench["onnx_fp32_box_ap"]) < 1.0  # same model, two runtimes
    assert bench["paper_input"] == 320 and 1.5 < bench["paper_params_m"] < 2.5  # 80 classes, full width
    assert all(f"paddle_fp32_t1_paper{px}_median_ms" in bench for px in measure.PAPER_SIZES if px != 320)


def _yolo_batch(arch: dict, images: int = 2) -> dict:
    """Targets of ``images`` random-box images for a YOLOv3 of ``arch`` (as det_train feeds it)."""
    import paddle

    from stages.zoo.det import models
    from stages.zoo.det.data import yolo_targets

    class Images:  # what yolo_targets reads of a DetSet without augmentation
        def normalised(self, idx):
            return np.random.default_rng(0).standard_normal((len(idx), 3, arch["input"], arch["input"])).astype(np.float32)

        def gt_xywh(self, i):  # one box per image: normalised centre x, y, width, height; its label
            return np.array([[0.4, 0.5, 0.4, 0.5]], np.float32), np.array([1])

    info = models.describe(arch)
    return {k: paddle.to_tensor(v) for k, v in yolo_targets(Images(), np.arange(images), info).items()}


@pytest.mark.parametrize("strategy", ["l2", "fine_grained"])
def test_a_distilled_yolov3_learns_its_teachers_output_maps(strategy):
    """The distilled loss is ppdet's YOLOv3 loss plus a term that vanishes when the teacher's output maps
    are the student's own (l2), and that gives the student's head a gradient (both strategies)."""
    import copy

    import paddle

    from stages.zoo.det import fit, models

    arch = {"name": "YOLOv3", "backbone": "MobileNetV1", "scale": 0.25, "classes": 3, "input": 64}
    paddle.seed(1)
    student = models.build(arch)
    twin, other = copy.deepcopy(student), models.build(arch)
    batch, head = _yolo_batch(arch), student.yolo_head
    student.eval()  # batch norms as the teacher's (it runs in eval mode): the same output maps as its twin
    maps = [conv(f) for conv, f in zip(head.yolo_outputs, student.neck(student.backbone({"image": batch["image"]})))]
    plain = float(head.loss(maps, batch, head.anchors)["loss"])
    if strategy == "l2":
        assert float(fit.distilled_loss(student, twin, batch, strategy)) == pytest.approx(plain, rel=1e-5)
    student.train()
    plain = float(student(batch["image"], batch)["loss"])
    loss = fit.distilled_loss(student, other, batch, strategy)
    assert float(loss) > plain
    loss.backward()
    assert float(paddle.abs(student.yolo_head.yolo_outputs[0].weight.grad).sum()) > 0


@pytest.mark.slow
@pytest.mark.parametrize("entry", one_per_method("detection", "distilled"))  # stage det_distill's entries
def test_distilled_detector_chain(registry, embedded, tmp_path, monkeypatch, entry):
    """Distill (from untrained base and teacher), export, benchmark: compress.json scores the teacher, the
    student is retrained (distillation alone) or pruned by the seeds' ratios and fine-tuned (with pruning)."""
    from stages import dense_compress
    from stages.dense_benchmark import main as bench_main
    from stages.dense_export import main as export_main
    from stages.zoo.det import measure
    from stages.zoo.resolve import resolve

    monkeypatch.setattr(measure, "PAPER_SIZES", ())
    cfg = resolve(registry, entry, "tiny")
    cfg["data"] = str(embedded["root"] / "det" / cfg["dataset"])
    cfg["paper_arch"]["input"] = 128
    cfg["run"].update(epochs=1, finetune_epochs=1, batch_size=4, bench_runs=1, weights="")
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    untrained_base(registry, cfg["base"], tmp_path / "base")
    untrained_base(registry, cfg["method"]["distill"]["teacher"], tmp_path / "teacher")
    c, model = ["--config", str(tmp_path / "config.json")], str(tmp_path / "model")
    assert dense_compress.main(c + ["--base", str(tmp_path / "base"), "--out", model, "--metrics",
                                    str(tmp_path / "compress")]) == 1  # a distilled entry needs its teacher
    assert dense_compress.main(c + ["--base", str(tmp_path / "base"), "--teacher", str(tmp_path / "teacher"),
                                    "--out", model, "--metrics", str(tmp_path / "compress")]) == 0
    done = json.loads((tmp_path / "compress" / "compress.json").read_text())
    head = next(k[len("base_"):] for k in done if k.startswith("base_"))  # COCO box AP, VOC mAP
    assert {f"teacher_{head}", f"float_{head}"} <= set(done)
    pruned = json.loads((tmp_path / "model" / "model.json").read_text()).get("pruned")
    assert bool(pruned) == bool(cfg["method"]["prune"])
    assert export_main(c + ["--model", model, "--out", str(tmp_path / "export")]) == 0
    assert bench_main(c + ["--model", model, "--export", str(tmp_path / "export"), "--out", str(tmp_path / "b.json"),
                           "--sample", str(tmp_path / "sample.png"), "--threads", "1", "--min-seconds", "0"]) == 0
    assert json.loads((tmp_path / "b.json").read_text())[head] >= 0


def test_distillation_is_built_for_yolov3_only(registry, tmp_path, capsys):
    """An SSDLite declared distilled stops with one line naming the key, nothing written."""
    from stages import dense_compress
    from stages.zoo.resolve import resolve

    cfg = resolve(registry, "yolov3_mobilenetv1-voc-distill_r34", "tiny")
    cfg["arch"]["name"] = "SSDLite"
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    args = ["--config", str(tmp_path / "config.json"), "--base", str(tmp_path), "--teacher", str(tmp_path),
            "--out", str(tmp_path / "out"), "--metrics", str(tmp_path / "m")]
    capsys.readouterr()
    assert dense_compress.main(args) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "key 'method.distill'" in err and not (tmp_path / "out").exists()


def test_rcnn_decoding_follows_ppdets_box_coder_and_nms():
    """Zero deltas give the proposals back; class-wise boxes, the background column dropped, scores under
    ppdet's threshold left out, overlapping boxes of a class merged by NMS, one image per count."""
    from stages.zoo.det import rcnn

    rois = np.array([[10, 10, 30, 40], [11, 10, 31, 40], [50, 50, 70, 60]], np.float32)
    np.testing.assert_allclose(rcnn.decode_boxes(rois, np.zeros((3, 8)), 96)[:, 1], rois, atol=1e-6)
    shifted = rcnn.decode_boxes(rois[:1], np.array([[0, 0, 0, 0, 10, 0, 0, 0]]), 96)[0, 1]
    np.testing.assert_allclose(shifted, [30, 10, 50, 40], atol=1e-4)  # dx 10 / weight 10 = one box width
    probs = np.array([[0.1, 0.8, 0.1], [0.1, 0.7, 0.2], [0.02, 0.03, 0.95]], np.float32)  # background last
    boxes, scores, labels = rcnn.detections([rois, np.array([3]), np.zeros((3, 8)), probs], {}, 96)[0]
    assert labels.tolist() == [1, 0] and scores.tolist() == pytest.approx([0.8, 0.1])  # each pair merged
    np.testing.assert_allclose(boxes[0], rois[0])
    two = rcnn.detections([rois, np.array([2, 1]), np.zeros((3, 8)), probs], {}, 96)
    assert len(two) == 2 and two[1][0].shape == (0, 4)  # the second image's one proposal is background
    agnostic = rcnn.detections([rois, np.array([3]), np.zeros((3, 4)), probs], {"box_weights": [30, 30, 15, 15]}, 96)
    assert agnostic[0][2].tolist() == [1, 0]  # a Cascade head's one box per proposal serves every class


def test_c4_rcnns_read_the_fourth_stage_and_head_with_the_fifth():
    """A C4 RCNN (no neck): the backbone stops at its fourth stage (stride 16), ppdet's Res5Head is the box head
    (at the narrowed widths: twice the backbone's channels out), one anchor level of five sizes; Cascade and
    the shallow ResNets have no C4 entry and are refused in one line."""
    from stages.zoo.det import models

    arch = {"name": "FasterRCNN", "backbone": "ResNet50", "neck": None, "classes": 3, "input": 96, "scale": 0.25}
    model = models.build(arch)
    assert [s.stride for s in model.backbone.out_shape] == [16] and len(model.backbone.res_layers) == 3
    assert model.bbox_head.get_head().out_shape[0].channels == 2 * model.backbone.out_shape[0].channels
    assert models.describe(arch)["anchor_sizes"] == [[round(s * 96 / 800, 2) for s in (32, 64, 128, 256, 512)]]
    for other in ({**arch, "name": "CascadeRCNN"}, {**arch, "backbone": "ResNet34"}):
        with pytest.raises(models.UnsupportedArch, match="C4"):
            models.build(other)


@pytest.mark.parametrize("name", ["FasterRCNN", "CascadeRCNN"])
def test_rcnn_samples_rois_by_image_area(name):
    """ppdet's 512 training RoIs and 1000 test proposals per image at 800 px, scaled with the area (at least 64
    and 100): 64 and 100 at 96 px."""
    from stages.zoo.det import rcnn

    assert [rcnn.rois_per_image(s) for s in (800, 608, 320, 96)] == [512, 296, 82, 64]
    assert [rcnn.proposals(s) for s in (800, 608, 320, 96)] == [1000, 578, 160, 100]
    arch = {"name": name, "backbone": "MobileNetV3_large", "neck": "fpn", "classes": 3, "input": 96, "scale": 0.25}
    assert rcnn.build(arch).bbox_head.bbox_assigner.batch_size_per_im == 64


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["faster_rcnn_r50_fpn-coco", "cascade_rcnn_mobilenetv3_fpn_320-coco"])
def test_rcnn_chain(registry, embedded, tmp_path, monkeypatch, entry):
    """Faster RCNN R50-FPN (narrowed) and Cascade RCNN MobileNetV3-FPN: train an epoch, export (Paddle Inference
    only, one image per call; no ONNX, said why), benchmark: scores of the exported model, a picture, paper-scale
    figures."""
    from stages.zoo.det import measure
    from stages.zoo.resolve import resolve

    monkeypatch.setattr(measure, "PAPER_SIZES", ())  # 608/416/320 px timings: the YOLOv3 chain's
    cfg = resolve(registry, entry, "tiny")
    cfg["data"] = str(embedded["root"] / "det" / "coco")
    cfg["paper_arch"]["input"] = 128
    cfg["run"].update(epochs=1, batch_size=4, weights="", bench_runs=1)
    train, exported, bench = _chain(cfg, tmp_path)
    assert np.isfinite(train["train_loss"]) and 0 <= train["box_ap"] <= 100
    assert exported["outputs"] == 4 and exported["max_abs_diff_paddle_inference"] < 1e-2
    assert "generate_proposals_v2" in exported["onnx_unsupported"] and not (tmp_path / "export" / "model.onnx").exists()
    assert "paddle_fp32_box_ap" in bench and not any(k.startswith("onnx_") for k in bench)
    assert bench["paper_params_m"] > 10 * bench["params_m"] and (tmp_path / "sample.png").stat().st_size > 1000


def _faster_rcnns() -> list[str]:
    """The Faster RCNN entries that the det stages build (``groups.faster_rcnn``)."""
    import yaml

    zoo = yaml.safe_load((ROOT / "params" / "zoo" / "detection.yaml").read_text(encoding="utf-8"))
    return sorted(zoo["detection"]["groups"]["faster_rcnn"])


@pytest.mark.parametrize("entry", _faster_rcnns())
def test_faster_rcnn_paper_scale_size_matches_the_published_model(registry, entry):
    """At paper scale (full width, 80 classes) the built Faster RCNN holds the published model's weights,
    within 3% (sizes in MB of 10^6 bytes, float32)."""
    from stages.zoo.det import models
    from stages.zoo.resolve import resolve

    published = [p.size_mb for p in registry.entries[entry].published if p.size_mb]
    model = models.build(resolve(registry, entry, "full")["arch"])
    mb = sum(int(p.size) for p in model.parameters()) * 4 / 1e6
    assert published and all(abs(mb / p - 1) < 0.03 for p in published), (mb, published)
