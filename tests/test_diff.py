"""The review command (python -m stages.diff) on a temporary git repository with two commits.

The first commit holds this repository's params and small metrics for two entries; the second
changes a pruning target (params), makes that entry's Top-1 drop by 3 points (a regression), slows
nothing beyond noise, and adds an entry. The report's content and the gate's exit codes are checked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stages import diff

ROOT = Path(__file__).resolve().parents[1]
PRUNED = "mobilenetv1-prune_uniform50"
NEW = "mobilenetv1-prune_uniform30"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def metrics(repo: Path, entry: str, **values) -> None:
    figures = {"top1": 60.0, "top5": 90.0, "size_mb": 10.0, "paddle_fp32_t1_paper_median_ms": 10.0,
               "paddle_fp32_t1_paper_std_ms": 0.2, "paddle_fp32_t1_paper_runs": 30, "commit": "x", **values}
    path = repo / "metrics" / entry / "benchmark.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures))


@pytest.fixture()
def repo(tmp_path):
    shutil.copytree(ROOT / "params", tmp_path / "params")
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@t")
    git(tmp_path, "config", "user.name", "t")
    metrics(tmp_path, "mobilenetv1")
    metrics(tmp_path, PRUNED, top1=55.0, size_mb=5.0, paddle_fp32_t1_paper_median_ms=6.0)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    zoo = tmp_path / "params" / "zoo" / "classification.yaml"
    text = zoo.read_text("utf-8")
    old = f"""    {PRUNED}:
      task: classification
      dataset: imagenet
      title: MobileNetV1 uniform -50%
      arch: {{name: MobileNetV1, input: 224, classes: 1000}}
      base: mobilenetv1
      method: {{prune: {{strategy: uniform, target_flops_reduction: 0.5}}}}
"""
    assert old in text
    new = old.replace("0.5}", "0.4}") + "\n" + old.replace(PRUNED, NEW).replace("-50%", "-30%").replace("0.5}", "0.3}")
    zoo.write_text(text.replace(old, new), "utf-8")
    # a latency change inside the noise (3 sigma of 0.2 and 0.5 ms) is not a regression
    metrics(tmp_path, PRUNED, top1=52.0, size_mb=5.0, paddle_fp32_t1_paper_median_ms=7.2,
            paddle_fp32_t1_paper_std_ms=0.5)
    metrics(tmp_path, NEW, top1=58.0)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "head")
    return tmp_path


def run(repo: Path, *args: str, capsys) -> tuple[int, str, str]:
    code = diff.main(["--repo", str(repo), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_report_shows_params_change_regression_and_new_entry(repo, capsys):
    code, out, _ = run(repo, "HEAD~1", "HEAD", capsys=capsys)
    assert code == 0  # no gate asked for
    section = out.split(f"### `{PRUNED}`")[1].split("###")[0]
    assert "`method.prune.target_flops_reduction` | 0.5 | 0.4 |" in section
    assert "| `top1` | 55 | 52 | -3 | -5.455 | ❌ regression |" in section
    assert "| `paddle_fp32_t1_paper_median_ms` | 6 | 7.2 | +1.2 | +20 | within tolerance |" in section
    assert "runs" not in section  # ignored keys (params/review.yaml)
    assert f"### `{NEW}` (added)" in out and "| `top1` | — | 58 |" in out
    assert "**1 regression(s)**" in out and "1 added" in out
    assert out.index("## classification") < out.index(f"### `{PRUNED}`")


def test_gate_exit_codes(repo, capsys):
    assert run(repo, "HEAD~1", "HEAD", "--fail-on-regression", capsys=capsys)[0] == 1
    assert run(repo, "HEAD", "HEAD", "--fail-on-regression", capsys=capsys)[0] == 0
    code, out, _ = run(repo, "HEAD", "--fail-on-regression", capsys=capsys)  # the working tree, unchanged
    assert code == 0 and "No params or metrics changed." in out


def test_expected_gap_is_checked(repo, capsys):
    review = repo / "params" / "review.yaml"
    data = yaml.safe_load(review.read_text("utf-8"))
    data["expected_gap"] = {PRUNED: {"size_mb": 4.0}}  # published 9 MB, so 5 MB measured is expected
    review.write_text(yaml.safe_dump(data), "utf-8")
    same = dict(top1=52.0, size_mb=5.0, paddle_fp32_t1_paper_median_ms=7.2, paddle_fp32_t1_paper_std_ms=0.5)
    metrics(repo, PRUNED, paper_size_mb=5.0, **same)
    code, out, _ = run(repo, "HEAD", "--fail-on-regression", capsys=capsys)
    assert code == 0 and f"| `{PRUNED}` | size_mb | 9 | 5 | 4 | 4 | within tolerance |" in out
    metrics(repo, PRUNED, paper_size_mb=6.0, **same)
    code, out, _ = run(repo, "HEAD", "--fail-on-regression", capsys=capsys)
    assert code == 1 and f"| `{PRUNED}` | size_mb | 9 | 6 | 3 | 4 | ❌ regression |" in out


@pytest.mark.parametrize("setup, message", [
    (None, "stages.diff: unknown revision 'nope'"),
    ("corrupt", f"stages.diff: metrics/{PRUNED}/benchmark.json at working tree: not valid JSON"),
])
def test_bad_input_is_one_line(repo, capsys, setup, message):
    if setup == "corrupt":
        (repo / "metrics" / PRUNED / "benchmark.json").write_text('{"top1": 5')
    code, out, err = run(repo, "nope" if setup is None else "HEAD", capsys=capsys)
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1
