"""Review two revisions of the zoo: a Markdown report of metric and params changes, and a gate.

    python -m stages.diff BASE [HEAD] [--out report.md] [--fail-on-regression]

HEAD defaults to the working tree. For every entry (grouped by task): the metrics that changed
(old, new, change, change in %) with a verdict under the tolerances of ``params/review.yaml``
(latency only beyond the recorded spread), the params changes that caused them, and the entries
added and removed; then the published-vs-measured gaps that params declare. Exit status: 0, or 1
with ``--fail-on-regression`` when any change is a regression, 2 for bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from stages.zoo import catalog
from stages.zoo.io import write_text
from stages.zoo.review import compare, gaps, load_side, regressions
from stages.zoo.revision import RevisionError, Tree

MARK = {"regression": "❌ regression", "improvement": "✅ improvement", "within tolerance": "within tolerance",
        "": "", "not measured": "not measured"}


def fmt(value: Any, signed: bool = False) -> str:
    """Numbers to 4 significant digits (the report's only formatting)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:+.4g}" if signed else f"{value:.4g}"
    return f"`{value}`"


def _row(c) -> str:
    """A changed metric's table cells up to its change in %."""
    return f"| `{c.metric}` | {fmt(c.old)} | {fmt(c.new)} | {fmt(c.delta, True)} | {fmt(c.pct, True)} |"


def _entry(d) -> list[str]:
    title = {"added": " (added)", "removed": " (removed)"}.get(d.status, "")
    flag = " ❌" if d.regressions else ""
    lines = [f"### `{d.name}`{title}{flag}", ""]
    if d.params:
        lines += ["Params changed:", "", "| key | old | new |", "|---|---|---|"]
        lines += [f"| `{k}` | {fmt(a)} | {fmt(b)} |" for k, a, b in d.params] + [""]
    judged = [c for c in d.changes if c.verdict]
    rest = [c for c in d.changes if not c.verdict]
    if judged:
        lines += ["| metric | old | new | change | change % | verdict |", "|---|--:|--:|--:|--:|---|"]
        lines += [_row(c) + f" {MARK[c.verdict]} |" for c in judged] + [""]
    if rest:
        lines += [f"<details><summary>{len(rest)} other figures changed</summary>", "",
                  "| metric | old | new | change | change % |", "|---|--:|--:|--:|--:|"]
        lines += [_row(c) for c in rest] + ["", "</details>", ""]
    return lines


def report(base, head, diffs, gap_rows) -> str:
    """The Markdown report."""
    improvements = sum(c.verdict == "improvement" for d in diffs for c in d.changes)
    count = {s: sum(d.status == s for d in diffs) for s in ("changed", "added", "removed")}
    name = lambda side: f"`{side.tree.label}`" + (f" ({side.tree.commit[:10]})" if side.tree.commit else "")  # noqa: E731
    lines = [f"# Zoo review: {name(base)} → {name(head)}", "",
             f"**{regressions(diffs, gap_rows)} regression(s)**, {improvements} improvement(s); "
             f"{count['changed']} entries changed, "
             f"{count['added']} added, {count['removed']} removed.", ""]
    shared = [(k, base.shared.get(k), head.shared.get(k)) for k in sorted(set(base.shared) | set(head.shared))
              if base.shared.get(k) != head.shared.get(k)]
    if shared:
        lines += ["## Shared params", "", "| key | old | new |", "|---|---|---|"]
        lines += [f"| `{k}` | {fmt(a)} | {fmt(b)} |" for k, a, b in shared] + [""]
    for task in catalog.TASKS:
        group = [d for d in diffs if d.task == task]
        if group:
            lines += [f"## {task}", ""] + [line for d in group for line in _entry(d)]
    if gap_rows:
        lines += ["## Published vs measured", "", "| entry | metric | published | measured | gap | expected | verdict |",
                  "|---|---|--:|--:|--:|--:|---|"]
        lines += [f"| `{g['entry']}` | {g['metric']} | {fmt(g['published'])} | {fmt(g['measured'])} | "
                  f"{fmt(g['gap'])} | {fmt(g['expected'])} | {MARK[g['verdict']]} |" for g in gap_rows] + [""]
    if not diffs and not shared:
        lines += ["No params or metrics changed.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write the report (stdout or ``--out``); see the module docstring for the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="git revision to compare against (e.g. origin/main)")
    parser.add_argument("head", nargs="?", help="git revision (default: the working tree)")
    parser.add_argument("--repo", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, help="write the Markdown report here (default: stdout)")
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a change is a regression")
    args = parser.parse_args(argv)
    try:
        base, head = (load_side(Tree(args.repo, rev)) for rev in (args.base, args.head))
    except RevisionError as err:
        print(f"stages.diff: {err}", file=sys.stderr)
        return 2
    diffs, gap_rows = compare(base, head), gaps(head)
    text = report(base, head, diffs, gap_rows)
    if args.out:
        write_text(args.out, text)
    else:
        print(text)
    return 1 if regressions(diffs, gap_rows) and args.fail_on_regression else 0


if __name__ == "__main__":
    sys.exit(main())
