"""Finds English sentences in text meant for a Korean reader.

Names are not sentences: URLs, product names, alert names (CamelCase), the `[CRITICAL]`/`[RESOLVED]` tags, and the
label keys and values the caller passes (monitor `shop`, project `api`, `job=allim-exporter`) are masked first.
What is left is English when two or more Latin-script words follow each other ("is down", "Disk almost full",
"HetrixTools reports ... as offline"). A lone word (`Alerts`, a unit such as `s` in `12m 30s`) is not a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PRODUCT_NAMES = ("allim", "Sentry", "HetrixTools", "GA4", "Prometheus", "Alertmanager", "Grafana", "Discord", "KST")
_URL = re.compile(r"https?://[^\s)<>\"]+")
_TAG = re.compile(r"\[(?:CRITICAL|HIGH|WARNING|INFO|RESOLVED)\]")
_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+\b")
_PRODUCTS = re.compile(r"\b(?:" + "|".join(PRODUCT_NAMES) + r")\b")
# Two or more words of Latin letters separated only by blanks: the shape of an English phrase.
_SENTENCE = re.compile(r"\b[A-Za-z][A-Za-z'’]+(?:[ \t]+[A-Za-z][A-Za-z'’]*\b)+")


def _masked(text: str, names: Iterable[str]) -> str:
    text = _URL.sub(" ", text)
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", " ", text)
    for pattern in (_TAG, _CAMEL, _PRODUCTS):
        text = pattern.sub(" ", text)
    return text


def english_sentences(text: str, names: Iterable[str] = ()) -> list[str]:
    """The English phrases left in `text` once URLs, product and alert names and `names` are masked."""
    return [match.strip() for match in _SENTENCE.findall(_masked(text, names))]


def has_hangul(text: str) -> bool:
    return re.search(r"[\uac00-\ud7a3]", text) is not None
