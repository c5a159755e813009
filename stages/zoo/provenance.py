"""Where a measurement came from: commit, library versions, CPU, threads, date (flat keys)."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata

PACKAGES = ("paddlepaddle", "paddleclas", "paddleslim", "paddledet", "paddleseg", "paddle2onnx", "onnxruntime")


def _commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def provenance(threads: int) -> dict[str, object]:
    """Flat provenance fields for a metrics file."""
    out: dict[str, object] = {
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
    }
    for package in PACKAGES:
        try:
            out[f"version_{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[f"version_{package}"] = None
    return out
