"""allim-backtest: what would these rules have done? Replays history through alerting rules in a real Prometheus.

The history (an OpenMetrics or CSV file, or the raw samples of a running Prometheus) becomes a temporary TSDB with
`promtool tsdb create-blocks-from openmetrics`; recording rules are materialised level by level (a rule that reads
another's output waits for it); each alerting rule's expression is evaluated over the range at the rule's interval,
and Prometheus' alert state machine (rules/alerting.go) turns the results into alerts with a start and an end.
With labelled incidents it scores each alert family; with `--report` it draws every series.

- cli.py: the flags; run.py: the pipeline; errors.py: bad input (exit 2).
- durations.py, selectors.py, promql.py: Prometheus' durations, series selectors, and which metrics a rule reads.
- rules.py: rule files (checked by promtool) and the recording levels.
- history.py + openmetrics.py, csvfile.py, export.py: the history and its three readers.
- tsdb.py: the temporary TSDB and its Prometheus; recording.py: materialised recording rules;
  statemachine.py: Prometheus' alert states; alerts.py: alerting rules evaluated over the range.
- incidents.py, scoring.py: labelled windows and the scores; output.py: the table and the JSON;
  plots.py: the pictures and index.html; progress.py: progress lines on stderr.
"""
