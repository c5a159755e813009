"""Seed tables as site tables: one row per published record, its entry's measurements beside it.

A published record's list-valued metric (one value per thread count, input size or device) becomes
one column per element, so every published number has its own cell. Conditions that hold for a
whole record (device, ISA, input, threads, batch) are columns of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .. import catalog
from ..model import Entry, Published
from ..registry import Registry
from .measured import ACCURACY, THREADS, Measured

AXES = ("threads", "input", "device")
CONDITIONS = ("device", "isa", "input", "threads", "batch")


@dataclass(frozen=True)
class Column:
    """A published value column: ``kind`` is value, delta (points) or delta_pct (percent)."""

    metric: str
    kind: str = "value"
    axis: Optional[str] = None
    at: Any = None

    @property
    def unit(self) -> str:
        return "%" if self.kind == "delta_pct" else catalog.METRICS[self.metric].unit


@dataclass
class Row:
    """One published record of one entry, and that entry's measurements."""

    entry: str
    conditions: dict[str, Any]
    values: list[Optional[float]]
    download: Optional[str]
    note: Optional[str]
    measured: Measured
    delta: dict[str, Optional[float]]  # measured change of each accuracy metric against the base


@dataclass
class SiteTable:
    """A seed table on the site."""

    key: str
    task: str
    source: dict[str, Any]
    conditions: list[str]
    columns: list[Column]
    accuracy: list[str]
    threads: tuple[int, ...]
    rows: list[Row] = field(default_factory=list)

    @property
    def cpu(self) -> Optional[str]:
        """The CPU the measured latencies come from (the first measured row's)."""
        return next((r.measured.get("cpu") for r in self.rows if r.measured.ran), None)


def _axis(record: Published) -> Optional[str]:
    return next((a for a in AXES if isinstance(getattr(record, a), list)), None)


def _record_columns(record: Published) -> list[Column]:
    cols = []
    axis = _axis(record)
    groups = [("value", {k: getattr(record, k) for k in catalog.METRICS}), ("delta", record.delta),
              ("delta_pct", record.delta_pct)]
    for kind, values in groups:
        for metric in catalog.METRICS:
            value = values.get(metric)
            if isinstance(value, list):
                cols += [Column(metric, kind, axis, at) for at in getattr(record, axis)]
            elif value is not None:
                cols.append(Column(metric, kind))
    return cols


def _value(record: Published, col: Column) -> Optional[float]:
    source = {"value": None, "delta": record.delta, "delta_pct": record.delta_pct}[col.kind]
    value = getattr(record, col.metric) if source is None else source.get(col.metric)
    if col.axis is None:
        return None if isinstance(value, list) else value
    if not isinstance(value, list) or _axis(record) != col.axis:
        return None
    return value[getattr(record, col.axis).index(col.at)]


def _ordered(cols: list[Column]) -> list[Column]:
    """Unique columns: values, then deltas, each in the catalog's metric order."""
    unique = list(dict.fromkeys(cols))
    kinds = ("value", "delta", "delta_pct")
    metrics = list(catalog.METRICS)
    return sorted(unique, key=lambda c: (kinds.index(c.kind), metrics.index(c.metric)))


def site_table(key: str, registry: Registry, measured: dict[str, Measured]) -> SiteTable:
    """The site table of seed table ``key`` (a ``params/sources.yaml`` table)."""
    spec = registry.sources.tables[key]
    page = registry.sources.pages[spec.page]
    held = [(name, entry, r) for name, entry in registry.entries.items() for r in entry.published if r.src == key]
    task = held[0][1].task if held else "classification"
    cols = _ordered([c for _, _, r in held for c in _record_columns(r)])
    conditions = [c for c in CONDITIONS if any(getattr(r, c) is not None and not isinstance(getattr(r, c), list)
                                              for _, _, r in held)]
    source = {"key": key, "title": page.title, "file": page.file, "lang": page.lang, "heading": spec.heading,
              "index": spec.index, "dataset": spec.dataset, "note": spec.note}
    table = SiteTable(key, task, source, conditions, cols, ACCURACY[task], THREADS)
    for name, entry, record in held:
        m = measured[name]
        table.rows.append(Row(name, {c: getattr(record, c) for c in conditions},
                              [_value(record, c) for c in cols], record.download, record.note, m,
                              delta_against_base(entry, name, measured)))
    return table


def delta_against_base(entry: Entry, name: str, measured: dict[str, Measured]) -> dict[str, Optional[float]]:
    """Measured change of each accuracy metric against the entry's base entry, in points."""
    own = measured[name]
    base = measured.get(entry.base) if entry.base else None
    if base is None or not own.ran or not base.ran:
        return {}
    keys = ACCURACY[entry.task]
    return {k: own.get(k) - base.get(k) for k in keys if own.get(k) is not None and base.get(k) is not None}
