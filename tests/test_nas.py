"""NAS search spaces as dygraph networks (stages.zoo.cls.nas) and the SANAS loop, against the seeds."""

from __future__ import annotations

import pytest

from stages.zoo.bench import model_stats
from stages.zoo.cls import models, nas

MIB = 2 ** 20
SEARCHED = ["darts-cifar10", "darts-cifar10-sanas", "mobilenetv2-sanas"]


def test_every_searched_classification_entry_is_covered(registry):
    found = {name for name, e in registry.entries.items() if e.task == "classification"
             and (e.method.nas is not None or e.arch.name in nas.ARCH_SPACES)}
    assert found == set(SEARCHED)


@pytest.mark.parametrize("name", SEARCHED)
def test_paper_scale_network_matches_published(registry, name):
    """The published tokens' paper-scale network has the published parameters / size (within 3%)."""
    entry = registry.entries[name]
    tokens = entry.method.nas.tokens if entry.method.nas else None
    arch = {"name": entry.arch.name, "scale": 1.0, "classes": entry.arch.classes, "input": entry.arch.input}
    stats = model_stats(models.build(arch, tokens), entry.arch.input)
    published = entry.published[0]
    if published.params_mb is not None:  # the CIFAR table's "Params (MB)" is millions of parameters
        assert stats["params_m"] == pytest.approx(published.params_mb, rel=0.03)
    if published.size_mb is not None:
        assert stats["params"] * 4 / MIB == pytest.approx(published.size_mb, rel=0.03)


def test_described_model_rebuilds_with_its_tokens():
    tokens = [4, 4, 5, 1, 1, 2, 1, 1, 0, 2, 6, 2, 0, 3, 4, 5, 0, 4, 5, 5, 1, 4, 8, 0, 0]
    arch = {"name": "MobileNetV2", "scale": 0.25, "classes": 10, "input": 32}
    info = models.describe(arch, tokens)
    assert info["constructor"] == "nas:MobileNetV2Space" and info["tokens"] == tokens
    built, rebuilt = models.build(arch, tokens), models.build_from(info)
    assert [p.shape for p in built.parameters()] == [p.shape for p in rebuilt.parameters()]
    plain = models.build(arch)  # PaddleClas' own MobileNetV2 when no tokens are given
    assert type(plain).__module__.startswith("ppcls")


def test_search_meets_constraint_and_is_deterministic():
    """Rewards from a toy score: every scored candidate fits, the best is returned, same seed same trace."""
    def fits(tokens):
        return sum(tokens) <= 60, float(sum(tokens))

    def score(tokens):
        return float(tokens[0] * 10 - tokens[3])

    first = nas.search("MobileNetV2Space", score, fits, iters=6, seed=3)
    assert len(first["trace"]) == 6 and all(t["constraint"] <= 60 for t in first["trace"])
    assert first["trace"][0]["rejected"] > 0  # the initial MobileNetV2 (sum 64) does not fit
    assert score(first["tokens"]) == max(t["reward"] for t in first["trace"])
    assert nas.search("MobileNetV2Space", score, fits, iters=6, seed=3) == first


def test_search_gives_up_with_a_clear_error():
    with pytest.raises(ValueError, match="no candidate in"):
        nas.search("DartsSpace", lambda t: 0.0, lambda t: (False, 0.0), iters=1, seed=0)


def test_initial_network_entry_still_writes_its_declared_search_json(registry, tmp_path):
    """search@darts-cifar10 trains DARTS's initial network; dvc.yaml declares search.json for every entry."""
    import json

    from stages.search import search
    from stages.zoo.resolve import resolve

    config = resolve(registry, "darts-cifar10")
    assert search(config, tmp_path) is None
    assert json.loads((tmp_path / "search.json").read_text()) == {"tokens": None, "searched": False}


def test_darts_cell_that_breaks_a_onednn_pass_still_runs_in_paddle_inference(tmp_path):
    """These searched tokens make oneDNN's batch_norm_act_fuse_pass fail; the runner drops that pass."""
    import numpy as np
    import paddle

    from stages.zoo.runtimes import paddle_predictor

    tokens = [5, 5, 5, 5, 5, 8, 7, 7, 7, 7, 7, 7, 4, 10, 3, 10, 10, 7, 10, 10]  # darts-cifar10-sanas, searched
    model = models.build_from({"classes": 10, "constructor": "nas:DartsSpace", "input": 32, "tokens": tokens,
                               "width": 0.25})
    model.eval()
    models.save_inference(model, tmp_path / "inference")
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with paddle.no_grad():
        expected = model(paddle.to_tensor(x)).numpy()
    assert np.abs(paddle_predictor(tmp_path / "inference", threads=1)(x) - expected).max() < 1e-3
