"""Where the outbox keeps its rows: one interface, two databases (embedded SQLite, shared PostgreSQL).

The outbox logic (bridge/outbox.py) is written once against `Database` (bridge/store/base.py): transactions of
plain SQL with `%s` placeholders. Each backend module holds only what differs: connecting, its schema and
migrations, the few dialect words (row locks, GREATEST), and how other replicas are told about new rows.
"""

from __future__ import annotations

from bridge.config import OutboxConfig
from bridge.store.base import Database, StoreError, Tx, in_list

__all__ = ["Database", "StoreError", "Tx", "database_for", "in_list"]


def database_for(config: OutboxConfig) -> Database:
    """PostgreSQL when a database URL is configured, else the SQLite file; StoreError when the driver is missing."""
    if config.database_url is None:
        from bridge.store.sqlite import SqliteDatabase

        return SqliteDatabase(config.path, busy_timeout=config.busy_timeout)
    try:
        from bridge.store.postgres import PostgresDatabase
    except ImportError:
        raise StoreError(
            "BRIDGE_DATABASE_URL is set but the PostgreSQL driver is not installed: pip install 'allim[postgres]'"
        ) from None
    return PostgresDatabase(config.database_url.reveal(), timeout=config.busy_timeout)
