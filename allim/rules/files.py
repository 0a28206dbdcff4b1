"""Every file `make rules` writes, from the objectives: rule files, promtool tests, README tables, kube manifests."""

from __future__ import annotations

from pathlib import Path

from allim import kube
from allim.rules import ga4, hetrixtools, host, platform, readme, sentry
from allim.rules.cases import PromtoolFile, render_test_file
from allim.rules.cases import ga4 as ga4_cases
from allim.rules.cases import hetrixtools as hetrixtools_cases
from allim.rules.cases import host as host_cases
from allim.rules.cases import platform as platform_cases
from allim.rules.cases import sentry as sentry_cases
from allim.rules.config import Objectives
from allim.rules.model import RuleFile, render_rule_file

RULES = Path("deploy/prometheus/rules")
RULE_TESTS = Path("deploy/prometheus/tests")
# The folders whose files the generator writes, all of them: one it no longer writes is removed.
OWNED = ((RULES, "*.yml"), (RULE_TESTS, "*.test.yml"), *kube.OWNED)


def rule_files(objectives: Objectives) -> list[RuleFile]:
    """The rule files in the order a reader meets them in the README."""
    return [
        sentry.rule_file(objectives.sentry, objectives.baseline),
        hetrixtools.rule_file(objectives.hetrixtools),
        ga4.rule_file(objectives.ga4, objectives.baseline),
        host.rule_file(objectives.host),
        platform.rule_file(objectives.platform),
    ]


def promtool_files(objectives: Objectives) -> list[PromtoolFile]:
    return [
        *sentry_cases.promtool_files(objectives),
        *hetrixtools_cases.promtool_files(objectives.hetrixtools),
        *ga4_cases.promtool_files(objectives),
        *host_cases.promtool_files(objectives.host),
        *platform_cases.promtool_files(objectives.platform),
    ]


def generated_files(root: Path, objectives: Objectives) -> dict[Path, str]:
    """Every generated file (relative to `root`) and its content. The Kubernetes manifests are built from the rule
    files this run writes, not from the ones on disk."""
    files = rule_files(objectives)
    out = {RULES / f"{rule_file.stem}.yml": render_rule_file(rule_file) for rule_file in files}
    out.update({RULE_TESTS / test.name: render_test_file(test) for test in promtool_files(objectives)})
    out.update(readme.readme_texts(root, files))
    out.update(
        kube.generated_files(root, rules={path.name: text for path, text in out.items() if path.parent == RULES})
    )
    return out
