"""Shared fixtures. The process environment comes from stages.zoo.runtime, as in every stage."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests/ helpers such as seedtables


def pytest_configure(config):
    from stages.zoo import runtime

    runtime.setup(threads=2)


@pytest.fixture(scope="session")
def registry():
    """The registry declared under params/."""
    from stages.zoo.registry import load_registry

    return load_registry(ROOT / "params")


@pytest.fixture(scope="session")
def embedded(tmp_path_factory):
    """Every embedded dataset of params/data.yaml, built small (12 train, 6 val images) once per run.

    Returns:
        ``root``, ``params`` (with the reduced sizes), ``pools``, and ``records``: name ->
        (format, split -> the records the builder wrote).
    """
    import dataclasses

    from stages.zoo.embedded.build import BUILDERS
    from stages.zoo.embedded.draw import Pools
    from stages.zoo.embedded.params import load_data_params

    params = load_data_params(ROOT / "params" / "data.yaml")
    small = {name: dataclasses.replace(s, train=12, val=6) for name, s in params.datasets.items()}
    params = dataclasses.replace(params, datasets=small)
    pools = Pools.load(params.seed, params.holdout)
    root = tmp_path_factory.mktemp("embedded")
    records = {name: (s.format, BUILDERS[s.format](root / name, name, s, pools, params.seed))
               for name, s in small.items()}
    return {"root": root, "params": params, "pools": pools, "records": records}


@pytest.fixture(scope="session")
def tiny_model(registry, embedded, tmp_path_factory):
    """mobilenetv1 trained one epoch on the small embedded set and exported, once per run.

    Returns:
        A folder with config.json, train/ and metrics/ (train stage) and export/ (export stage).
    """
    import json

    from stages.export import main as export_main
    from stages.train import main as train_main
    from stages.zoo.resolve import resolve

    root = tmp_path_factory.mktemp("tiny_model")
    cfg = resolve(registry, "mobilenetv1", "tiny")
    cfg["data"] = str(embedded["root"] / "cls")
    cfg["run"].update(epochs=1, batch_size=4)
    (root / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    assert train_main(["--config", str(root / "config.json"), "--out", str(root / "train"),
                       "--metrics", str(root / "metrics")]) == 0
    assert export_main(["--config", str(root / "config.json"), "--model", str(root / "train"),
                        "--out", str(root / "export")]) == 0
    return root


@pytest.fixture()
def published_backbone(tmp_path, monkeypatch):
    """A stand-in for PaddleDetection's published ImageNet backbones: ``make(name)`` saves a full-width
    ppdet backbone's tensors, keyed by its layer names without ``backbone.`` (what ppdet's loader
    matches), and returns them; Paddle's weights download hands out that file (``make.path``) and
    records each URL in ``make.fetched``."""
    import paddle
    import paddle.utils.download

    path, fetched = tmp_path / "published.pdparams", []
    monkeypatch.setattr(paddle.utils.download, "get_weights_path_from_url", lambda url: fetched.append(url) or str(path))

    def make(name: str) -> dict:
        from stages.zoo.det.models import backbone

        paddle.seed(7)
        with paddle.utils.unique_name.guard():
            state = backbone(name, 1.0).state_dict()
        paddle.save(state, str(path))
        return {k: v.numpy() for k, v in state.items()}

    make.path, make.fetched = path, fetched
    return make
