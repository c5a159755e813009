"""Entries of a stage's group in params/zoo/, for tests parametrized over the registry, and the untrained
base model that the compress-stage tests start from."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_per_method(task: str, group: str) -> list[str]:
    """The first entry (by name) of each compression method in group ``group`` of params/zoo/<task>.yaml
    (or in its section of that name, ``compressed``); a method is each of its parts' strategy or kind
    (``{"prune": "sensitive"}``, ``{"quant": "post"}``)."""
    import yaml

    zoo = yaml.safe_load((ROOT / f"params/zoo/{task}.yaml").read_text(encoding="utf-8"))
    by_method: dict[str, str] = {}
    entries = zoo[task].get("groups", {}).get(group) or zoo[task][group]
    for name, entry in sorted(entries.items()):
        method = {k: v.get("strategy", v.get("kind")) for k, v in entry["method"].items()}
        by_method.setdefault(json.dumps(method), name)
    return sorted(by_method.values())


def arch_names(task: str) -> list[str]:
    """The architecture names that the baselines of params/zoo/<task>.yaml declare, sorted."""
    import yaml

    zoo = yaml.safe_load((ROOT / f"params/zoo/{task}.yaml").read_text(encoding="utf-8"))
    return sorted({entry["arch"]["name"] for entry in zoo[task]["baselines"].values()})


def untrained_base(registry, name: str, folder: Path) -> dict:
    """Write ``folder``, a train stage folder holding the fresh (untrained) model of entry ``name``, as its
    task's package builds it (what a compress stage needs); returns the model's resolved arch."""
    import paddle

    from stages.zoo.resolve import resolve
    from stages.zoo.tasks import package

    config = resolve(registry, name, "tiny")
    models, arch = package(config["task"]).models, config["arch"]
    folder.mkdir()
    paddle.save(models.build(arch).state_dict(), str(folder / "model.pdparams"))
    (folder / "model.json").write_text(json.dumps(models.describe(arch)), encoding="utf-8")
    return arch
