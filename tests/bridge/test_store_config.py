"""Choosing the store: BRIDGE_DATABASE_URL (or its file, or database_url(_file) in YAML) means the shared PostgreSQL."""

from __future__ import annotations

import pytest

from allim.settings import ConfigError
from bridge.load import config_from_mapping
from bridge.store import database_for

URL = "postgresql://allim:pa55-word@db.internal:5433/alerts?sslmode=require"


def test_store_config_defaults_to_sqlite_in_the_data_dir(tmp_path):
    config = config_from_mapping({}, {"BRIDGE_DATA_DIR": str(tmp_path)})
    database = database_for(config.outbox)
    assert (database.name, database.where) == ("sqlite", {"path": str(tmp_path / "outbox.sqlite3")})
    assert config.outbox.lease == 30


def test_store_config_takes_the_url_from_the_environment_or_files(tmp_path):
    secret = tmp_path / "db_url"
    secret.write_text(URL + "\n")
    for data, env in [
        ({}, {"BRIDGE_DATABASE_URL": URL}),
        ({}, {"BRIDGE_DATABASE_URL_FILE": str(secret)}),
        ({"database_url_file": str(secret)}, {}),
        ({"database_url": URL, "outbox": {"lease": "45s"}}, {}),
    ]:
        config = config_from_mapping(data, env)
        assert config.outbox.database_url.reveal() == URL
        database = database_for(config.outbox)
        assert database.name == "postgresql"
        assert database.where == {"host": "db.internal", "port": "5433", "db": "alerts"}
        assert "pa55-word" in config.secrets()  # scrubbed from every error text
    assert config.outbox.lease == 45


@pytest.mark.parametrize("url", ["mysql://u:p@h/db", "not a url with pa55-word", "postgresql://"])
def test_store_config_rejects_a_bad_url_without_showing_it(url):
    with pytest.raises(ConfigError) as error:
        config_from_mapping({}, {"BRIDGE_DATABASE_URL": url})
    assert "postgresql://user:password@host:5432/db" in str(error.value)
    assert "pa55-word" not in str(error.value)
