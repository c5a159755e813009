"""Stage `render`: the registry and the metrics as the MkDocs pages of the bilingual site.

    python -m stages.render --params params --metrics metrics --site site --out site/docs

Jinja templates (``site/templates/``) and one locale file per language (``site/locales/``) render
every page in every language from the same data: the pages of ``site/pages.yaml`` (one per seed
section, its seed tables with the measured values beside the published ones), a chart page per
task, and a model card per entry. ``mkdocs build --strict`` then builds ``build/site``. Entries
without metrics show as "not run". ``dvc.lock`` gives the artifacts' hashes and sizes; it is read,
not declared as a dependency (the render stage's own lock entry would change it on every run).
``dvc.yaml`` says which stages serve each entry (the commands a card shows); DVC refuses it as a
dependency, and a new stage's first run changes ``metrics``, which re-renders.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from stages.zoo.io import staged_dirs


def load_locales(folder: Path) -> dict[str, dict[str, Any]]:
    """``<lang>.yaml`` files of ``folder``, by language."""
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.yaml"))}


def environment(templates: Path):
    """Jinja environment with the number filters (the only place numbers are formatted)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(num=_num, signed=_signed, pct=_pct)
    return env


def _num(value: Any, digits: int | None = None, dash: str = "—") -> str:
    """A number as written: as published (``digits`` None: Python's shortest repr), or rounded."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return dash if value is None else str(value)
    if digits is None:
        return f"{value:g}" if abs(value) >= 1e-4 and float(value) == float(f"{value:g}") else repr(value)
    return f"{value:.{digits}f}"


def _signed(value: Any, digits: int | None = None) -> str:
    text = _num(value, digits)
    return text if value is None or text.startswith("-") else f"+{text}"


def _pct(value: Any, digits: int | None = None) -> str:
    # a fraction as percent, without the float noise of the multiplication (0.112 -> 11.2)
    return _num(None if value is None else round(value * 100, 6), digits)


def build_context(params: Path, metrics: Path, site: Path, lock: Path) -> dict[str, Any] | None:
    """Everything the templates read, shared by both languages; None when params are invalid."""
    from stages.zoo import catalog
    from stages.zoo.registry import load_or_report
    from stages.zoo.site import charts, describe
    from stages.zoo.site.measured import ACCURACY, AXES, load_measured
    from stages.zoo.site.tables import site_table

    registry = load_or_report(params)
    if registry is None:
        return None
    layout = yaml.safe_load((site / "pages.yaml").read_text(encoding="utf-8"))
    measured = {name: load_measured(metrics, name) for name in registry.entries}
    tables = {key: site_table(key, registry, measured) for key in registry.sources.tables}
    plots = {}
    for task in registry.defaults:
        acc = ACCURACY[task][0]
        entries = [n for n, e in registry.entries.items() if e.task == task and measured[n].ran]
        plots[task] = {
            "latency": charts.chart("latency", acc, [(n, measured[n].deployed_latency(1), measured[n].get(acc))
                                                     for n in entries]),
            "size": charts.chart("size", acc, [(n, measured[n].get("size_mb"), measured[n].get(acc))
                                               for n in entries])}
    lock_data = describe.read_lock(lock)
    stages = describe.entry_stages(lock.with_suffix(".yaml"), params / "zoo")  # dvc.lock -> dvc.yaml
    cards = {name: {"method": describe.method_parts(e), "recipe": describe.recipe(e, registry.defaults[e.task].train),
                    "declaration": describe.declaration(e), "artifacts": describe.artifacts(lock_data, name),
                    "lineage": describe.lineage(registry.entries, name), "file": registry.files[name],
                    "stages": stages.get(name, {}),
                    "curves": {k: charts.curve(v) for k, v in measured[name].curves.items()}}
             for name, e in registry.entries.items()}
    return {"registry": registry, "entries": registry.entries, "layout": layout["tasks"], "tables": tables,
            "measured": measured, "plots": plots, "cards": cards, "accuracy": ACCURACY, "axes": AXES,
            "profile": registry.choice.profile, "metric_keys": list(catalog.METRICS),
            "samples": {p.parent.name for p in metrics.glob("*/sample.png")}}


def render_language(env, context: dict[str, Any], t: dict[str, Any], lang: str, out: Path) -> int:
    """Write every page of one language under ``out``; returns the number of pages."""
    pages = {Path("index.md"): ("index.md.j2", {})}
    for task, spec in context["layout"].items():
        pages[Path(task) / "index.md"] = ("task.md.j2", {"task": task, "spec": spec})
        for page, keys in spec["pages"].items():
            pages[Path(task) / f"{page}.md"] = ("tables.md.j2", {"task": task, "page": page, "keys": keys})
    for name in context["entries"]:
        pages[Path("models") / f"{name}.md"] = ("card.md.j2", {"name": name})
    for path, (template, extra) in pages.items():
        text = env.get_template(template).render(**context, **extra, t=t, lang=lang)
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text, encoding="utf-8")
    return len(pages)


def main(argv: list[str] | None = None) -> int:
    """Render both languages' pages into ``--out`` (replaced as a whole, never half-written)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params"))
    parser.add_argument("--metrics", type=Path, default=Path("metrics"))
    parser.add_argument("--site", type=Path, default=Path("site"), help="pages.yaml, templates/, locales/")
    parser.add_argument("--lock", type=Path, default=Path("dvc.lock"), help="artifact hashes and sizes")
    parser.add_argument("--out", type=Path, default=Path("site/docs"))
    args = parser.parse_args(argv)
    context = build_context(args.params, args.metrics, args.site, args.lock)
    if context is None:
        return 1
    locales = load_locales(args.site / "locales")
    env = environment(args.site / "templates")
    with staged_dirs(args.out) as (tmp,):
        counts = {lang: render_language(env, context, t, lang, tmp / lang) for lang, t in locales.items()}
        for lang in locales:  # images the benchmark stages drew (detection, segmentation samples)
            for name in sorted(context["samples"]):
                shutil.copy(args.metrics / name / "sample.png", tmp / lang / "models" / f"{name}.png")
    ran = sum(m.ran for m in context["measured"].values())
    print(f"rendered {', '.join(f'{n} {lang}' for lang, n in counts.items())} pages -> {args.out} "
          f"({ran} of {len(context['entries'])} entries measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
