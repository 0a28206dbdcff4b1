"""The corpus, built once per session (seconds of pure Python), for the tests that read its series."""

from __future__ import annotations

import pytest

from tests.corpus import generate
from tests.corpus.reading import Corpus


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return Corpus(generate.build())
