"""Check that every dataset the zoo reads in a profile is where params say, in the expected layout.

    python -m stages.check_data [--profile full] [--params params]

Prints one line per dataset directory and split (images, objects, classes), or the loader's
one-line error; exits 1 if any dataset is missing or malformed. Run it before a `full` profile run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.registry import load_or_report


def _describe(dataset: str, path: str) -> tuple[bool, list[str]]:
    from stages.zoo.datasets import DatasetError, load

    lines, ok = [], True
    for split in ("train", "val"):
        try:
            ds = load(dataset, path, split)
        except DatasetError as err:
            lines.append(f"{dataset} {split}: error: {err}")
            ok = False
            continue
        objects = sum(len(getattr(s, "labels", ())) for s in ds.samples)
        extra = f", {objects} objects" if objects else ""
        lines.append(f"{dataset} {split}: {len(ds.samples)} images{extra}, {len(ds.classes)} classes ({path})")
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    """Load every (dataset, directory) pair the profile's entries use.

    Returns:
        0 when all load, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("tiny", "full"), help="default: params/profile.yaml")
    parser.add_argument("--params", type=Path, default=Path("params"), help="params directory")
    args = parser.parse_args(argv)
    runtime.setup()
    registry = load_or_report(args.params)
    if registry is None:
        return 1
    profile = args.profile or registry.choice.profile
    used = sorted({(e.dataset, registry.defaults[e.task].profiles[profile].data[e.dataset])
                   for e in registry.entries.values()})
    status = 0
    for dataset, path in used:
        ok, lines = _describe(dataset, path)
        print("\n".join(lines))
        status |= not ok
    return status


if __name__ == "__main__":
    sys.exit(main())
