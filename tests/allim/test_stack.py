"""allim.stack finds its checkout explicitly and rewrites deploy/'s configs for loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from allim.stack.checkout import CheckoutNotFound, find_checkout
from allim.stack.configs import alertmanager_config, load_yaml, prometheus_config, rules_with_short_for
from tests.support import REPO

ADDRESSES = {
    name: f"127.0.0.1:{port}" for name, port in (("exporter", 1), ("bridge", 2), ("prometheus", 3), ("alertmanager", 4))
}


def test_stack_finds_the_checkout_upward_from_a_subdirectory() -> None:
    assert find_checkout(env={}, start=REPO / "tests" / "allim").root == REPO


def test_stack_checkout_from_repo_or_allim_repo(tmp_path: Path) -> None:
    assert find_checkout(str(REPO), env={}).root == REPO
    assert find_checkout(env={"ALLIM_REPO": str(REPO)}, start=tmp_path).root == REPO
    with pytest.raises(CheckoutNotFound, match="not an allim checkout"):
        find_checkout(env={"ALLIM_REPO": str(tmp_path)})


def test_stack_outside_a_checkout_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(CheckoutNotFound, match="ALLIM_REPO"):
        find_checkout(env={}, start=tmp_path)


def test_stack_prometheus_config_scrapes_loopback_with_the_deploy_rules() -> None:
    checkout = find_checkout(REPO)
    config = prometheus_config(ADDRESSES, source=checkout.prometheus_yml, interval="1s")
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets["allim-exporter"] == ["127.0.0.1:1"] and targets["allim-bridge"] == ["127.0.0.1:2"]
    assert config["global"]["scrape_interval"] == "1s"
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:4"]
    assert {Path(p).name for p in config["rule_files"]} == {p.name for p in checkout.rules_dir.glob("*.yml")}
    assert "labels" not in config["scrape_configs"][0]["static_configs"][0]


def test_stack_prometheus_config_names_this_machine_as_the_exporters_instance() -> None:
    config = prometheus_config(ADDRESSES, source=find_checkout(REPO).prometheus_yml, host_name="ops-1")
    jobs = {job["job_name"]: job["static_configs"][0] for job in config["scrape_configs"]}
    assert jobs["allim-exporter"] == {"targets": ["127.0.0.1:1"], "labels": {"instance": "ops-1"}}
    assert "labels" not in jobs["allim-bridge"]


def test_stack_alertmanager_config_reads_the_token_from_a_file(tmp_path: Path) -> None:
    checkout = find_checkout(REPO)
    config = alertmanager_config("127.0.0.1:2", tmp_path / "token", source=checkout.alertmanager_yml, fast=True)
    hooks = [hook for receiver in config["receivers"] for hook in receiver.get("webhook_configs", [])]
    assert hooks and all(hook["url"].startswith("http://127.0.0.1:2/alertmanager/") for hook in hooks)
    assert all(hook["http_config"]["authorization"]["credentials_file"] == str(tmp_path / "token") for hook in hooks)
    assert config["route"]["group_wait"] == "1s"


def test_stack_rules_with_short_for(tmp_path: Path) -> None:
    written = rules_with_short_for(find_checkout(REPO).rules_dir, tmp_path, "0s")
    fors = [rule["for"] for path in written for g in load_yaml(path)["groups"] for rule in g["rules"] if "for" in rule]
    assert fors and set(fors) == {"0s"}
