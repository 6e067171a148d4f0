"""A new SQLite connection puts the file in WAL mode even while another connection holds it.

Several workers of ``customers-hub serve`` open one SQLite file together. SQLite may answer the
journal-mode change with "database is locked" at once instead of waiting; a worker whose first
connection failed so could not start (uvicorn then stopped the whole service). The engine's
connection setup retries it within the busy timeout. Real SQLite files, no server.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from customers_hub.adapters.sql import engine

HELD_SECONDS = 0.4
"""How long the other connection keeps the file locked."""


def _hold_exclusive(path: Path, locked: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    locked.set()
    time.sleep(HELD_SECONDS)
    other.execute("COMMIT")
    other.close()


def test_the_wal_switch_waits_for_another_connections_lock(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()  # rollback journal
    locked = threading.Event()
    holder = threading.Thread(target=_hold_exclusive, args=(path, locked))
    holder.start()
    assert locked.wait(5)
    # No busy handler worth the name: without the retry the switch fails at once.
    connection = sqlite3.connect(path, timeout=0.01)
    try:
        engine._sqlite_pragmas(connection, None)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    finally:
        connection.close()
        holder.join()


def test_another_error_of_the_switch_is_not_retried(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "hub.db")
    connection.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        engine._sqlite_pragmas(connection, None)
