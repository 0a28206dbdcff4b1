"""`python -m allim.backtest`: the same as the `allim-backtest` console script."""

from __future__ import annotations

import sys

from allim.backtest.cli import main

if __name__ == "__main__":
    sys.exit(main())
