"""Compare two revisions of the zoo: metric changes with verdicts, params changes, added entries.

Used by ``python -m stages.diff``. Metrics are the flat JSON files under ``metrics/<entry>/``
(``benchmark.json`` keys by name, the other stages' as ``<file>:<key>``); only numbers are compared.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from . import catalog
from .model import Review
from .revision import RevisionError, Tree

#: Accuracy-like metrics (judged in points): the catalog's percent and AP metrics.
ACCURACY = tuple(k for k, spec in catalog.METRICS.items() if spec.unit in ("%", "AP"))
SIZES = ("size_mb", "params_m", "gflops", "macs")
#: A published metric and the measured key it is compared with (paper scale where it exists).
MEASURED_AS = {"top1": "top1", "top5": "top5", "box_ap": "box_ap", "mask_ap": "mask_ap", "miou": "miou",
               "easy": "easy", "medium": "medium", "hard": "hard", "size_mb": "paper_size_mb",
               "gflops": "paper_gflops", "params_mb": "paper_params_m"}


@dataclass
class Side:
    """One revision: entries (name -> Entry), their tasks, flat metrics and shared params."""

    tree: Tree
    entries: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    shared: dict[str, Any]
    review: Review


@dataclass
class Change:
    metric: str
    old: Optional[float]
    new: Optional[float]
    kind: str  # accuracy, latency, size, other
    verdict: str = ""  # regression, improvement, within tolerance (or "" when not judged)

    @property
    def delta(self) -> Optional[float]:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def pct(self) -> Optional[float]:
        return None if self.delta is None or not self.old else 100.0 * self.delta / abs(self.old)


@dataclass
class EntryDiff:
    name: str
    task: str
    status: str  # changed, added, removed
    params: list[tuple[str, Any, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.verdict == "regression"]


def regressions(diffs: list[EntryDiff], gap_rows: list[dict[str, Any]]) -> int:
    """Regressions in the metric changes plus expected gaps that are off."""
    return sum(len(d.regressions) for d in diffs) + sum(g["verdict"] == "regression" for g in gap_rows)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of nested mappings / dataclasses; lists stay values."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in flatten(sub, f"{prefix}{key}.").items()}
    return {prefix[:-1]: value}


def load_side(tree: Tree) -> Side:
    """Read the params (strictly, as the pipeline does) and the metrics of one revision."""
    from .registry import Invalid, _load_one, load_registry

    with tempfile.TemporaryDirectory() as tmp:
        params = tree.copy("params", Path(tmp))
        try:
            registry = load_registry(params)
        except Invalid as err:
            first = err.problems[0] if err.problems else "unreadable"
            raise RevisionError(f"params at {tree.label} are invalid: {first}") from None
        problems: list = []
        review = _load_one(Review, params / "review.yaml", str, problems) if (params / "review.yaml").exists() \
            else Review()
        if problems or review is None:
            raise RevisionError(f"params/review.yaml at {tree.label}: {problems[0] if problems else 'empty'}")
    shared = {}
    for path in tree.files("params"):
        if path.endswith(".yaml") and not path.startswith(("params/zoo/", "params/published/")):
            shared.update({f"{path}: {k}": v for k, v in flatten(tree.yaml(path)).items()})
    metrics: dict[str, dict[str, float]] = {}
    for path in tree.files("metrics"):
        parts = path.split("/")
        if not path.endswith(".json") or "plots" in parts or "curves" in parts or len(parts) < 3:
            continue
        stem = Path(path).stem
        for key, value in tree.json(path).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                metrics.setdefault(parts[1], {})[key if stem == "benchmark" else f"{stem}:{key}"] = float(value)
    return Side(tree, registry.entries, metrics, shared, review)


def _ignored(key: str, review: Review) -> bool:
    return any(fnmatch.fnmatch(key, pattern) for pattern in review.ignore)


def kind(metric: str) -> str:
    key = metric.split(":")[-1]
    if key.endswith("_ms"):
        return "latency"
    if key.split("_")[-1] in ACCURACY or key in ACCURACY:
        return "accuracy"
    if any(key.endswith(s) for s in SIZES):
        return "size"
    return "other"


def judge(change: Change, old: dict[str, float], new: dict[str, float], review: Review) -> str:
    """Verdict of one change under the tolerances; "" for metrics that are not judged."""
    tol, d = review.tolerance, change.delta
    if d is None or change.kind == "other" or (change.kind == "latency" and "_median_ms" not in change.metric):
        return ""
    if change.kind == "accuracy":
        worse, better = d < -tol.accuracy_points, d > tol.accuracy_points
    else:
        limit = tol.latency_pct if change.kind == "latency" else tol.size_pct
        beyond = abs(change.pct or 0.0) > limit
        if change.kind == "latency":  # and beyond the noise both runs recorded
            std = change.metric.replace("_median_ms", "_std_ms")
            beyond = beyond and abs(d) > tol.latency_sigmas * math.hypot(old.get(std, 0.0), new.get(std, 0.0))
        worse, better = beyond and d > 0, beyond and d < 0
    return "regression" if worse else "improvement" if better else "within tolerance"


def compare(base: Side, head: Side) -> list[EntryDiff]:
    """Per entry (head's order, then removed ones): params and metric changes with verdicts."""
    diffs = []
    for name in list(head.entries) + [n for n in base.entries if n not in head.entries]:
        entry = head.entries.get(name) or base.entries[name]
        status = "added" if name not in base.entries else "removed" if name not in head.entries else "changed"
        old_p, new_p = flatten(base.entries.get(name) or {}), flatten(head.entries.get(name) or {})
        params = [(k, old_p.get(k), new_p.get(k)) for k in sorted(set(old_p) | set(new_p))
                  if old_p.get(k) != new_p.get(k)] if status == "changed" else []
        old_m, new_m = base.metrics.get(name, {}), head.metrics.get(name, {})
        changes = []
        for key in sorted(set(old_m) | set(new_m)):
            if old_m.get(key) != new_m.get(key) and not _ignored(key.split(":")[-1], head.review):
                c = Change(key, old_m.get(key), new_m.get(key), kind(key))
                c.verdict = judge(c, old_m, new_m, head.review)
                changes.append(c)
        if params or changes or status != "changed":
            diffs.append(EntryDiff(name, entry.task, status, params, changes))
    return diffs


def gaps(head: Side) -> list[dict[str, Any]]:
    """Published - measured gap of each declared (entry, metric) against its expected value."""
    rows = []
    for name, expected in head.review.expected_gap.items():
        entry = head.entries.get(name)
        for metric, want in expected.items():
            published = next((getattr(r, metric) for r in entry.published if isinstance(getattr(r, metric, None),
                                                                                   (int, float))), None) if entry else None
            measured = head.metrics.get(name, {}).get(MEASURED_AS.get(metric, metric))
            gap = None if published is None or measured is None else published - measured
            # the gap is off when the measured value is outside tolerance of published - expected,
            # in either direction
            expected_measured = Change(MEASURED_AS.get(metric, metric), None if published is None else published - want,
                                       measured, kind(metric))
            verdict = "not measured" if gap is None else judge(expected_measured, {}, {}, head.review).replace(
                "improvement", "regression")
            rows.append({"entry": name, "metric": metric, "published": published, "measured": measured,
                         "gap": gap, "expected": want, "verdict": verdict})
    return rows
