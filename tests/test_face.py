"""Face detection slice: ppdet BlazeFace for every registered variant (anchors as ppdet makes them, the
published 1.x sizes), SSD decoding, training targets, and train -> compress -> export -> benchmark on the
small embedded WIDER FACE-layout set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from zoo_groups import one_per_method, untrained_base

ROOT = Path(__file__).resolve().parents[1]


def _face_entries(section: str) -> list[str]:
    """Names of the face detection entries of one section of params/zoo/face_detection.yaml."""
    import yaml

    doc = yaml.safe_load((ROOT / "params" / "zoo" / "face_detection.yaml").read_text(encoding="utf-8"))
    return sorted(doc["face_detection"][section])


def _arch(registry, entry: str, profile: str = "tiny") -> dict:
    from stages.zoo.resolve import resolve

    return resolve(registry, entry, profile)["arch"]


def _from_untrained_base(registry, embedded, tmp_path: Path, entry: str, **run) -> tuple[list[str], str]:
    """``entry``'s tiny config (``run`` settings changed) on the small embedded set in ``tmp_path``, beside
    its base's untrained model (``tmp_path/base``): the stages' ``--config`` arguments and model folder."""
    from stages.zoo.resolve import resolve

    cfg = resolve(registry, entry, "tiny")
    cfg["data"] = str(embedded["root"] / "face")
    cfg["run"].update(run)
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    untrained_base(registry, cfg["base"], tmp_path / "base")
    return ["--config", str(tmp_path / "config.json")], str(tmp_path / "model")


@pytest.mark.parametrize("entry", _face_entries("baselines"))
def test_blazeface_outputs_one_box_and_score_per_ppdet_anchor(registry, entry):
    import paddle

    from stages.zoo.face import decode, models

    arch = _arch(registry, entry)
    model = models.build(arch)
    model.eval()
    x = paddle.zeros([2, 3, arch["input"], arch["input"]])
    with paddle.no_grad():
        boxes, logits = model(x)
        feats = model.backbone({"image": x})
        ppdet = np.concatenate([b.numpy() for b in model.blaze_head.anchor_generator(feats, x)])
    anchors = decode.priors(models.describe(arch), arch["input"])
    np.testing.assert_allclose(anchors, ppdet, atol=1e-6)
    assert tuple(boxes.shape) == (2, len(anchors), 4) and tuple(logits.shape) == (2, len(anchors), 2)


@pytest.mark.parametrize("entry", _face_entries("baselines"))
def test_paper_scale_size_matches_the_published_model(registry, entry):
    """The seeds publish ppdet 1.x's BlazeFace models (sizes in KB); the paper-scale architecture, with
    1.x's full second convolution in the double blocks, holds as many weights, within 3%."""
    from stages.zoo.bench import model_stats
    from stages.zoo.face import models

    published = [p.size_kb for p in registry.entries[entry].published if p.size_kb]
    arch = _arch(registry, entry, "full")
    kb = model_stats(models.build(arch), 64)["params"] * 4 / 1000
    assert published and all(abs(kb / p - 1) < 0.03 for p in published), (kb, published)


def test_decode_returns_the_anchor_of_a_confident_zero_offset():
    from stages.zoo.face import decode, models

    info = models.describe({"name": "BlazeFace", "classes": 1, "input": 64})
    anchors = decode.priors(info, 64)
    offsets = np.zeros((1, len(anchors), 4), np.float32)
    logits = np.tile(np.array([-10.0, 10.0], np.float32), (1, len(anchors), 1))  # background everywhere
    logits[0, 7] = [10.0, -10.0]
    boxes, scores, labels = decode.detections([offsets, logits], info, 64)[0]
    assert len(boxes) == 1 and labels[0] == 0 and scores[0] > 0.99
    np.testing.assert_allclose(boxes[0], anchors[7] * 64, atol=1e-6)


def test_ssd_targets_are_normalised_and_padded(embedded):
    from stages.zoo.datasets import load
    from stages.zoo.face.data import DetSet, ssd_targets

    data = DetSet(load("widerface", embedded["root"] / "face", "train"), 64, "widerface")
    batch = ssd_targets(data, np.arange(4))
    counts = [sum(not f for f in data.dataset.samples[i].ignore) for i in range(4)]
    assert batch["image"].shape == (4, 3, 64, 64) and batch["gt_bbox"].shape == (4, max(counts), 4)
    for k, n in enumerate(counts):
        boxes = batch["gt_bbox"][k]
        assert (boxes[:n, 2:] > boxes[:n, :2]).all() and boxes.max() <= 1 and not boxes[n:].any()


def test_quant_aware_training_calibrates_the_layers_it_exports(registry, embedded):
    """A training forward (with targets) runs every fake-quant layer that the eval forward and the int8
    export use, so each one's activation scale is calibrated. ppdet's FaceHead.forward calls its own lists
    of convolutions, which quant-aware training does not swap: the head's input scales stayed at their
    initial value and every QAT entry scored 0."""
    import paddle

    from stages.zoo.compress import qat
    from stages.zoo.datasets import load
    from stages.zoo.face import models
    from stages.zoo.face.data import DetSet, ssd_targets

    arch = _arch(registry, "blazeface_nas-widerface")
    data = DetSet(load("widerface", embedded["root"] / "face", "train"), arch["input"], "widerface")
    model = models.build(arch)
    qat.prepare(model)
    scales = {name: layer._scale for name, layer in model.named_sublayers() if name.endswith("_fake_quant_input")}
    before = {name: float(scale) for name, scale in scales.items()}
    assert any("blaze_head" in name for name in scales) and len(set(before.values())) == 1  # all at the start
    model.train()
    batch = {k: paddle.to_tensor(v) for k, v in ssd_targets(data, np.arange(4)).items()}
    with paddle.no_grad():
        model(batch["image"], batch)
    assert [name for name, scale in scales.items() if float(scale) == before[name]] == []


@pytest.mark.slow
def test_face_detector_chain(registry, embedded, tmp_path):
    """Train one epoch, export, benchmark: Easy/Medium/Hard AP of both runtimes, 640 px latency, a picture."""
    from stages.dense_benchmark import main as bench_main
    from stages.dense_export import main as export_main
    from stages.dense_train import main as train_main
    from stages.zoo.resolve import resolve

    cfg = resolve(registry, "blazeface_nas-widerface", "tiny")
    cfg["data"] = str(embedded["root"] / "face")
    cfg["run"].update(epochs=1, batch_size=4)
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    c = ["--config", str(tmp_path / "config.json")]
    assert train_main(c + ["--out", str(tmp_path / "model"), "--metrics", str(tmp_path / "train")]) == 0
    train = json.loads((tmp_path / "train" / "train.json").read_text())
    assert np.isfinite(train["train_loss"]) and all(0 <= train[k] <= 100 for k in ("easy", "medium", "hard"))
    assert export_main(c + ["--model", str(tmp_path / "model"), "--out", str(tmp_path / "export")]) == 0
    assert json.loads((tmp_path / "export" / "export.json").read_text())["outputs"] == 2
    assert bench_main(c + ["--model", str(tmp_path / "model"), "--export", str(tmp_path / "export"),
                           "--out", str(tmp_path / "bench.json"), "--sample", str(tmp_path / "sample.png"),
                           "--threads", "1", "--min-seconds", "0.01"]) == 0
    bench = json.loads((tmp_path / "bench.json").read_text())
    for key in ("easy", "medium", "hard", "onnx_fp32_hard", "paddle_fp32_t1_paper_median_ms", "paper_params_m"):
        assert key in bench, key
    assert bench["paper_input"] == 640 and abs(bench["paddle_fp32_hard"] - bench["onnx_fp32_hard"]) < 1.0
    assert (tmp_path / "sample.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.parametrize("entry", one_per_method("face_detection", "compressed"))  # stage face_compress
def test_quantized_face_detector_chain(registry, embedded, tmp_path, entry):
    """Quantize (from an untrained base), export, benchmark: measured as int8, with int8 weights on disk."""
    from stages import dense_compress
    from stages.dense_benchmark import main as bench_main
    from stages.dense_export import main as export_main

    c, model = _from_untrained_base(registry, embedded, tmp_path, entry, finetune_epochs=1, batch_size=4,
                                    bench_runs=1, calib_batches=1)
    assert dense_compress.main(c + ["--base", str(tmp_path / "base"), "--out", model,
                                    "--metrics", str(tmp_path / "compress")]) == 0
    assert "base_easy" in json.loads((tmp_path / "compress" / "compress.json").read_text())
    assert export_main(c + ["--model", model, "--out", str(tmp_path / "export")]) == 0
    assert bench_main(c + ["--model", model, "--export", str(tmp_path / "export"), "--out", str(tmp_path / "b.json"),
                           "--sample", str(tmp_path / "sample.png"), "--threads", "1", "--min-seconds", "0"]) == 0
    bench = json.loads((tmp_path / "b.json").read_text())
    assert bench["hard"] == bench["paddle_int8_hard"] and "onnx_int8_hard" in bench
    export = tmp_path / "export"  # the weights: the program file is half of a tiny model's bytes
    assert (export / "int8" / "inference.pdiparams").stat().st_size < (export / "inference.pdiparams").stat().st_size / 2


def test_nas_space_tokens_give_the_published_networks(registry):
    """The space's initial tokens are BlazeFace-NAS and the searched entry's declared tokens BlazeFace-NASV2
    (ppdet 1.x's configs, the filter lists :mod:`stages.zoo.face.models` builds those variants from)."""
    from stages.zoo.face import models, nas

    declared = registry.entries["blazeface-widerface-sanas"].method.nas.tokens
    assert nas.filters(nas.INIT_TOKENS) == models._FILTERS["nas"]
    assert nas.filters(declared) == models._FILTERS["nas_v2"]
    arch = {**_arch(registry, "blazeface-widerface-sanas"), "tokens": declared}
    assert models.describe(arch)["tokens"] == declared
    with pytest.raises(ValueError, match="tokens must be 8"):
        nas.filters([0] * 7)


def test_nas_space_is_walked_by_paddleslims_controller():
    """Registered as a PaddleSlim search space, the controller proposes in-range tokens from the initial
    ones, and scores only candidates that meet the constraint."""
    from stages.zoo.cls import nas as controller
    from stages.zoo.face import nas

    nas.register()
    nas.register()  # idempotent
    found = controller.search(nas.NAME, lambda t: float(sum(t)), lambda t: (t[0] == 2, 0.0), 6, 0)
    trace = found["trace"]
    assert trace[0]["tokens"] == nas.INIT_TOKENS and len(trace) == 6
    assert any(step["tokens"] != nas.INIT_TOKENS for step in trace) and all(step["tokens"][0] == 2 for step in trace)
    assert all(0 <= t < len(r) for step in trace for t, r in zip(step["tokens"], nas.RANGES))
    assert found["tokens"] == max(trace, key=lambda step: step["reward"])["tokens"]


@pytest.mark.slow
def test_face_search_chain(registry, embedded, tmp_path):
    """Search (two candidates), train, export, benchmark the searched entry: its tokens reach model.json,
    the exported model and the paper-scale figures (which differ from the base's)."""
    from stages import dense_search
    from stages.dense_benchmark import main as bench_main
    from stages.dense_export import main as export_main

    c, model = _from_untrained_base(registry, embedded, tmp_path, "blazeface-widerface-sanas", epochs=1,
                                    batch_size=4, search_iters=2, search_steps=2)
    assert dense_search.main(c + ["--base", str(tmp_path / "base"), "--out", model,
                                  "--metrics", str(tmp_path / "search")]) == 0
    search = json.loads((tmp_path / "search" / "search.json").read_text())
    assert search["searched"] and len(search["trace"]) == 2 and search["constraint"] == "params_reduction"
    assert all(step["constraint"] >= 0.5 for step in search["trace"])
    assert json.loads((tmp_path / "model" / "model.json").read_text())["tokens"] == search["tokens"]
    assert export_main(c + ["--model", model, "--out", str(tmp_path / "export")]) == 0
    assert bench_main(c + ["--model", model, "--export", str(tmp_path / "export"), "--out", str(tmp_path / "b.json"),
                           "--sample", str(tmp_path / "sample.png"), "--threads", "1", "--min-seconds", "0"]) == 0
    bench = json.loads((tmp_path / "b.json").read_text())
    assert "hard" in bench and bench["paper_params_m"] < 0.5 * 0.2024  # BlazeFace's paper size: 202.4k


def test_face_search_rejects_an_entry_of_another_space(registry, tmp_path, capsys):
    from stages import dense_search
    from stages.zoo.resolve import resolve

    cfg = resolve(registry, "mobilenetv2-sanas", "tiny")
    (tmp_path / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    assert dense_search.main(["--config", str(tmp_path / "config.json"), "--base", str(tmp_path), "--out",
                              str(tmp_path / "m"), "--metrics", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "mobilenetv2-sanas" in err and "method.nas.search_space" in err
    assert not (tmp_path / "m").exists()
