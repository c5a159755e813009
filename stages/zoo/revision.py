"""The repository's git-tracked params and metrics at a revision, or in the working tree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Optional

import yaml


class RevisionError(Exception):
    """A revision or a file in it cannot be read; the message is one line for the user."""


class Tree:
    """Files of ``repo`` at git revision ``rev``; ``rev`` None is the working tree (tracked and
    untracked files that git does not ignore)."""

    def __init__(self, repo: Path, rev: Optional[str]):
        self.repo, self.rev = repo, rev
        self.label = rev or "working tree"
        if rev is not None:
            self.commit = self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}",
                                    error=f"unknown revision '{rev}'").strip()
        else:
            self._git("rev-parse", "--git-dir", error=f"{repo} is not a git repository")
            self.commit = None

    def _git(self, *args: str, error: str) -> str:
        run = subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True)
        if run.returncode != 0:
            raise RevisionError(error)
        return run.stdout.decode("utf-8")

    def files(self, prefix: str) -> list[str]:
        """Paths under ``prefix`` (repository-relative, sorted)."""
        if self.rev is None:
            out = self._git("ls-files", "--cached", "--others", "--exclude-standard", "--", prefix,
                            error=f"cannot list {prefix}")
            return sorted(p for p in out.splitlines() if (self.repo / p).is_file())
        out = self._git("ls-tree", "-r", "--name-only", self.rev, "--", prefix, error=f"cannot list {prefix}")
        return sorted(out.splitlines())

    def read(self, path: str) -> bytes:
        if self.rev is None:
            return (self.repo / path).read_bytes()
        run = subprocess.run(["git", "-C", str(self.repo), "show", f"{self.rev}:{path}"], capture_output=True)
        if run.returncode != 0:
            raise RevisionError(f"{path} at {self.label}: cannot be read")
        return run.stdout

    def json(self, path: str) -> dict[str, Any]:
        try:
            data = json.loads(self.read(path).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise RevisionError(f"{path} at {self.label}: not valid JSON ({err})") from None
        if not isinstance(data, dict):
            raise RevisionError(f"{path} at {self.label}: expected a JSON object")
        return data

    def yaml(self, path: str) -> Any:
        try:
            return yaml.safe_load(self.read(path).decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as err:
            raise RevisionError(f"{path} at {self.label}: not valid YAML ({str(err).splitlines()[0]})") from None

    def copy(self, prefix: str, dest: Path) -> Path:
        """Write the files under ``prefix`` below ``dest``; returns ``dest / prefix``."""
        for path in self.files(prefix):
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read(path))
        return dest / prefix
