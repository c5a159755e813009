"""The dense-prediction tasks (detection, face detection, instance and semantic segmentation) that share the
dense_* stages, each a package with the same modules:
``data`` (``split``), ``models`` (``build``, ``describe``, ``load``, ``missing``, ``FILES``,
``UnsupportedArch``, ``onnx_unsupported``; optionally ``export_batch``), ``fit`` (``fit``), ``evaluate``
(``predict``, ``score``, ``sample``) and ``measure`` (``PAPER_SIZES``, ``HEADLINE``, ``finish``)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

#: Task name (an entry's ``task``) -> its package under stages/zoo.
PACKAGES = {"detection": "det", "face_detection": "face", "instance_segmentation": "inst",
            "semantic_segmentation": "seg"}
MODULES = ("data", "models", "fit", "evaluate", "measure")


def package(task: str) -> SimpleNamespace:
    """The modules of ``task``'s package, by name.

    Raises:
        KeyError: No package serves ``task``.
    """
    base = f"stages.zoo.{PACKAGES[task]}"
    return SimpleNamespace(**{m: importlib.import_module(f"{base}.{m}") for m in MODULES})
