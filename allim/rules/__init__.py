"""The shipped alert rules, written from one config file (deploy/prometheus/objectives.yml).

`python -m allim.rules` (`make rules`) writes deploy/prometheus/rules/*.yml, their promtool tests in
deploy/prometheus/tests/, the threshold tables of the README's alert reference (both languages) and the Kubernetes
PrometheusRule; `--check` writes nothing and fails while a committed file is stale. One module per rule file
(hetrixtools, sentry, ga4, host, platform), the shared shapes in slo (burn rates) and seasonal (baselines), and the
promtool cases in allim.rules.cases.
"""
