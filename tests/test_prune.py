"""Uniform channel pruning with PaddleSlim: a physically smaller model at the FLOPs target."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("criterion", ["l1_norm", "geometry_median"])
def test_uniform_pruning_meets_a_flops_target(criterion):
    import paddle

    from stages.zoo.bench import model_stats
    from stages.zoo.cls import models
    from stages.zoo.compress.prune import prune_uniform

    model = models.build({"name": "MobileNetV1", "scale": 0.25, "classes": 10})
    before = model_stats(model, 32)
    got = prune_uniform(model, 32, target=0.5, criterion=criterion)
    after = model_stats(model, 32)
    assert got["flops_reduction"] == pytest.approx(0.5, abs=0.03)
    assert after["macs"] == got["macs_after"] and after["params"] < 0.7 * before["params"]
    assert 0.2 < got["ratio"] < 0.5
    assert model(paddle.randn([2, 3, 32, 32])).shape == [2, 10]


def test_uniform_pruning_with_a_given_ratio_and_bad_arguments():
    from stages.zoo.cls import models
    from stages.zoo.compress.prune import prune_uniform

    model = models.build({"name": "ResNet18", "scale": 1.0, "classes": 10})
    got = prune_uniform(model, 32, ratio=0.5)  # residual groups pruned together
    assert got["ratio"] == 0.5 and 0.6 < got["flops_reduction"] < 0.8
    with pytest.raises(ValueError, match="exactly one"):
        prune_uniform(model, 32, ratio=0.5, target=0.5)


def test_aligned_ratios_keep_filters_in_multiples_of_eight():
    import paddle

    from stages.zoo.cls import models
    from stages.zoo.compress.prune import aligned, prunable, prune_ratios, uniform_ratio_for

    model = models.build({"name": "MobileNetV1", "scale": 1.0, "classes": 10})
    ratio = uniform_ratio_for(model, 64, 0.5)
    unaligned = [round(p.shape[0] * (1 - ratio)) for p in model.parameters() if p.name in prunable(model)]
    assert any(n % 8 for n in unaligned)  # what the plain ratio leaves
    got = prune_ratios(model, 64, aligned(model, {n: ratio for n in prunable(model)}))
    convs = [m for m in model.sublayers() if isinstance(m, paddle.nn.Conv2D)]
    assert all(m.weight.shape[0] % 8 == 0 for m in convs)  # depthwise ones follow their pointwise input
    assert got["flops_reduction"] == pytest.approx(0.5, abs=0.03)
    assert model(paddle.randn([1, 3, 64, 64])).shape == [1, 10]


def test_pruning_candidates_are_scored_after_batch_norm_recalibration(embedded):
    import numpy as np

    from stages import compress
    from stages.zoo.cls import data, fit, models
    from stages.zoo.compress.prune import prune_uniform
    from stages.zoo.datasets import load

    images = data.ImageSet(load("imagenet", embedded["root"] / "cls", "train"), 32)
    config = {"seed": 0, "run": {"batch_size": 4}}
    model = models.build({"name": "MobileNetV1", "scale": 0.25, "classes": 10})
    prune_uniform(model, 32, ratio=0.3)

    def stats() -> dict:
        return {k: v.numpy().copy() for k, v in model.state_dict().items() if k.endswith(("_mean", "_variance"))}

    before = stats()
    score = compress.pruned_score(model, images, images, config)
    first = score()
    assert score() == first  # the same recalibration batches for every candidate
    assert all(np.array_equal(before[k], v) for k, v in stats().items())  # statistics put back
    compress.recalibrate(model, images, config)
    assert not all(np.array_equal(before[k], v) for k, v in stats().items())
    assert fit.evaluate(model, images)["top1"] == first  # what the scorer measured


def test_a_pruned_segmenter_is_recalibrated_and_its_candidates_scored_on_fresh_statistics(embedded):
    """dense_compress: recalibration runs the prediction path (no targets) with only the batch norms in
    train mode; the candidate scorer puts the statistics back."""
    import numpy as np
    import paddle

    from stages import dense_compress
    from stages.zoo.compress.prune import prune_uniform
    from stages.zoo.seg import data, models

    seg = data.split({"dataset": "cityscapes", "data": str(embedded["root"] / "seg")}, "train")
    model = models.build({"name": "FastSCNN", "backbone": None, "scale": 0.25, "classes": 3, "input": 64})
    prune_uniform(model, 64, ratio=0.3)

    def stats() -> dict:
        return {k: v.numpy().copy() for k, v in model.state_dict().items() if k.endswith(("_mean", "_variance"))}

    def mean_abs_logit() -> float:
        return float(abs(np.asarray(model(paddle.to_tensor(next(seg.batches(4))[1]))[0])).mean())

    before = stats()
    score = dense_compress._scorer(mean_abs_logit, model, seg, 4)
    first = score()
    assert score() == first  # same statistics for every candidate
    assert all(np.array_equal(before[k], v) for k, v in stats().items())  # put back
    assert mean_abs_logit() != first  # the scorer measured the recalibrated model
    dense_compress.recalibrate(model, seg, 4)  # as the scorer: every batch of its data
    assert not model.training and not any(m.training for m in model.sublayers())
    assert mean_abs_logit() == first


def test_a_pruned_model_keeps_no_backup_and_prunes_again():
    """After a final pruning (narrowing, or an entry's ratios) the state dict holds only the model's own
    tensors, and a later trial prunes and restores the pruned shapes, not the unpruned ones."""
    from stages.zoo.cls import models
    from stages.zoo.compress.prune import uniform_ratio_for

    model = models.build({"name": "ResNet18", "scale": 0.25, "classes": 10, "input": 32})
    assert not [k for k in model.state_dict() if k.endswith("_backup")]
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert 0 < uniform_ratio_for(model, 32, 0.3, steps=3) < 0.95
    after = model.state_dict()  # (paddle.flops, counting the MACs, adds counters of its own)
    assert {k: after[k].shape for k in shapes} == shapes and not [k for k in after if k.endswith("_backup")]


@pytest.mark.parametrize("name", ["ResNet18", "MobileNetV3_small"])
def test_graph_index_shim_finds_the_ops_paddleslims_scan_finds(name):
    """runtime.shim_paddleslim_graph's readers and writers of every variable are the ops, in the order,
    that PaddleSlim's own scan returns (its ``VarWrapper.outputs`` / ``inputs`` bodies, spelled out here)."""
    from stages.zoo import runtime
    from stages.zoo.cls import models

    runtime.shim_paddle()
    runtime.shim_paddleslim_graph()
    from paddleslim.core.dygraph import dygraph2program
    from paddleslim.core.graph_wrapper import GraphWrapper

    model = models.build({"name": name, "scale": 1.0, "classes": 10})
    model.eval()
    graph = GraphWrapper(dygraph2program(model, inputs=[[1, 3, 32, 32]], dtypes=["float32"]))
    ops, checked = graph.ops(), 0
    for var in graph.vars():
        readers = [op.idx() for op in ops if var in op.all_inputs()]
        writers = [op.idx() for op in ops if var in op.all_outputs()]
        assert [op.idx() for op in var.outputs()] == readers and [op.idx() for op in var.inputs()] == writers
        checked += bool(readers) + bool(writers)
    assert checked >= len(ops) > 50, (checked, len(ops))  # real edges were compared, not only empty lists
