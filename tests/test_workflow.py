"""The pull-request workflow is valid and runs only the README's commands."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "review.yml"
ACTIVATE = "source .venv/bin/activate && "


def readme_commands() -> set[str]:
    """Command lines of the README's bash blocks, comments dropped."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S)
    return {line.split("  #")[0].strip() for block in blocks for line in block.splitlines() if line.strip()}


def test_workflow_is_a_valid_pull_request_job():
    flow = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    assert "pull_request" in flow[True]  # YAML 1.1 reads the key `on` as true
    assert flow["permissions"]["pull-requests"] == "write"
    (job,) = flow["jobs"].values()
    steps = job["steps"]
    assert all(("uses" in s) != ("run" in s) for s in steps), "each step either uses an action or runs"
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    caches = [s["with"] for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert any("requirements.lock" in c["key"] and c["path"] == ".venv" for c in caches)
    assert any(c["path"] == ".dvc/cache" for c in caches)
    script = next(s["with"]["script"] for s in steps if s.get("uses", "").startswith("actions/github-script"))
    assert "updateComment" in script and "createComment" in script and "build/review.md" in script
    upload = next(s["with"] for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["path"] == "build/site"


def test_workflow_runs_only_readme_commands():
    flow = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    runs = [s["run"] for job in flow["jobs"].values() for s in job["steps"] if "run" in s]
    allowed = readme_commands()
    assert "make zoo" in runs and "make zoo" in allowed
    for run in runs:
        command = run.removeprefix(ACTIVATE).replace('"$BASE"', "origin/main")
        assert command in allowed, f"workflow runs {run!r}, which the README does not give"
    assert any("--fail-on-regression" in r for r in runs)
