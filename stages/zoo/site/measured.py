"""What the pipeline measured for an entry, read from its git-tracked metrics files.

Values stay raw numbers (templates format them); a missing or unreadable file is ``None`` (the
site shows "not run"), a missing key is ``None`` too.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

#: The accuracy metrics each task is measured by (benchmark.json keys, also published keys).
ACCURACY = {
    "classification": ["top1", "top5"],
    "detection": ["box_ap"],
    "face_detection": ["easy", "medium", "hard"],
    "instance_segmentation": ["box_ap", "mask_ap"],
    "semantic_segmentation": ["miou"],
}
THREADS = (1, 2, 4)
RUNTIMES = ("paddle", "onnx")
PRECISIONS = ("fp32", "int8")
#: Latency input sizes every benchmark times; a detector or segmenter is also timed at ``paper<px>``, the
#: seeds' other sizes (``PAPER_SIZES`` in stages/zoo/{det,seg}/measure.py), which :attr:`Measured.inputs`
#: reads from its keys.
INPUTS = ("profile", "paper")
#: The benchmark's latency grid, as the model cards lay it out (input sizes: :attr:`Measured.inputs`).
AXES = {"runtimes": RUNTIMES, "precisions": PRECISIONS, "threads": THREADS}


@dataclass
class Measured:
    """One entry's measurements; ``metrics`` is benchmark.json (empty when not run)."""

    entry: str
    metrics: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # compress/search figures

    @property
    def ran(self) -> bool:
        return bool(self.metrics)

    def get(self, key: str) -> Optional[float]:
        return self.metrics.get(key)

    @property
    def precision(self) -> str:
        """The precision the entry is deployed at: int8 when it was quantized."""
        return "int8" if any(k.startswith("paddle_int8_") for k in self.metrics) else "fp32"

    def latency(self, runtime: str, precision: str, threads: int, at: str, stat: str = "median"):
        return self.metrics.get(f"{runtime}_{precision}_t{threads}_{at}_{stat}_ms")

    @property
    def inputs(self) -> tuple[str, ...]:
        """The latency input sizes this entry was measured at: :data:`INPUTS`, then ``paper<px>``, largest
        first."""
        found = {m.group(1) for k in self.metrics if (m := re.fullmatch(r"[a-z]+_[a-z0-9]+_t1_(\w+)_median_ms", k))}
        extra = sorted((at for at in found if re.fullmatch(r"paper\d+", at)), key=lambda at: -int(at[5:]))
        return tuple(at for at in INPUTS if at in found) + tuple(extra)

    def deployed_latency(self, threads: int) -> Optional[float]:
        """Paddle Inference median at the paper's input size, at the deployed precision."""
        return self.latency("paddle", self.precision, threads, "paper")


def load_measured(metrics_dir: Path, entry: str) -> Measured:
    """Read ``metrics_dir/<entry>/``: benchmark.json, curves (dvclive TSVs), stage figures."""
    root = metrics_dir / entry
    out = Measured(entry, _json(root / "benchmark.json"))
    search = _json(root / "search" / "search.json")
    for data in (_json(root / "compress" / "compress.json"), search):
        out.extra.update({k: v for k, v in data.items() if isinstance(v, (int, float, str))})
    for tsv in sorted(root.glob("**/plots/metrics/*.tsv")):
        stage = tsv.relative_to(root).parts[0]
        points = _tsv(tsv)
        if points:
            out.curves[f"{stage}/{tsv.stem}"] = points
    rewards = _rewards(search.get("trace"))
    if rewards:
        out.curves["search/reward"] = rewards
    return out


def _rewards(trace: Any) -> list[tuple[float, float]]:
    """A NAS search's candidates as (iteration, reward) points (search.json's ``trace``); none if malformed."""
    try:
        return [(float(step["iter"]), float(step["reward"])) for step in trace]
    except (TypeError, KeyError, ValueError):
        return []


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # not run yet, or half a file: shown as not run, never a broken build
    return data if isinstance(data, dict) else {}


def _tsv(path: Path) -> list[tuple[float, float]]:
    try:
        with open(path, encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter="\t"))[1:]
        return [(float(r[0]), float(r[1])) for r in rows if len(r) >= 2]
    except (OSError, ValueError, IndexError):
        return []
