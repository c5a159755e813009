"""Every stage of dvc.yaml lists the project code it runs among its deps, so a change to that code
re-runs it (the narrowing stages once missed stages/zoo/compress/prune.py, which narrows the models).

The code a stage runs is the import closure of its ``python -m`` module over ``stages/``: every
``import`` in a module, at the top or inside a function, is followed. That over-approximates (a lazy
import on a path the stage never takes), so :data:`NOT_RUN` names the files a stage imports but whose
changes cannot change its outputs, each with the reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
_REGISTRY = {f"stages/zoo/{n}.py" for n in ("catalog", "checks", "model", "registry", "resolve", "schema")}
#: Files imported by every stage that do not change what it computes.
EVERYWHERE = {
    "stages/zoo/__init__.py", "stages/zoo/compress/__init__.py", "stages/zoo/embedded/__init__.py",
    "stages/zoo/io.py",  # how outputs are written (atomically), not what they hold
    "stages/zoo/provenance.py",  # the metrics' provenance stamp (commit, versions, machine)
}
NOT_RUN = {
    # runtime.py: the process environment (threads, old IR) for stages that run no network
    "validate": {"stages/zoo/runtime.py"},
    "resolve": {"stages/zoo/runtime.py"},
    # data and render read the params through the registry; their inputs are the params files
    "data": {"stages/zoo/runtime.py", *_REGISTRY},
    "render": _REGISTRY,
    # builds backbones only (det/models.py, det/narrow.py, det/compat.py); its params are declared
    "det_pretrain": {*_REGISTRY, *(f"stages/zoo/det/{n}.py" for n in ("__init__", "data", "decode", "families",
                                                                         "rcnn", "ssd"))},
}


def _file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if (path / "__init__.py").is_file() else (
        path.with_suffix(".py") if path.with_suffix(".py").is_file() else None)


def _imports(path: Path) -> set[str]:
    """The ``stages`` modules (and their parent packages) that ``path`` imports anywhere."""
    package = path.relative_to(ROOT).parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:  # relative: from the module's package, `level - 1` packages up
                base = ".".join([*package[:len(package) - node.level + 1], *([node.module] if node.module else [])])
            found |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    parts = {tuple(m.split(".")) for m in found if m.split(".")[0] == "stages"}
    return {".".join(p[:i]) for p in parts for i in range(2, len(p) + 1)}


def _closure(module: str) -> set[str]:
    seen, todo = set(), [_file(module)]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo += [f for f in map(_file, _imports(path)) if f is not None]
    return {str(p.relative_to(ROOT)) for p in seen}


def _stages() -> dict[str, tuple[str, list[str]]]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    found = {}
    for name, stage in stages.items():
        body = stage.get("do", stage)
        module = re.search(r"python -m (stages\.\w+)", body["cmd"])
        if module:
            found[name] = (module.group(1), [d for d in body.get("deps", []) if isinstance(d, str)])
    return found


@pytest.mark.parametrize("stage", sorted(_stages()))
def test_a_stage_depends_on_the_code_it_runs(stage):
    module, deps = _stages()[stage]
    runs = _closure(module)
    covered = {f for f in runs for d in deps if f == d or f.startswith(d.rstrip("/") + "/")}
    missing = runs - covered - EVERYWHERE - NOT_RUN.get(stage, set())
    assert not missing, f"dvc.yaml stage {stage} runs {sorted(missing)} but does not list it in deps"


def test_the_closure_follows_imports_inside_functions():
    """The narrowing path is a function-level import chain (cls.models.narrow -> compress.prune -> bench)."""
    files = _closure("stages.train")
    assert {"stages/zoo/cls/models.py", "stages/zoo/compress/prune.py", "stages/zoo/bench.py"} <= files
