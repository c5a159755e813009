"""The pinned stack works together through stages.zoo.runtime (set up in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_runtime_sets_the_stack_environment():
    assert os.environ["FLAGS_enable_pir_api"] == "0"
    assert os.environ["OMP_NUM_THREADS"] == "2"


def test_toolkits_import_and_run_on_the_old_ir():
    from stages.zoo import runtime

    runtime.shim_paddle()
    import numpy
    import paddle
    import paddleslim  # noqa: F401
    import ppdet  # noqa: F401
    import paddleseg  # noqa: F401
    import paddle2onnx  # noqa: F401
    import onnxruntime  # noqa: F401

    assert numpy.__version__ == "1.26.4"
    paddle.enable_static()
    try:
        assert not paddle.framework.in_pir_mode()
    finally:
        paddle.disable_static()
    net = paddle.vision.models.mobilenet_v1(scale=0.25, num_classes=10)
    assert paddle.flops(net, [1, 3, 32, 32]) > 0


def test_setup_refuses_a_paddle_imported_too_early():
    env = {k: v for k, v in os.environ.items() if k != "FLAGS_enable_pir_api"}
    code = "import paddle\nfrom stages.zoo import runtime\nruntime.setup()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "StackError" in result.stderr


@pytest.mark.xdist_group("env")
def test_xdist_groups_reach_the_scheduler(request):
    """Under `make test` (--dist loadgroup) a grouped test's id carries its group, which is what keeps the
    tests sharing an expensive fixture on one worker (pytest 9 + xdist 3.8 silently lost it)."""
    # xdist's workers set option.loadgroup; a run without -n has no such option
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup")
    assert request.node.nodeid.endswith("@env")
