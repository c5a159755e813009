"""Every published number in every seed table is held by the registry, against the right entry.

For each row of each table of ../shared/seeds/*.txt, the test finds the entries that cite the
table (``published[].src``) and keeps the one that (1) holds the row's download link, if the row
has one, (2) has an architecture or backbone that the row names, (3) has the compression method
the row names (none for a baseline), and (4) holds every number of the row: values in its records
for that table, settings (input size, batch per GPU, schedule) in its recipe, pruning fractions in
its method, and the teacher's published values for the teacher column.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pytest

from seedtables import numbers, parse_tables, urls
from stages.zoo.model import Entry

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is absent")

#: Rows that the registry deliberately does not hold, with the reason. Keep it empty if possible.
EXCEPTIONS: dict[tuple[str, str, int, int], str] = {}

#: Words in the seeds that name an architecture or backbone, beyond its lowercase catalog name.
ALIASES = {
    "ResNet34": ["r34"],
    "ResNet50_vd": ["r50vd", "r50"],
    "DeepLabV3P": ["deeplabv3"],
    "FCN": ["hrnet"],
    "HRNet_W18_C": ["hrnetw18"],
    "MobileNetV3_large": ["large"],
    "MobileNetV3_small": ["small"],
    "DarkNet53": ["darknet"],
}


def norm(text: str) -> str:
    """Lowercase letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\(https?://[^)]*\)", "", text.lower()))


def role(header: str) -> str:
    """What a column holds: link, teacher, method, ident (names) or value (numbers)."""
    h = header.lower()
    if "download" in h or "下载" in h:
        return "link"
    if "teacher" in h:
        return "teacher"
    if h == "method" or any(k in header for k in ("压缩策略", "剪裁策略", "蒸馏策略", "量化策略", "压缩方法")):
        return "method"
    if h in ("", "model", "backbone", "architecture", "device", "dataset") or header in (
            "模型", "骨架网络", "设备", "模型类型", "数据集", "预训练权重"):
        return "ident"
    return "value"


def row_methods(text: str) -> set[str]:
    """Compression kinds that a row's method words name (empty for a baseline)."""
    t = text.lower()
    kinds = set()
    if any(w in t for w in ("quant", "量化", "post", "aware")):
        kinds.add("quant")
    if any(w in t for w in ("prune", "uniform", "sensitive", "sensity", "auto", "r578", "剪裁")):
        kinds.add("prune")
    if "disti" in t:
        kinds.add("distill")
    if "sanas" in t:
        kinds.add("nas")
    return kinds


def entry_methods(entry: Entry) -> set[str]:
    return {k for k in ("prune", "distill", "quant", "nas") if getattr(entry.method, k) is not None}


def flat(value) -> list[float]:
    """Every number inside a (nested) value."""
    if dataclasses.is_dataclass(value):
        return [x for f in dataclasses.fields(value) for x in flat(getattr(value, f.name))]
    if isinstance(value, dict):
        return [x for v in value.values() for x in flat(v)]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in flat(v)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    return []


def holds(pool: list[float], x: float) -> bool:
    return any(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) for y in pool)


def check_row(registry, src: str, header: list[str], row: list[str]) -> str | None:
    """Return None when some entry holds the row, else why none does."""
    roles = [role(h) for h in header]
    cells = dict(zip(range(len(row)), row))
    values = [x for i, c in cells.items() if roles[i] == "value" for x in numbers(c)]
    # Only percentages in a method cell are settings ("sensitive -30%"); "FP32" is a name.
    method_nums = [abs(float(x)) for i, c in cells.items() if roles[i] == "method"
                   for x in re.findall(r"([-+]?\d+(?:\.\d+)?)\s*%", c)]
    # "YOLOv3-ResNet34(36.2)": the teacher's own published value is the number in parentheses.
    teacher_nums = [float(x) for i, c in cells.items() if roles[i] == "teacher"
                    for x in re.findall(r"\(([-+]?\d+(?:\.\d+)?)\)", c)]
    links = [u for c in row for u in urls(c)]
    if not values and not method_nums and not links:
        return None
    ident = " ".join(c for i, c in cells.items() if roles[i] == "ident")
    method_text = " ".join(c for i, c in cells.items() if roles[i] in ("method", "ident"))
    if any(roles[i] == "teacher" and c.strip() not in ("", "-") for i, c in cells.items()):
        method_text += " distill"
    why = []
    for name, entry in registry.entries.items():
        records = [r for r in entry.published if r.src == src]
        if not records:
            continue
        reason = _mismatch(registry, entry, records, ident, method_text, values, method_nums,
                           teacher_nums, links)
        if reason is None:
            return None
        why.append(f"{name}: {reason}")
    return "no entry holds it (" + "; ".join(why[:4]) + (" ..." if len(why) > 4 else "") + ")"


def _mismatch(registry, entry, records, ident, method_text, values, method_nums, teacher_nums, links):
    held_links = {r.download for r in records} | {r.download_lite for r in records}
    if links and not set(links) <= held_links:
        return "download link differs"
    words = [norm(entry.arch.name)] + ALIASES.get(entry.arch.name, [])
    if entry.arch.backbone:
        words += [norm(entry.arch.backbone)] + ALIASES.get(entry.arch.backbone, [])
    if not any(w in norm(ident) for w in words):
        return "architecture not named in the row"
    kinds = row_methods(method_text)
    if not kinds <= entry_methods(entry) or (not kinds and entry_methods(entry)):
        return f"method {sorted(kinds)} vs {sorted(entry_methods(entry))}"
    family = registry.defaults[entry.task]
    pool = flat(records) + flat(entry.arch) + flat(entry.train) + flat(family.train)
    missing = [x for x in values if not holds(pool, x)]
    fractions = flat(entry.method)
    missing += [x for x in method_nums if not holds([abs(f * 100) for f in fractions] + fractions, x)]
    if entry.method.distill and teacher_nums:
        teacher = registry.entries[entry.method.distill.teacher]
        missing += [x for x in teacher_nums if not holds(flat(teacher.published), x)]
    if missing:
        return f"numbers not held: {missing}"
    return None


def _seed_tables():
    return [(path.name, t) for path in sorted(SEEDS.glob("*.txt")) for t in parse_tables(path)] \
        if SEEDS.is_dir() else []


def test_every_seed_table_is_a_declared_source(registry):
    declared = {(registry.sources.pages[t.page].file, t.heading, t.index)
                for t in registry.sources.tables.values()}
    found = {(f, t.heading, t.index) for f, t in _seed_tables()}
    assert found - declared == set(), "seed tables missing from params/sources.yaml"
    assert declared - found == set(), "params/sources.yaml cites tables the seeds do not have"


def test_every_published_number_is_held(registry):
    by_place = {(registry.sources.pages[t.page].file, t.heading, t.index): key
                for key, t in registry.sources.tables.items()}
    failures, rows = [], 0
    for file, table in _seed_tables():
        src = by_place[(file, table.heading, table.index)]
        for i, row in enumerate(table.rows):
            rows += 1
            if (file, table.heading, table.index, i) in EXCEPTIONS:
                continue
            reason = check_row(registry, src, table.header, row)
            if reason:
                failures.append(f"{src} row {i + 1} [{' | '.join(row)[:90]}]: {reason}")
    assert rows > 300
    assert not failures, f"{len(failures)} of {rows} seed rows not held:\n" + "\n".join(failures)


def test_a_wrong_number_is_caught(registry):
    """The check fails when the registry holds a different value than the seed row."""
    table = next(t for f, t in _seed_tables() if t.heading.endswith("1.1 Quantization") and t.index == 1)
    row = table.rows[0]  # MobileNetV1 baseline: 70.99%/89.68%, 17 MB
    assert check_row(registry, "s000.cls_quant", table.header, row) is None
    entry = registry.entries["mobilenetv1"]
    records = [dataclasses.replace(r, top1=71.99) if r.src == "s000.cls_quant" else r for r in entry.published]
    broken = dataclasses.replace(registry, entries={**registry.entries,
                                                   "mobilenetv1": dataclasses.replace(entry, published=records)})
    assert "numbers not held: [70.99]" in check_row(broken, "s000.cls_quant", table.header, row)
