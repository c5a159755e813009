"""Stage `data@<name>`: build one embedded dataset from scikit-learn's digits, in its real format.

    python -m stages.data NAME --out data/NAME [--params params/data.yaml]

The settings are ``datasets.NAME`` of params/data.yaml. The dataset is written into a temporary
folder beside ``--out`` and moved into place at the end, so a killed run leaves no half-built data.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import staged_dirs


def _progress(items, total: int, desc: str):
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="img", leave=False, mininterval=1.0)


def _summary(name: str, fmt: str, records: dict, seconds: float) -> str:
    """One line per split: images, objects and the class balance."""
    lines = [f"{name} ({fmt}) in {seconds:.1f} s"]
    for split, recs in records.items():
        labels = Counter()
        objects = 0
        for r in recs:
            got = getattr(r, "labels", None)
            if got is None and hasattr(r, "label") and isinstance(r.label, int):
                got = (r.label,)
            labels.update(got or ())
            objects += len(got or ())
        balance = f", {objects} objects, per class {min(labels.values())}..{max(labels.values())}" if labels else ""
        lines.append(f"  {split}: {len(recs)} images{balance}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the dataset ``NAME`` into ``--out``.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        0 on success, 1 when the params are invalid or name no such dataset.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="embedded dataset (a key of datasets: in the params file)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (replaced)")
    parser.add_argument("--params", type=Path, default=Path("params/data.yaml"), help="data params file")
    args = parser.parse_args(argv)
    runtime.setup()
    from stages.zoo.embedded.build import BUILDERS
    from stages.zoo.embedded.draw import Pools
    from stages.zoo.embedded.params import load_data_or_report

    params = load_data_or_report(args.params)
    if params is None:
        return 1
    if args.name not in params.datasets:
        print(f"{args.params}: entry '{args.name}': key 'datasets.{args.name}': not declared", file=sys.stderr)
        return 1
    synth = params.datasets[args.name]
    start = time.perf_counter()
    with staged_dirs(args.out) as (tmp,):
        pools = Pools.load(params.seed, params.holdout)
        records = BUILDERS[synth.format](tmp, args.name, synth, pools, params.seed, _progress)
    print(_summary(args.name, synth.format, records, time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
