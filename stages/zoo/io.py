"""Files and folders written so that a killed run leaves the old ones or none, never half of one."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (sorted keys, UTF-8, trailing newline)."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


@contextlib.contextmanager
def staged_dirs(*finals: Path) -> Iterator[list[Path]]:
    """Temporary folders beside ``finals``, moved into their place only if the block succeeds.

    A killed or failed run leaves the old folders (or none), never half-written ones; the
    temporary folders are removed either way, and those a killed run (kill -9) left are removed by
    the next run.
    """
    staging = []
    try:
        for final in finals:
            final.parent.mkdir(parents=True, exist_ok=True)
            for stale in final.parent.glob(f".{final.name}.*"):
                shutil.rmtree(stale, ignore_errors=True)
            staging.append(Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.")))
        yield staging
        for tmp, final in zip(staging, finals):
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
    finally:
        for tmp in staging:
            shutil.rmtree(tmp, ignore_errors=True)
