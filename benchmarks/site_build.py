"""Time of the site: the render stage and `mkdocs build --strict`, for the whole zoo.

    python -m benchmarks.site_build [--out benchmarks/results/site_build.json]

Renders this repository's params and metrics into a temporary copy of the site sources and builds
it, three times; writes the median seconds of each step and the page counts. Target: render and
build together under 30 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stages import render
from stages.zoo.io import write_json

ROOT = Path(__file__).resolve().parents[1]


def copy_site(dest: Path) -> Path:
    """``mkdocs.yml`` and the site sources (without rendered pages) in ``dest``; returns ``dest``."""
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(ROOT / "site", dest / "site", ignore=shutil.ignore_patterns("docs", "__pycache__"))
    return dest


def render_and_build(work: Path, metrics: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """Render this repository's params and ``metrics`` into ``work/site/docs``, then build
    ``work/build/site``; returns the seconds of each step and mkdocs' result."""
    shutil.rmtree(work / "site" / "docs", ignore_errors=True)
    t0 = time.perf_counter()
    args = ["--params", str(ROOT / "params"), "--metrics", str(metrics), "--site", str(work / "site"),
            "--lock", str(ROOT / "dvc.lock"), "--out", str(work / "site" / "docs")]
    if render.main(args) != 0:
        raise RuntimeError("render failed")
    t1 = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                             str(work / "mkdocs.yml")], capture_output=True, text=True, cwd=work)
    return t1 - t0, time.perf_counter() - t1, result


def once(work: Path) -> tuple[float, float]:
    """One render + build in ``work``; returns their seconds."""
    render_s, build_s, result = render_and_build(work, ROOT / "metrics")
    if result.returncode != 0:
        raise SystemExit(f"mkdocs build failed: {result.stderr.strip().splitlines()[-1:]}")
    return render_s, build_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "site_build.json")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = copy_site(Path(tmp))
        times = [once(work) for _ in range(args.repeat)]
        pages = len(list((work / "site" / "docs").rglob("*.md")))
        html = len(list((work / "build" / "site").rglob("*.html")))
    figures = {"render_s": statistics.median(t[0] for t in times), "build_s": statistics.median(t[1] for t in times),
               "total_s": statistics.median(sum(t) for t in times), "markdown_pages": pages, "html_pages": html,
               "runs": args.repeat}
    write_json(args.out, figures)
    print(", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
