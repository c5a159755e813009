"""Resolve one entry for the selected profile: family defaults + entry + profile, names expanded.

The resolved config is what every later stage of the entry reads (and what sits beside its weights).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import catalog
from .model import Entry, RunOverride
from .registry import Registry


def _plain(value: Any) -> Any:
    """Dataclasses and tuples to JSON-ready dicts and lists (null ``OMIT_NULL`` fields left out)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (f.metadata.get("omit_null") and getattr(value, f.name) is None)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def lineage(registry: Registry, name: str) -> list[str]:
    """The chain of bases from the root baseline down to ``name``."""
    chain = [name]
    while registry.entries[chain[0]].base is not None:
        chain.insert(0, registry.entries[chain[0]].base)
    return chain


def resolve(registry: Registry, name: str, profile: str | None = None) -> dict[str, Any]:
    """Build the resolved config of one entry.

    Args:
        registry: The loaded registry.
        name: Entry name.
        profile: ``tiny`` or ``full``; default: the one selected in ``params/profile.yaml``.

    Returns:
        A JSON-ready dict: entry fields, the profile's run settings, merged training recipe,
        pruned parameter lists and ratio presets expanded, and the entry's lineage.
    """
    entry: Entry = registry.entries[name]
    profile = profile or registry.choice.profile
    family = registry.defaults[entry.task]
    override = _plain(entry.profiles.get(profile, RunOverride()))
    run = dataclasses.replace(family.profiles[profile], **{k: v for k, v in override.items() if v is not None})
    if run.weights and entry.arch.backbone:  # a family's weights per backbone (detection: stage det_pretrain)
        run = dataclasses.replace(run, weights=run.weights.replace("{backbone}", entry.arch.backbone))
    run = dataclasses.replace(run, pretrain_from=None)  # stage det_pretrain's setting, not the entry's
    arch = _plain(entry.arch)
    if profile != "full":  # the embedded data sets the input size, width and class count
        arch.update({k: getattr(run, k) for k in ("input", "scale", "classes") if getattr(run, k) is not None})
        arch["input"] = max(arch["input"], catalog.ARCHS[entry.arch.name].min_input or 0)  # AlexNet
    train = {k: v for k, v in _plain(family.train).items() if v is not None}
    train.update({k: v for k, v in _plain(entry.train).items() if v is not None})
    method = _plain(entry.method)
    if method["prune"] is not None:
        prune = method["prune"]
        if isinstance(prune["params"], str):
            prune["params"] = list(family.param_groups[prune["params"]])
        if isinstance(prune["ratios"], str):
            prune["ratios"] = list(family.ratio_presets[prune["ratios"]])
    return {
        "name": name,
        "task": entry.task,
        "profile": profile,
        "dataset": entry.dataset,
        "data": run.data[entry.dataset],
        "arch": arch,
        "paper_arch": _plain(entry.arch),
        "base": entry.base,
        "lineage": lineage(registry, name),
        "method": method,
        "run": _plain(run),
        "train": train,
        "threads": registry.choice.threads,
        "seed": registry.choice.seed,
    }
