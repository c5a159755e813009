"""An entry's method, recipe and artifacts as data the templates word in each language."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from ..model import Entry, Train

#: Stages that make an entry's artifacts, in lineage order (``<stage>@<entry>`` in dvc.lock).
ARTIFACT_STAGES = ("train", "search", "compress", "distill", "export", "det_train", "det_compress", "det_export",
                   "seg_train", "seg_compress", "seg_export")


def entry_stages(dvc_yaml: Path, zoo: Path) -> dict[str, dict[str, str]]:
    """Entry -> role (the stage name's last ``_`` part: ``export``, ``benchmark``) -> the dvc.yaml stage
    whose ``foreach: ${a.b}`` runs over it, looked up in params/zoo/*.yaml as DVC does. Entries that no
    stage serves yet get no commands on the site."""
    data: dict[str, Any] = {}
    for path in sorted(zoo.glob("*.yaml")):
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            data.setdefault(key, {}).update(value or {})
    out: dict[str, dict[str, str]] = {}
    for stage, spec in ((yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}).get("stages") or {}).items():
        found = re.fullmatch(r"\$\{([\w.]+)\}", str(spec.get("foreach", "")))
        if not found:
            continue  # a single stage (validate, render) or a loop over something else (data)
        node: Any = data
        for key in found.group(1).split("."):
            node = node.get(key) if isinstance(node, dict) else None
        for entry in node if isinstance(node, dict) else ():
            out.setdefault(entry, {})[stage.rsplit("_", 1)[-1]] = stage
    return out


def method_parts(entry: Entry) -> list[dict[str, Any]]:
    """The entry's compression steps, each ``{"key": locale key under method., ...arguments}``.

    A baseline is ``[{"key": "baseline"}]``. Fractions stay fractions; templates show percent.
    """
    m = entry.method
    parts: list[dict[str, Any]] = []
    if m.prune:
        p = m.prune
        parts.append({"key": f"prune_{p.strategy}", "criterion": p.criterion, "ratio": p.ratio,
                      "target": p.target_flops_reduction,
                      "ratios": p.ratios if isinstance(p.ratios, list) else None,
                      "preset": p.ratios if isinstance(p.ratios, str) else None})
    if m.distill:
        parts.append({"key": f"distill_{m.distill.strategy}", "teacher": m.distill.teacher})
    if m.quant:
        parts.append({"key": f"quant_{m.quant.kind}", "bits": m.quant.weight_bits,
                      "skip": list(m.quant.not_quant_pattern)})
    if m.nas:
        parts.append({"key": "nas", "space": m.nas.search_space, "target": m.nas.target_flops_reduction,
                      "params_target": m.nas.target_params_reduction, "use_tokens": m.nas.use_tokens})
    return parts or [{"key": "baseline"}]


def recipe(entry: Entry, family: Train) -> dict[str, Any]:
    """The paper-scale recipe: input size and the entry's training settings over the family's."""
    merged = {f.name: getattr(entry.train, f.name) if getattr(entry.train, f.name) is not None
              else getattr(family, f.name) for f in dataclasses.fields(Train)}
    return {"input": entry.arch.input, **{k: v for k, v in merged.items() if v is not None}}


def declaration(entry: Entry) -> str:
    """The entry as declared in params (without its published values), as YAML."""
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v not in (None, (), [], {}, False)}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    data = clean(dataclasses.asdict(dataclasses.replace(entry, published=())))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).strip()


def artifacts(lock: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The entry's DVC-tracked outputs from ``dvc.lock``: stage, path, md5, size, files."""
    stages = lock.get("stages", {}) if isinstance(lock, dict) else {}
    rows = []
    for stage in ARTIFACT_STAGES:
        for out in stages.get(f"{stage}@{name}", {}).get("outs", []):
            rows.append({"stage": f"{stage}@{name}", "path": out.get("path"), "md5": out.get("md5"),
                         "size": out.get("size"), "files": out.get("nfiles")})
    return rows


def read_lock(path: Path) -> dict[str, Any]:
    """``dvc.lock``, or an empty mapping when the pipeline has not run."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def lineage(registry_entries: dict[str, Entry], name: str) -> list[str]:
    """Base chain of an entry, root first: ``[mobilenetv1, mobilenetv1-prune_uniform50]``."""
    chain = [name]
    while registry_entries[chain[0]].base:
        chain.insert(0, registry_entries[chain[0]].base)
    return chain
