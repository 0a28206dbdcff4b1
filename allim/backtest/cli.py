"""`allim-backtest`: the flags, and exit codes 0 (done), 1 (the backtest failed), 2 (bad input), 130 (interrupted)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from allim import __version__
from allim.backtest.durations import parse_duration, parse_time
from allim.backtest.errors import BacktestError, InputError
from allim.backtest.output import print_tables, result_json
from allim.backtest.progress import Timings, progress_printer
from allim.backtest.run import Options, run

PROG = "allim-backtest"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, exit 2 (argparse would print the whole usage first)."""
        self.exit(2, f"{PROG}: {message} (see {PROG} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Replay history through Prometheus rules in a real Prometheus and list the alerts they would have"
        " fired; score them against labelled incidents.",
    )
    parser.add_argument("--rules", nargs="+", required=True, metavar="PATH", help="rule files or folders of them")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--history", type=Path, metavar="FILE", help="OpenMetrics (.om, .txt) or CSV (.csv) history")
    source.add_argument("--prometheus-url", metavar="URL", help="export the history from this Prometheus")
    parser.add_argument("--since", metavar="DURATION", help="with --prometheus-url: how far back (like 7d)")
    parser.add_argument(
        "--until", metavar="TIME", default="now", help="with --prometheus-url: RFC 3339, Unix seconds or now"
    )
    parser.add_argument("--incidents", type=Path, metavar="FILE", help="labelled incident windows (YAML or JSON)")
    parser.add_argument("--baseline", nargs="+", metavar="PATH", help="other rules to compare, same history")
    parser.add_argument("--eval-interval", default="1m", metavar="DURATION", help="for groups without their own (1m)")
    parser.add_argument("--report", type=Path, metavar="DIR", help="write a picture per series and index.html here")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument(
        "--tolerance", default="10m", metavar="DURATION", help="an alert this early still catches an incident (10m)"
    )
    parser.add_argument(
        "--grace",
        default="1h",
        metavar="DURATION",
        help="alerts starting this long after an incident are not false (1h)",
    )
    parser.add_argument(
        "--lookback-delta", default="auto", metavar="DURATION", help="the backtest Prometheus' lookback (auto)"
    )
    parser.add_argument("--prometheus-binary", metavar="PATH", help="default: prometheus on PATH")
    parser.add_argument("--promtool-binary", metavar="PATH", help="default: promtool on PATH")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def options_from(args: argparse.Namespace, now: float) -> Options:
    if args.prometheus_url and not args.since:
        raise InputError("--since is required with --prometheus-url (like --since 7d)")
    if args.history and (args.since or args.until != "now"):
        raise InputError("--since and --until go with --prometheus-url; a --history file has its own range")
    eval_interval = parse_duration(args.eval_interval, "--eval-interval")
    if eval_interval <= 0:
        raise InputError("--eval-interval: must be more than 0")
    since = parse_duration(args.since, "--since") if args.since else None
    if since is not None and since <= 0:
        raise InputError("--since: must be more than 0")
    return Options(
        rules=args.rules,
        history=args.history,
        prometheus_url=args.prometheus_url,
        since_ms=since,
        until_ms=parse_time(args.until, "--until", now) if args.prometheus_url else None,
        incidents=args.incidents,
        baseline=args.baseline,
        eval_interval_ms=eval_interval,
        tolerance_ms=parse_duration(args.tolerance, "--tolerance"),
        grace_ms=parse_duration(args.grace, "--grace"),
        lookback_ms=None
        if args.lookback_delta == "auto"
        else parse_duration(args.lookback_delta, "--lookback-delta") or None,
        prometheus_binary=args.prometheus_binary,
        promtool_binary=args.promtool_binary,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up as Ctrl-C does
    progress = progress_printer(args.quiet)
    try:
        options = options_from(args, time.time())
        if args.report:
            from allim.backtest.plots import require_matplotlib, write_report

            require_matplotlib()
        timings = Timings()
        result = run(options, progress, timings)
        if args.report:
            with timings.measure("report"):
                progress(f"drawing the report in {args.report}")
                write_report(result, args.report)
        if args.json:
            json.dump(result_json(result), sys.stdout, indent=1)
            print()
        else:
            print_tables(result, sys.stdout)
        return 0
    except InputError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except BacktestError as error:
        print(f"{PROG}: failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; its Prometheus is stopped and its temp dirs are removed", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
