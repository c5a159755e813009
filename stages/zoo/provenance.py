"""Where a measurement came from: commit, library versions, CPU, threads, date (flat keys)."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata

PACKAGES = ("paddlepaddle", "paddleclas", "paddleslim", "paddledet", "paddleseg", "paddle2onnx", "onnxruntime")
#: The vector-instruction flags that pick oneDNN's kernels: two hosts both named "AMD EPYC" (one with
#: AVX-512, one without) trained the same stage to different weights (notes of stop 34).
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8")
#: What `dvc repro` itself rewrites as it goes: a change there is not a change of code or params.
OUTPUTS = (":!dvc.lock", ":!metrics", ":!site/docs")


def _commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *OUTPUTS],
                               capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def _cpu_flags(info: dict[str, str]) -> str:
    """Which of :data:`CPU_FLAGS` the CPU has, space-separated ("unknown" without /proc/cpuinfo)."""
    if "flags" not in info:
        return "unknown"
    have = set(info["flags"].split())
    return " ".join(flag for flag in CPU_FLAGS if flag in have)


def provenance(threads: int) -> dict[str, object]:
    """Flat provenance fields for a metrics file."""
    info = _cpuinfo()
    out: dict[str, object] = {
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": info.get("model name") or platform.processor() or "unknown",
        "cpu_flags": _cpu_flags(info),
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
