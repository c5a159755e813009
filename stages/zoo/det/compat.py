"""Shims that ppdet 2.6's two-stage detectors (:mod:`.rcnn`) and deformable convolutions need on paddle 3.3,
applied when a model with either is built.

Kept here rather than in stages/zoo/runtime.py (the shim module of every stage): each only changes calls
that fail on paddle 3.3, yet an edit there re-runs every stage of the zoo, and only detector stages use them.
"""

from __future__ import annotations


def apply() -> None:
    """Apply the shims (idempotent)."""
    import paddle

    _shim_concat(paddle)
    _shim_min_max(paddle)
    _shim_unary(paddle)


def _shim_concat(paddle) -> None:
    # ppdet's RPN head and proposal targets concatenate per-image counts taken as ``paddle.shape(x)[0]``,
    # 1-D in paddle 2.4 and 0-D since 2.5; paddle 3.3's concat rejects 0-D inputs ("axis ... range of
    # [0, 0)"). 0-D inputs are made 1-D, as they were; other calls are unchanged.
    if getattr(paddle.concat, "_slimzoo_shim", False):
        return
    concat = paddle.concat

    def _concat(x, axis=0, name=None):
        if isinstance(x, (list, tuple)) and x and all(hasattr(t, "shape") and len(t.shape) == 0 for t in x):
            x = [paddle.reshape(t, [1]) for t in x]
        return concat(x, axis=axis, name=name)

    _concat._slimzoo_shim = True
    paddle.concat = _concat


def _shim_min_max(paddle) -> None:
    # Exporting (old-IR static mode, stages/dense_export.py), ppdet's RPN head takes paddle.minimum of
    # two variables (Mask RCNN's RCNNBox also paddle.maximum), which paddle 3.3 passes to _C_ops ("must be
    # Value, but got Variable"), as paddle.multiply (stages/zoo/runtime.py). There each is a select, the
    # same values.
    _while_exporting(paddle, "minimum", lambda x, y: paddle.where(x < y, x, y))
    _while_exporting(paddle, "maximum", lambda x, y: paddle.where(x > y, x, y))


def _shim_unary(paddle) -> None:
    # Exporting, the Cascade head's box decoding (ppdet's delta2bbox) takes paddle.exp of old-IR variables,
    # and Mask RCNN's mask head and a deformable convolution's mask (ppdet's ConvNormLayer; PaddleSlim's tracer
    # too, narrowing one) F.sigmoid, which paddle 3.3 also sends to _C_ops only; there each is appended as
    # its op, as paddle 2.x did.
    def op(kind):
        def append(x):
            from paddle.base.layer_helper import LayerHelper

            helper = LayerHelper(kind)
            out = helper.create_variable_for_type_inference(x.dtype)
            helper.append_op(type=kind, inputs={"X": x}, outputs={"Out": out})
            return out

        return append

    _while_exporting(paddle, "exp", op("exp"))
    _while_exporting(paddle, "sigmoid", op("sigmoid"), paddle.nn.functional)


def _while_exporting(paddle, api: str, static, module=None) -> None:
    """Make ``<module>.<api>`` (``paddle.<api>`` by default) call ``static`` (on its tensor arguments) in
    old-IR static mode, and itself otherwise; once."""
    module = module or paddle
    fn = getattr(module, api)
    if getattr(fn, "_slimzoo_shim", False):
        return

    def shimmed(*args, name=None):
        if not paddle.in_dynamic_mode() and not paddle.framework.in_pir_mode():
            return static(*args)
        return fn(*args, name=name)

    shimmed._slimzoo_shim = True
    setattr(module, api, shimmed)
