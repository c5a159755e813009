"""Parse the Markdown tables of the seed pages (../shared/seeds/) into rows of cells.

A table is located by its heading path (headings of level 2 and below, joined with " / ") and
its index under that heading, the same way ``params/sources.yaml`` cites it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

URL_RE = re.compile(r"\(+\s*(https?://[^)\s]+)")
NUM_RE = re.compile(r"[-+]?\d+(?:\.\d+)?[kK]?")


@dataclass
class SeedTable:
    """One Markdown table."""

    file: str
    heading: str
    index: int
    header: list[str]
    rows: list[list[str]]


def parse_tables(path: Path) -> list[SeedTable]:
    """Every table of a seed page, in order."""
    tables: list[SeedTable] = []
    stack: list[str] = []
    counts: dict[str, int] = {}
    block: list[str] = []
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
        if stripped.startswith("|") and not fenced:
            block.append(stripped)
            continue
        if block:
            heading = " / ".join(stack)
            counts[heading] = counts.get(heading, 0) + 1
            tables.append(_table(path.name, heading, counts[heading], block))
            block = []
        m = re.match(r"^(#+)\s+(.*?)\s*$", line)
        if m and not fenced:
            level = len(m.group(1))
            stack = [] if level == 1 else stack[: level - 2] + [m.group(2)]
    return tables


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(file: str, heading: str, index: int, lines: list[str]) -> SeedTable:
    rows = [_cells(line) for line in lines[2:]]
    return SeedTable(file, heading, index, _cells(lines[0]), rows)


def numbers(text: str) -> list[float]:
    """Numbers in a cell: ``70.99%/89.68% (-0.81%/-0.43%)`` -> [70.99, 89.68, -0.81, -0.43]."""
    text = re.sub(r"<sup>.*?</sup>", "", text)
    text = URL_RE.sub("", text)
    out = []
    for token in NUM_RE.findall(text):
        scale = 1000.0 if token[-1] in "kK" else 1.0
        out.append(float(token.rstrip("kK")) * scale)
    return out


def urls(text: str) -> list[str]:
    """Links in a cell."""
    return URL_RE.findall(text)
