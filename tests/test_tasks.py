"""The dense-prediction task packages (stages/zoo/tasks.py): each serves every task the zoo declares with
the interface the dense_* stages call."""

from __future__ import annotations

import pytest

from stages.zoo.tasks import PACKAGES, package

#: What the dense stages call, per module of a task's package.
INTERFACE = {"data": ("split",), "models": ("build", "describe", "load", "missing", "FILES", "UnsupportedArch",
                                            "onnx_unsupported"),
             "fit": ("fit",), "evaluate": ("predict", "score", "sample"),
             "measure": ("PAPER_SIZES", "HEADLINE", "finish")}


def test_every_task_but_classification_has_a_package(registry):
    tasks = {entry.task for entry in registry.entries.values()}
    assert tasks - {"classification"} == set(PACKAGES)


@pytest.mark.parametrize("task", sorted(PACKAGES))
def test_a_task_package_has_what_the_dense_stages_call(task):
    modules = package(task)
    missing = [f"{m}.{name}" for m, names in INTERFACE.items() for name in names
               if not hasattr(getattr(modules, m), name)]
    assert not missing, missing
