"""Customer import jobs and their per-row report (issue 12)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    UtcDateTime,
    metadata,
    org_column,
    org_table,
    parent_column,
)

# --- imports (issue 12: customer import jobs and their per-row report) ------------------------

import_jobs = org_table(
    "import_jobs",
    Column("created_by_id", String(50), nullable=False),
    Column("created_by_name", String(255), nullable=False),
    Column("created_by_role", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # queued | running | completed | failed
    Column("file_name", String(255), nullable=False),
    Column("file_format", String(10), nullable=False),
    Column("file_key", String(100), nullable=False),  # the upload in the document storage
    Column("headers", Json, nullable=False),
    Column("mapping", Json, nullable=False),  # {"<column index>": "<field key>"}
    Column("dry_run", Boolean, nullable=False),
    Column("on_duplicate", String(10), nullable=False),
    Column("create_actions", Boolean, nullable=False),
    Column("total_rows", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    # First data row (0-based) not committed yet: where a resumed job starts.
    Column("next_row", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", String(500)),
    # The runner's heartbeat: a running job whose lease expired lost its runner.
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    # Jobs to run or take over: a range scan of the unfinished ones, oldest first.
    Index("ix_import_jobs_status_created", "status", "created_at"),
    Index("ix_import_jobs_org_created", "organization_id", "created_at", "id"),
)

import_errors = Table(
    "import_errors",
    metadata,
    parent_column("job_id", "import_jobs", primary_key=True),
    Column("row_number", Integer, primary_key=True),
    Column("seq", SmallInteger, primary_key=True),  # the row's errors in order
    org_column(),
    Column("field", String(100), nullable=False),
    Column("message", String(500), nullable=False),
)
