"""Bad input: the command prints the one-line message and exits 2."""

from __future__ import annotations


class InputError(Exception):
    """Something the user gave us is wrong (a file, a flag, a rule); the message names what and where."""


class BacktestError(Exception):
    """The backtest itself failed (Prometheus died, a query failed): exit 1 with the message."""
