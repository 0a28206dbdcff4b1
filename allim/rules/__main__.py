"""`python -m allim.rules` (`make rules`): write the rules and everything that follows from them.

Reads deploy/prometheus/objectives.yml and writes deploy/prometheus/rules/*.yml, their promtool tests in
deploy/prometheus/tests/, the alert tables of README.md and README.ko.md, and deploy/kubernetes/base/generated/.
`--check` writes nothing and exits 1 while a committed file differs from what would be written. A bad objective
exits 2 with one line per problem, each naming its key.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from allim import generated
from allim.kube import GenerateError
from allim.rules.cases import CaseError
from allim.rules.config import OBJECTIVES, ConfigError, load_objectives
from allim.rules.files import OWNED, generated_files
from allim.rules.readme import ReadmeError

ROOT = Path(__file__).resolve().parents[2]
PROG = "python -m allim.rules"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository checkout (default: this one)")
    parser.add_argument("--objectives", type=Path, help=f"the objectives file (default: <root>/{OBJECTIVES})")
    args = parser.parse_args(argv)
    try:
        objectives = load_objectives(args.objectives or args.root / OBJECTIVES)
        files = generated_files(args.root, objectives)
    except (ConfigError, CaseError, ReadmeError, GenerateError, OSError, yaml.YAMLError) as exc:
        print(f"allim.rules: {exc}", file=sys.stderr)
        return 2
    return generated.sync(PROG, "make rules", args.root, files, OWNED, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
