"""The one place that prepares the process for the Paddle stack: environment and shims (and the
saved programs' reproducibility, :func:`strip_callstacks`).

Every stage calls :func:`setup` first thing in ``main()``; the tests call it from
``tests/conftest.py``. Nothing happens at import time.

    from stages.zoo import runtime
    runtime.setup(threads=2)
    import paddle  # now safe: old IR, fixed threads, PaddleSlim shims applied
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Environment the stack needs; it must be in place before ``paddle`` is first imported.
STACK_ENV = {
    # PaddleSlim 2.6 pruners, quant_post_static, PTQ and SANAS need the old static IR;
    # with it, paddle.jit.save writes .pdmodel + .pdiparams.
    "FLAGS_enable_pir_api": "0",
    # No telemetry or update checks from DVC on a machine without internet.
    "DVC_NO_ANALYTICS": "1",
}


class StackError(RuntimeError):
    """The process was started in a way the stack cannot work with."""


def setup(threads: int | None = None) -> None:
    """Set the process environment and apply the compatibility shims.

    Args:
        threads: CPU threads for Paddle/OpenMP/MKL. Paddle sets ``OMP_NUM_THREADS=1`` at import
            when it is unset, so it is always set here explicitly (default: keep the caller's
            value, else 2).

    Raises:
        StackError: If paddle was imported before the environment could take effect.
    """
    if "paddle" in sys.modules and os.environ.get("FLAGS_enable_pir_api") != "0":
        raise StackError("paddle was imported before stages.zoo.runtime.setup(); "
                         "call setup() before any paddle import")
    for key, value in STACK_ENV.items():
        os.environ[key] = value
    n = str(threads if threads is not None else os.environ.get("OMP_NUM_THREADS", "2"))
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[key] = n
    _shim_numpy()


def _shim_numpy() -> None:
    # numpy 1.25 deprecated and 2.0 removed numpy.product; PaddleSlim 2.6 still calls it.
    import numpy

    if not hasattr(numpy, "product"):
        numpy.product = numpy.prod


def shim_paddle() -> None:
    """Apply the shims that need paddle imported; call after :func:`setup`, before paddleslim."""
    import paddle

    # PaddleSlim 2.6 reads the private name _to_static_mode_guard_, which paddle 3.x renamed.
    base = paddle.base.dygraph.base
    if not hasattr(base, "_to_static_mode_guard_"):
        base._to_static_mode_guard_ = base.to_static_mode_guard
    # paddle 3.3's paddle.multiply calls _C_ops.multiply, which takes dygraph tensors and PIR values
    # only: exporting to the old IR (jit.save) failed in PaddleClas' MobileNetV3 SE block with
    # "must be Value, but got Variable". Old-IR variables multiply through their elementwise_mul op.
    if not getattr(paddle.multiply, "_slimzoo_shim", False):
        multiply = paddle.multiply

        def _multiply(x, y, name=None):
            if not paddle.in_dynamic_mode() and not paddle.framework.in_pir_mode():
                return x * y
            return multiply(x, y, name=name)

        _multiply._slimzoo_shim = True
        paddle.multiply = _multiply
    _shim_interpolate(paddle)


def shim_paddleslim_graph() -> None:
    """Index the readers and writers of every variable in PaddleSlim's ``GraphWrapper`` (call after
    :func:`shim_paddle`, before a pruner walks a graph).

    Why: PaddleSlim 2.6's ``VarWrapper.outputs()`` / ``inputs()`` scan every op of the program and
    wrap and compare each of its variables by name, for every variable the pruner's walk visits, so
    narrowing or pruning is quadratic in the program's size (HRNet_W18_C's narrowing at 32 px: 125 s,
    of which ~120 s in these scans; ResNet50 4.8 s). The index holds the same ops in the same (program)
    order, built once per graph and again when a block's op count changes; each call returns a new list.
    """
    from paddleslim.core import graph_wrapper

    wrapper = graph_wrapper.VarWrapper
    if getattr(wrapper.outputs, "_slimzoo_shim", False):
        return

    def _index(graph) -> tuple:
        key = tuple(len(block.ops) for block in graph.program.blocks)
        cached = getattr(graph, "_slimzoo_index", None)
        if cached is None or cached[0] != key:
            readers: dict[str, list] = {}
            writers: dict[str, list] = {}
            for op in graph.ops():  # an op that reads a variable twice is one reader, as in the scan
                for name in dict.fromkeys(op._op.input_arg_names):
                    readers.setdefault(name, []).append(op)
                for name in dict.fromkeys(op._op.output_arg_names):
                    writers.setdefault(name, []).append(op)
            cached = graph._slimzoo_index = (key, readers, writers)
        return cached

    def outputs(self) -> list:
        return list(_index(self._graph)[1].get(self._var.name, ()))

    def inputs(self) -> list:
        return list(_index(self._graph)[2].get(self._var.name, ()))

    outputs._slimzoo_shim = inputs._slimzoo_shim = True
    wrapper.outputs, wrapper.inputs = outputs, inputs


def _shim_interpolate(paddle) -> None:
    # paddle2onnx 2.1 cannot convert an old-IR nearest/bilinear interpolation given by scale_factor
    # ("the 0th elementwise MUST be ir::FloatAttribute"); PaddleClas' HRNet upsamples that way. When
    # exporting (old-IR static mode) the scale becomes the output size it stands for, the same
    # resize. F.upsample looks interpolate up in its module at call time, so both names are patched.
    common = paddle.nn.functional.common
    if getattr(common.interpolate, "_slimzoo_shim", False):
        return
    interpolate = common.interpolate

    def _interpolate(x, size=None, scale_factor=None, *args, **kwargs):
        static = not paddle.in_dynamic_mode() and not paddle.framework.in_pir_mode()
        layout = kwargs.get("data_format", args[3] if len(args) > 3 else None) or "NC"
        if static and layout.startswith("NC") and size is None and isinstance(scale_factor, (int, float)):
            # the exported models' height and width are free: the size is computed in the graph
            dims = paddle.shape(x)[2:]
            size = (dims * int(scale_factor) if float(scale_factor).is_integer() else
                    (dims.astype("float32") * float(scale_factor)).astype("int32"))
            scale_factor = None
        return interpolate(x, size, scale_factor, *args, **kwargs)

    _interpolate._slimzoo_shim = True
    common.interpolate = paddle.nn.functional.interpolate = _interpolate


def shim_leaky_relu() -> None:
    """Opt-in (the export of ppdet models): paddle2onnx 2.1 writes an old-IR ``leaky_relu`` with ``alpha`` 0.0 (the attribute is lost, as
    with interpolation's scale, see runtime._shim_interpolate): ppdet's DarkNet blocks, used by every
    YOLOv3 neck, then export as ReLU. While exporting (old-IR static mode) it becomes
    ``relu(x) - alpha * relu(-x)``, the same function (old-IR ``maximum`` cannot take two variables)."""
    import paddle

    functional = paddle.nn.functional
    if getattr(functional.leaky_relu, "_slimzoo_shim", False):
        return
    leaky_relu = functional.leaky_relu

    def _leaky_relu(x, negative_slope=0.01, name=None):
        static = not paddle.in_dynamic_mode() and not paddle.framework.in_pir_mode()
        if static:
            return functional.relu(x) - negative_slope * functional.relu(-x)
        return leaky_relu(x, negative_slope, name)

    _leaky_relu._slimzoo_shim = True
    functional.leaky_relu = functional.activation.leaky_relu = _leaky_relu


def strip_callstacks(pdmodel: Path) -> None:
    """Rewrite an old-IR ``.pdmodel`` without its ops' ``op_callstack`` attribute.

    Paddle records the Python call stack, with file names and line numbers, in every op it creates,
    so an edit anywhere in the stage scripts changed every exported file's hash and re-ran every
    benchmark after it. Paddle Inference does not read the attribute.
    """
    from paddle.base.proto.framework_pb2 import ProgramDesc

    program = ProgramDesc.FromString(pdmodel.read_bytes())
    for block in program.blocks:
        for op in block.ops:
            kept = [a for a in op.attrs if a.name != "op_callstack"]
            del op.attrs[:]
            op.attrs.extend(kept)
    pdmodel.write_bytes(program.SerializeToString(deterministic=True))


def ppcls_backbones():
    """PaddleClas' backbone module (``ppcls.arch.backbone``), without importing ``paddleclas``.

    The paddleclas 2.6 wheel ships ``ppcls`` inside its package folder, and ``import paddleclas``
    pulls in its whole command-line app (requests, faiss, ...). The folder goes on ``sys.path`` so
    that ``ppcls`` imports by its own top-level name, as PaddleClas' code expects.
    """
    import importlib
    import importlib.util

    spec = importlib.util.find_spec("paddleclas")
    folder = spec.submodule_search_locations[0]
    if folder not in sys.path:
        sys.path.append(folder)
    # ppcls' models log through a module logger that only PaddleClas' own entry points create.
    importlib.import_module("ppcls.utils.logger").init_logger()
    return importlib.import_module("ppcls.arch.backbone")
