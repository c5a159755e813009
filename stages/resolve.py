"""Stage `resolve@<entry>`: write the entry's resolved config for the selected profile.

    python -m stages.resolve ENTRY --out models/ENTRY/config.json [--params params]

Every later stage of the entry reads this file, so a change to the entry, its family defaults or
the profile re-runs exactly that entry's chain. The file is written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stages.zoo import runtime
from stages.zoo.io import write_json
from stages.zoo.registry import load_or_report
from stages.zoo.resolve import resolve


def main(argv: list[str] | None = None) -> int:
    """Resolve one entry and write its config.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        0 on success, 1 when the params are invalid or the entry is unknown.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entry", help="zoo entry name (the params key)")
    parser.add_argument("--out", type=Path, required=True, help="resolved config JSON to write")
    parser.add_argument("--params", type=Path, default=Path("params"), help="params directory")
    args = parser.parse_args(argv)
    runtime.setup()
    registry = load_or_report(args.params)
    if registry is None:
        return 1
    if args.entry not in registry.entries:
        print(f"{args.params}/zoo: entry '{args.entry}': not declared", file=sys.stderr)
        return 1
    write_json(args.out, resolve(registry, args.entry))
    print(f"resolved {args.entry} ({registry.choice.profile}) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
