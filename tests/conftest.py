"""Shared fixtures. The process environment comes from stages.zoo.runtime, as in every stage."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests/ helpers such as seedtables


def pytest_configure(config):
    from stages.zoo import runtime

    runtime.setup(threads=2)


@pytest.fixture(scope="session")
def registry():
    """The registry declared under params/."""
    from stages.zoo.registry import load_registry

    return load_registry(ROOT / "params")
