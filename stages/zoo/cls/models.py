"""Build a registered classification architecture with PaddleClas' own constructors.

PaddleClas exposes one constructor per width (``MobileNetV1_x0_25``, ``ShuffleNetV2_x0_5``, ...);
:func:`constructor` picks the one for ``arch.scale``, or the nearest that exists. Architectures that
PaddleClas builds at one width only (ResNets, Xceptions, HRNet, DarkNet53, AlexNet, DenseNets) are narrowed to
``arch.scale`` by uniform filter pruning of the fresh network (:func:`narrow`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .. import runtime

#: What a train or compress stage folder holds: the architecture (constructor, width, classes, input,
#: pruned ratios) and the float weights.
FILES = ("model.json", "model.pdparams")

#: Registry name -> PaddleClas constructor prefix, for architectures that come in several widths.
_SCALED = {
    "MobileNetV1": "MobileNetV1",
    "MobileNetV2": "MobileNetV2",
    "MobileNetV3_large": "MobileNetV3_large",
    "MobileNetV3_small": "MobileNetV3_small",
    "ShuffleNetV2": "ShuffleNetV2",
}


#: PaddleClas classes that PaddleSlim's pruner cannot narrow (it fails on AlexNet's flatten of its last
#: maps into fc6 and would leave its 4096-wide FC layers, 54 of its 61 M parameters, whole; it leaves
#: DenseNets' concatenated convolutions whole), narrowed by tracing instead (:func:`_narrow_traced`).
_TRACED = {"AlexNetDY", "DenseNet"}

#: model.json constructors of search-space networks: ``nas:<space>`` (see :mod:`.nas`).
NAS_PREFIX = "nas:"


class UnsupportedArch(Exception):
    """The architecture cannot be built here; the message says why in one line."""


def _widths(backbones: Any, prefix: str) -> dict[float, str]:
    found = {}
    for name in dir(backbones):
        m = re.fullmatch(rf"{prefix}_x(\d+)_(\d+)", name)
        if m:
            found[float(f"{m.group(1)}.{m.group(2)}")] = name
    if hasattr(backbones, prefix) and 1.0 not in found:
        found[1.0] = prefix
    return found


def constructor(name: str, scale: float) -> tuple[str, float]:
    """PaddleClas constructor name for ``name`` at width ``scale``, and the width it builds (for a
    one-width constructor: the width :func:`narrow` prunes it to, at most 1).

    Raises:
        UnsupportedArch: PaddleClas has no such architecture.
    """
    from .nas import ARCH_SPACES

    if name in ARCH_SPACES:  # a search space's network (PaddleSlim), any width
        return f"{NAS_PREFIX}{ARCH_SPACES[name]}", scale
    backbones = runtime.ppcls_backbones()
    if name in _SCALED:
        widths = _widths(backbones, _SCALED[name])
        nearest = min(widths, key=lambda w: (abs(w - scale), w))
        return widths[nearest], nearest
    if not hasattr(backbones, name):
        raise UnsupportedArch(f"{name}: PaddleClas 2.6 has no such backbone")
    return name, min(scale, 1.0)


def narrow(model: Any, input_size: int, width: float) -> None:
    """Narrow a fresh one-width network to ``width`` in place: every ordinary convolution keeps that
    share of its filters (PaddleSlim's L1-norm pruner, which keeps residual groups, depthwise
    convolutions, batch norms and the classifier's input consistent).

    Why: the tiny profile's ``scale`` is a width multiplier, and PaddleClas gives ResNets & co. none;
    at full width they cost 12-16x the compute of their x0.25 (ResNet50: 1.83 -> 0.15 s per batch of
    32 at 32 px on 2 cores; 2026-12-07) and dominated the zoo's run time.
    """
    import logging

    from ..compress.prune import apply_ratios, prunable

    if type(model).__name__ in _TRACED:
        _narrow_traced(model, input_size, width)
        return

    logging.disable(logging.WARNING)  # PaddleSlim logs a line per convolution, at every build
    try:
        apply_ratios(model, input_size, {weight: 1.0 - width for weight in prunable(model)})
    finally:
        logging.disable(logging.NOTSET)


def _narrow_traced(model: Any, input_size: int, width: float) -> None:
    """Narrow a network PaddleSlim cannot (AlexNet, the DenseNets) in place, by one forward pass: each
    Conv2D and Linear but the classifier (the last Linear) gets ``width`` of its outputs, and each of
    them and each batch norm takes the channels that actually reach it (a DenseNet's concatenations,
    AlexNet's flatten). The resized weights are uniform in +-1/sqrt(fan-in) (PaddleClas' AlexNet
    rule), the batch norms start at identity."""
    import math

    import paddle

    norms = (paddle.nn.BatchNorm, paddle.nn.layer.norm._BatchNormBase)
    layers = [m for m in model.sublayers() if isinstance(m, (paddle.nn.Conv2D, paddle.nn.Linear, *norms))]
    classifier = [m for m in layers if isinstance(m, paddle.nn.Linear)][-1]
    done: set[int] = set()

    def param(layer, shape, init, trainable=True):
        attr = paddle.ParamAttr(initializer=init, trainable=trainable)
        return layer.create_parameter(shape, attr=attr, dtype="float32")

    def resize(layer, inputs):
        if id(layer) in done:
            return None
        done.add(id(layer))
        x = inputs[0]
        if isinstance(layer, norms):
            c, const = x.shape[1], paddle.nn.initializer.Constant
            for name, value, train in (("weight", 1.0, True), ("bias", 0.0, True), ("_mean", 0.0, False), ("_variance", 1.0, False)):
                setattr(layer, name, param(layer, [c], const(value), train))
            return None
        conv = isinstance(layer, paddle.nn.Conv2D)
        if conv and layer._groups != 1:
            raise ValueError(f"{type(model).__name__}: grouped convolutions are not narrowed here")
        cin = x.shape[1] if conv else x.shape[-1]
        cout = layer.weight.shape[0] if conv else layer.weight.shape[1]
        cout = cout if layer is classifier else max(1, round(cout * width))
        shape = [cout, cin, *layer._kernel_size] if conv else [cin, cout]
        bound = 1 / math.sqrt(cin * (math.prod(layer._kernel_size) if conv else 1))
        init = paddle.nn.initializer.Uniform(-bound, bound)
        layer.weight = param(layer, shape, init)
        if layer.bias is not None:
            layer.bias = param(layer, [cout], init)
        if conv:
            layer._in_channels, layer._out_channels = cin, cout
        return None

    hooks = [m.register_forward_pre_hook(resize) for m in layers]
    training = model.training
    model.eval()
    try:
        with paddle.no_grad():
            model(paddle.zeros([1, 3, input_size, input_size]))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(training)


#: ``run.weights`` value that names PaddleClas' own published weights of the entry's constructor.
PADDLECLAS = "paddleclas"


def published_weights(arch: dict[str, Any], pretrain: str | None) -> str | None:
    """PaddleClas' published .pdparams URL for ``arch``'s constructor and width (its ``MODEL_URLS``),
    the SSLD-distilled one when the recipe's ``pretrain`` is ``ssld`` (PaddleClas' own renaming);
    None when PaddleClas publishes none (search-space networks)."""
    import importlib

    ctor, _ = constructor(arch["name"], arch.get("scale") or 1.0)
    if ctor.startswith(NAS_PREFIX):
        return None
    module = importlib.import_module(getattr(runtime.ppcls_backbones(), ctor).__module__)
    url = getattr(module, "MODEL_URLS", {}).get(ctor)
    return url.replace("_pretrained", "_ssld_pretrained") if url and pretrain == "ssld" else url


def _construct(ctor: str, width: float, classes: int, tokens: list[int] | None = None):
    import paddle

    if ctor.startswith(NAS_PREFIX):
        from . import nas

        return nas.build(ctor[len(NAS_PREFIX):], tokens, width, classes)
    # a fresh unique_name scope: several PaddleClas models use fixed parameter names, which would
    # clash with a model built earlier in the same process
    with paddle.utils.unique_name.guard():
        return getattr(runtime.ppcls_backbones(), ctor)(class_num=classes)


def build(arch: dict[str, Any], tokens: list[int] | None = None):
    """A fresh model for a resolved ``arch`` (name, scale, classes, input); ``tokens`` pick a search
    space's network (its initial tokens when None)."""
    return build_from({**_architecture(arch, tokens), "input": arch.get("input")})


def describe(arch: dict[str, Any], tokens: list[int] | None = None) -> dict[str, Any]:
    """What model.json records of a model :func:`build` made, for :func:`build_from`."""
    return {**_architecture(arch, tokens), "input": arch["input"]}


def _architecture(arch: dict[str, Any], tokens: list[int] | None) -> dict[str, Any]:
    """Constructor, width, classes (and tokens) of ``arch``: what :func:`build_from` builds from."""
    ctor, width = constructor(arch["name"], arch.get("scale") or 1.0)
    info = {"constructor": ctor, "width": width, "classes": arch["classes"]}
    if width < 1.0 and ctor == arch["name"] and arch["name"] not in _SCALED:  # one width: narrowed after
        info["narrowed"] = True
    if tokens is not None:
        from .nas import space_of

        info.update(constructor=f"{NAS_PREFIX}{space_of(arch['name'])}", tokens=[int(t) for t in tokens])
    return info


def build_from(info: dict[str, Any]):
    """The model that ``model.json`` (train or compress stage) describes, without weights.

    A narrowed or pruned model is the constructor's, pruned again by the recorded width and per-weight
    ratios: the filter counts (not which filters) depend only on the ratios, and the weights are
    loaded after.
    """
    width = info.get("width") or 1.0
    model = _construct(info["constructor"], width, info["classes"], info.get("tokens"))
    if info.get("narrowed"):
        narrow(model, info["input"], width)
    if info.get("pruned"):
        from ..compress.prune import apply_ratios

        apply_ratios(model, info["input"], info["pruned"])
    return model


def missing(folder: Path) -> Path | None:
    """The first of :data:`FILES` that ``folder`` lacks, or None."""
    return next((folder / name for name in FILES if not (folder / name).is_file()), None)


def load(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The model a train or compress stage folder holds, with its weights, and its model.json."""
    import paddle

    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    model = build_from(info)
    model.set_state_dict(paddle.load(str(folder / "model.pdparams")))
    return model, info


def input_spec() -> list:
    """The exported models' one input ``x``: NCHW float32, batch, height and width left free (the
    benchmark runs the same artifact at the profile's and the paper's input size)."""
    import paddle

    return [paddle.static.InputSpec([None, 3, None, None], "float32", "x")]


def save_inference(model: Any, prefix: Path) -> None:
    """``prefix``.pdmodel / .pdiparams: a Paddle inference model (paddle.jit.save) in eval mode, its
    bytes independent of where in the code it was saved (:func:`runtime.strip_callstacks`)."""
    import paddle

    model.eval()
    paddle.jit.save(model, str(prefix), input_spec=input_spec())
    runtime.strip_callstacks(prefix.with_name(prefix.name + ".pdmodel"))
