"""Post-training quantization of an exported classifier: a smaller model that runs as int8."""

from __future__ import annotations

import numpy as np
import pytest

# make test runs two workers: the session's tiny_model is trained once, on one of them
pytestmark = pytest.mark.xdist_group("tiny_model")


def test_quant_post_writes_a_smaller_int8_model(embedded, tiny_model, tmp_path):
    from stages.zoo.cls import data
    from stages.zoo.compress.ptq import quant_post
    from stages.zoo.datasets import load
    from stages.zoo.runtimes import paddle_predictor

    calib = data.ImageSet(load("imagenet", embedded["root"] / "cls", "train"), 32)
    for out in ("int8", "int8_again"):
        quant_post(tiny_model / "export", tmp_path / out, lambda: (x for x, _ in calib.batches(4)), batch_nums=2)
    fp32, int8 = tiny_model / "export/inference.pdiparams", tmp_path / "int8/inference.pdiparams"
    assert int8.stat().st_size < 0.4 * fp32.stat().st_size  # int8 weights: a quarter, plus scales
    assert int8.read_bytes() == (tmp_path / "int8_again/inference.pdiparams").read_bytes()
    x, _ = next(calib.batches(6))
    scores = paddle_predictor(tmp_path / "int8/inference", threads=2, int8=True)(x)
    assert scores.shape == (6, 10) and np.isfinite(scores).all()


def test_onnx_int8_is_smaller_and_runs(embedded, tiny_model, tmp_path):
    from stages.zoo.cls import data
    from stages.zoo.compress.onnx_int8 import quantize_onnx
    from stages.zoo.datasets import load
    from stages.zoo.runtimes import onnx_session

    calib = data.ImageSet(load("imagenet", embedded["root"] / "cls", "train"), 32)
    fp32_onnx = tiny_model / "export/model.onnx"
    quantize_onnx(fp32_onnx, tmp_path / "int8.onnx", lambda: (x for x, _ in calib.batches(4)), 2)
    assert (tmp_path / "int8.onnx").stat().st_size < 0.5 * fp32_onnx.stat().st_size
    x, _ = next(calib.batches(6))
    fp32 = onnx_session(fp32_onnx, 2)(x)
    int8 = onnx_session(tmp_path / "int8.onnx", 2)(x)
    assert int8.shape == fp32.shape == (6, 10) and np.isfinite(int8).all()
    # (accuracy of the int8 artifact against fp32 is the benchmark stage's figure, on a trained model)


def test_quant_aware_training_saves_an_int8_model(embedded, tmp_path):
    import paddle

    from stages.zoo.cls import data, fit, models
    from stages.zoo.compress.qat import prepare, save_int8
    from stages.zoo.datasets import load
    from stages.zoo.runtimes import paddle_predictor

    images = data.ImageSet(load("imagenet", embedded["root"] / "cls", "train"), 32)
    model = models.build({"name": "MobileNetV1", "scale": 0.25, "classes": 10})
    paddle.jit.save(model, str(tmp_path / "fp32/inference"),
                    input_spec=[paddle.static.InputSpec([None, 3, None, None], "float32", "x")])
    quanter = prepare(model)
    run = {"epochs": 1, "batch_size": 4, "lr": 1e-3, "optimizer": "adamw", "warmup_epochs": 0.0}
    figures = fit.fit(model, images, images, run, "cosine", np.random.default_rng(0))
    assert np.isfinite(figures["train_loss"])
    save_int8(quanter, model, tmp_path / "int8")
    fp32, int8 = (tmp_path / d / "inference.pdiparams" for d in ("fp32", "int8"))
    assert int8.stat().st_size < 0.4 * fp32.stat().st_size
    x, _ = next(images.batches(3))
    assert paddle_predictor(tmp_path / "int8/inference", threads=2, int8=True)(x).shape == (3, 10)


def test_int8_predictor_runs_the_scales_the_model_was_calibrated_with(embedded, tmp_path):
    """Paddle Inference's int8 run of a PaddleSlim PTQ model follows the same model run in float
    (its quantize/dequantize ops simulated); with compute_propagate_scales_onednn_pass the
    guessed scales put a ResNet's outputs 40% off (a trained ResNet50 lost 36 points of top-1)."""
    import paddle

    from stages.zoo.cls import data, models
    from stages.zoo.compress.ptq import quant_post_model
    from stages.zoo.datasets import load
    from stages.zoo.runtimes import paddle_predictor

    images = data.ImageSet(load("imagenet", embedded["root"] / "cls", "train"), 32)
    paddle.seed(0)
    model = models.build({"name": "ResNet18", "scale": 0.25, "classes": 10, "input": 32})
    quant = {"algo": "hist", "weight_bits": 8, "activation_bits": 8, "not_quant_pattern": []}
    quant_post_model(model, quant, lambda: (x for x, _ in images.batches(32)), 2, tmp_path)
    x, _ = next(images.batches(64))
    simulated = paddle_predictor(tmp_path / "inference", threads=2)(x)
    int8 = paddle_predictor(tmp_path / "inference", threads=2, int8=True)(x)
    assert np.abs(int8 - simulated).max() < 0.15 * np.abs(simulated).max()
