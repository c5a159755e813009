"""Provenance fields: a commit that is dirty only for changed code or params, and the CPU's flags."""

from __future__ import annotations

import subprocess
from pathlib import Path

from stages.zoo import provenance


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


def test_commit_is_dirty_for_code_not_for_what_dvc_repro_writes(tmp_path, monkeypatch):
    for path in ("dvc.lock", "metrics/a/benchmark.json", "site/docs/en/index.md", "stages/train.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("0\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "start")
    monkeypatch.chdir(tmp_path)
    for path in ("dvc.lock", "metrics/a/benchmark.json", "site/docs/en/index.md"):
        (tmp_path / path).write_text("1\n")  # what a running `dvc repro` rewrites
    assert not provenance.provenance(1)["commit"].endswith("+dirty")
    (tmp_path / "stages/train.py").write_text("1\n")
    assert provenance.provenance(1)["commit"].endswith("+dirty")


def test_cpu_flags_name_the_vector_instructions_only():
    assert provenance._cpu_flags({"flags": "fpu sse2 avx2 avx512f avx512_vnni"}) == "avx2 avx512f avx512_vnni"
    assert provenance._cpu_flags({"flags": "fpu sse2"}) == ""
    assert provenance._cpu_flags({}) == "unknown"
