"""Development tooling: the whole pipeline on one machine without Docker (`make run`), and the deploy configs
rewritten for loopback (also used by the end-to-end test). Not part of the services.

- checkout.py: finds the allim checkout (its `deploy/`) explicitly: `--repo`, `ALLIM_REPO`, or upward from the
  working directory. An installed package owns no `deploy/`.
- configs.py: deploy's prometheus.yml, alertmanager.yml and rules rewritten for loopback addresses and test speed.
- supervise.py: starts exporter, bridge, Prometheus and Alertmanager, waits for them, stops them together.
- __main__.py: `python -m allim.stack` (what scripts/run.sh runs).
"""
