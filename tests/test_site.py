"""The bilingual site: locale files, page layout, rendering with missing metrics, published numbers.

The built site (render + ``mkdocs build --strict``) is made once per run in a temporary folder from
this repository's params and metrics (``site_build``); tests/test_site_browser.py drives it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks.site_build import copy_site, render_and_build
from seedtables import numbers, parse_tables
from stages import render
from stages.zoo.site import charts

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
LANGS = ("en", "zh")

#: Seed numbers the built pages do not show, with the reason. Keep it empty if possible.
EXCEPTIONS: dict[tuple[str, int, float], str] = {}


def keys(tree, prefix=""):
    """Dotted keys of a nested mapping, with the {placeholders} of each string."""
    if isinstance(tree, dict):
        return {k: v for name, sub in tree.items() for k, v in keys(sub, f"{prefix}{name}.").items()}
    return {prefix[:-1]: frozenset(re.findall(r"{(\w+)", str(tree)))}


def test_every_locale_key_exists_in_both_languages():
    en, zh = (keys(yaml.safe_load((ROOT / "site" / "locales" / f"{lang}.yaml").read_text("utf-8")))
              for lang in LANGS)
    assert sorted(set(en) - set(zh)) == [], "keys missing from zh.yaml"
    assert sorted(set(zh) - set(en)) == [], "keys missing from en.yaml"
    assert {k for k in en if en[k] != zh[k]} == set(), "placeholders differ between the languages"


def test_every_seed_table_is_on_exactly_one_page(registry):
    layout = yaml.safe_load((ROOT / "site" / "pages.yaml").read_text("utf-8"))["tasks"]
    shown = [key for spec in layout.values() for keys_ in spec["pages"].values() for key in keys_]
    assert sorted(shown) == sorted(registry.sources.tables)


@pytest.mark.parametrize("value, text", [(70.99, "70.99"), (0.295, "0.295"), (71.518, "71.518"),
                                         (17, "17"), (-0.81, "-0.81"), (3.2e-05, "3.2e-05"), (None, "—")])
def test_published_numbers_are_written_as_published(value, text):
    assert render._num(value) == text


def test_fractions_show_as_percent_without_float_noise():
    assert render._pct(0.112) == "11.2" and render._pct(0.5) == "50" and render._pct(0.875) == "87.5"


def test_pareto_front_keeps_only_undominated_points():
    pts = [charts.Point("a", 1, 50), charts.Point("b", 2, 40), charts.Point("c", 3, 60), charts.Point("d", 4, 55)]
    assert [p.entry for p in charts.pareto(pts)] == ["a", "c"]


def build(dest: Path, metrics: Path) -> subprocess.CompletedProcess:
    """Render into ``dest/site/docs`` and build ``dest/build/site``; returns mkdocs' result."""
    return render_and_build(dest, metrics)[2]


def test_missing_and_partial_metrics_still_build(tmp_path):
    metrics = tmp_path / "metrics"
    (metrics / "resnet18").mkdir(parents=True)
    (metrics / "resnet18" / "benchmark.json").write_text(json.dumps({"top1": 42.5, "cpu": "x"}))
    (metrics / "resnet34").mkdir()
    (metrics / "resnet34" / "benchmark.json").write_text('{"top1": 4')  # half-written
    (tmp_path / "s").mkdir()
    result = build(copy_site(tmp_path / "s"), metrics)
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "s" / "build" / "site"
    page = (out / "classification" / "library" / "index.html").read_text("utf-8")
    assert "42.50" in page and "not run" in page
    assert "未运行" in (out / "zh" / "classification" / "library" / "index.html").read_text("utf-8")
    assert "dvc repro benchmark@resnet34" in (out / "models" / "resnet34" / "index.html").read_text("utf-8")


@pytest.fixture(scope="session")
def site_build(tmp_path_factory):
    """The whole site from this repository's params and metrics, built once (``build/site`` inside)."""
    dest = copy_site(tmp_path_factory.mktemp("site"))
    result = build(dest, ROOT / "metrics")
    assert result.returncode == 0, result.stderr[-2000:]
    return dest / "build" / "site"


def page_numbers(html: str) -> set[float]:
    """Every number in a built page's text."""
    text = re.sub(r"<[^>]+>", " ", html)
    return {float(x) for x in re.findall(r"[-+]?\d+(?:\.\d+)?", text.replace("−", "-"))}


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is absent")
@pytest.mark.xdist_group("site")  # the session's site build, shared with tests/test_site_browser.py
def test_every_published_number_is_on_the_built_pages(registry, site_build):
    from test_seeds import role

    layout = yaml.safe_load((ROOT / "site" / "pages.yaml").read_text("utf-8"))["tasks"]
    page_of = {key: f"{task}/{page}" for task, spec in layout.items() for page, ks in spec["pages"].items()
               for key in ks}
    where = {(registry.sources.pages[t.page].file, t.heading, t.index): key
             for key, t in registry.sources.tables.items()}
    missing, checked = [], 0
    for lang in LANGS:
        prefix = site_build / ("zh" if lang == "zh" else "")
        cache: dict[str, set[float]] = {}
        for path in sorted(SEEDS.glob("*.txt")):
            for table in parse_tables(path):
                key = where[(path.name, table.heading, table.index)]
                page = page_of[key]
                if page not in cache:
                    cache[page] = page_numbers((prefix / page / "index.html").read_text("utf-8"))
                roles = [role(h) for h in table.header]
                for i, row in enumerate(table.rows):
                    values = [v for c, r in zip(row, roles) if r == "value" for v in numbers(c)]
                    # in a method cell only percentages are settings ("sensitive -30%"; "FP32" is a name)
                    values += [float(v) for c, r in zip(row, roles) if r == "method"
                               for v in re.findall(r"(\d+(?:\.\d+)?)\s*%", c)]
                    for x in map(abs, values):
                        checked += 1
                        if (key, i, x) not in EXCEPTIONS and x not in cache[page] and -x not in cache[page]:
                            missing.append(f"{lang} {page} {key} row {i + 1}: {x} [{' | '.join(row)[:80]}]")
    assert checked > 2000
    assert not missing, f"{len(missing)} published numbers not on the pages:\n" + "\n".join(missing[:40])


def test_every_command_on_a_card_names_a_stage_dvc_knows(registry):
    """Cards show `dvc repro <stage>@<entry>` only for entries a dvc.yaml stage serves, and that stage exists."""
    import sys

    from stages.zoo.site import describe

    dvc = Path(sys.executable).parent / "dvc"
    known = set(subprocess.run([str(dvc), "stage", "list", "--name-only"], cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.split())
    stages = describe.entry_stages(ROOT / "dvc.yaml", ROOT / "params" / "zoo")
    for name, entry in registry.entries.items():
        roles = stages.get(name, {})
        for role in ("export", "benchmark"):
            if role in roles:
                assert f"{roles[role]}@{name}" in known, (name, role)
        if entry.task == "classification" or name.startswith(("yolov3_", "ssdlite_")) and entry.base is None:
            assert set(roles) >= {"export", "benchmark"}, name
    assert stages["yolov3_mobilenetv1-coco"]["benchmark"] == "det_benchmark"
    assert stages["ssdlite_mobilenetv3_small-coco"]["train"] == "det_train"
    assert set(stages["faster_rcnn_r18_fpn-coco"]) == {"resolve"}  # declared, no stage builds it yet


def test_a_card_shows_the_latency_sizes_its_entry_was_measured_at(tmp_path):
    """Detectors are timed at 416 and 320 px too; classifiers only at the profile's and paper's size."""
    from stages.zoo.site.measured import load_measured

    keys = {"det": ["profile", "paper", "paper416", "paper320"], "cls": ["profile", "paper"]}
    for entry, sizes in keys.items():
        (tmp_path / entry).mkdir()
        metrics = {f"paddle_fp32_t{n}_{at}_median_ms": 1.0 for at in sizes for n in (1, 2)}
        (tmp_path / entry / "benchmark.json").write_text(json.dumps(metrics), encoding="utf-8")
        assert load_measured(tmp_path, entry).inputs == tuple(sizes)
    assert load_measured(tmp_path, "absent").inputs == ()


def test_a_searched_entrys_card_draws_its_candidates_rewards(tmp_path):
    """search.json's trace becomes a curve (iteration -> reward); a malformed trace draws nothing."""
    from stages.zoo.site import charts
    from stages.zoo.site.measured import load_measured

    (tmp_path / "nas" / "search").mkdir(parents=True)
    trace = [{"iter": i, "tokens": [i], "constraint": 0.6, "reward": r, "rejected": 0} for i, r in enumerate((0.4, 2.5, 1.0))]
    (tmp_path / "nas" / "search" / "search.json").write_text(json.dumps({"trace": trace}), encoding="utf-8")
    curve = load_measured(tmp_path, "nas").curves["search/reward"]
    assert curve == [(0.0, 0.4), (1.0, 2.5), (2.0, 1.0)] and charts.curve(curve)
    (tmp_path / "nas" / "search" / "search.json").write_text(json.dumps({"trace": [{"iter": 0}]}), encoding="utf-8")
    assert "search/reward" not in load_measured(tmp_path, "nas").curves
