"""Check every params file; print one line per problem, exit non-zero, write nothing.

    python -m stages.validate [--params params]

It is also the first stage of the pipeline (``dvc repro validate``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.embedded.params import load_data_or_report
from stages.zoo.registry import load_or_report


def main(argv: list[str] | None = None) -> int:
    """Validate the registry under ``--params``.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        0 when the params are valid, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params"), help="params directory")
    args = parser.parse_args(argv)
    runtime.setup()
    registry = load_or_report(args.params)
    data = load_data_or_report(args.params / "data.yaml")
    if registry is None or data is None:
        return 1
    by_task: dict[str, int] = {}
    for entry in registry.entries.values():
        by_task[entry.task] = by_task.get(entry.task, 0) + 1
    summary = ", ".join(f"{n} {task}" for task, n in by_task.items())
    print(f"ok: {len(registry.entries)} entries ({summary}); profile {registry.choice.profile}; "
          f"{len(data.datasets)} embedded datasets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
