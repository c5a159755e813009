"""Registry-driven tests: every declared entry resolves, links up and follows the naming pattern."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from stages.zoo import catalog
from stages.zoo.model import Published, RunOverride
from stages.zoo.registry import NAME_RE, load_registry
from stages.zoo.resolve import resolve

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = list(load_registry(ROOT / "params").entries)


def test_the_registry_holds_every_seed_model():
    assert len(ENTRIES) >= 120
    entries = load_registry(ROOT / "params").entries  # once: loading checks every params file
    tasks = {entries[n].task for n in ENTRIES}
    assert tasks == set(catalog.TASKS)


def test_metric_catalog_matches_the_published_schema():
    fields = {f.name for f in dataclasses.fields(Published)}
    assert set(catalog.METRICS) <= fields


@pytest.mark.parametrize("name", ENTRIES)
def test_entry(registry, name):
    entry = registry.entries[name]
    assert NAME_RE.match(name)
    assert entry.published, "every entry comes from a seed table"
    chain = [name]
    while registry.entries[chain[-1]].base:
        chain.append(registry.entries[chain[-1]].base)
    root = registry.entries[chain[-1]]
    assert root.method.prune is root.method.quant is root.method.distill is None
    if entry.method.distill:
        assert registry.entries[entry.method.distill.teacher].task == entry.task
    tiny, full = resolve(registry, name, "tiny"), resolve(registry, name, "full")
    json.dumps(tiny), json.dumps(full)
    family = registry.defaults[entry.task].profiles["tiny"]
    least = catalog.ARCHS[entry.arch.name].min_input or 0  # AlexNet: 224 in every profile
    assert tiny["arch"]["input"] == max(family.input, least) and tiny["data"] == family.data[entry.dataset]
    assert full["arch"] == full["paper_arch"] and full["arch"]["input"] == entry.arch.input
    assert tiny["lineage"] == list(reversed(chain))
    for profile, config in (("tiny", tiny), ("full", full)):  # the entry's own run settings win
        shared = registry.defaults[entry.task].profiles[profile]
        own = dataclasses.asdict(entry.profiles.get(profile, RunOverride()))
        for key, value in own.items():
            expected = getattr(shared, key) if value is None else value
            if key == "weights" and expected and entry.arch.backbone:  # a family's weights per backbone
                expected = expected.replace("{backbone}", entry.arch.backbone)
            assert config["run"].get(key) == expected, (profile, key)  # weights: left out when null
    prune = tiny["method"]["prune"]
    if prune and prune["ratios"] is not None:
        assert len(prune["ratios"]) == len(prune["params"])
