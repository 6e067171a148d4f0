"""Import jobs and their per-row report (issue 12).

- ``import_jobs``: one customer import — its file (kept in the document storage until the job
  ends), mapping and options, status and counters, ``next_row`` (where a resumed job starts)
  and the runner's lease (``lease_owner``, ``lease_expires_at``: its heartbeat).
- ``import_errors``: the report — each failing or skipped row's fields and messages, keyed by
  ``(job_id, row_number, seq)`` (its primary key is the report's order).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``import_jobs`` and ``import_errors``."""
    op.create_table(
        "import_jobs",
        ddl.id_column(),
        ddl.org_column(),
        ddl.id_column("created_by_id"),
        sa.Column("created_by_name", sa.String(length=255), nullable=False),
        sa.Column("created_by_role", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("file_key", sa.String(length=100), nullable=False),
        sa.Column("headers", ddl.JSON, nullable=False),
        sa.Column("mapping", ddl.JSON, nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("on_duplicate", sa.String(length=10), nullable=False),
        sa.Column("create_actions", sa.Boolean(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("next_row", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", ddl.UTC, nullable=True),
        sa.Column("created_at", ddl.UTC, nullable=False),
        sa.Column("started_at", ddl.UTC, nullable=True),
        sa.Column("finished_at", ddl.UTC, nullable=True),
        ddl.primary_key("import_jobs"),
    )
    op.create_index("ix_import_jobs_status_created", "import_jobs", ["status", "created_at"])
    op.create_index(
        "ix_import_jobs_org_created", "import_jobs", ["organization_id", "created_at", "id"]
    )
    op.create_table(
        "import_errors",
        ddl.id_column("job_id"),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        ddl.org_column(),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        ddl.cascade_fk("import_errors", "job_id", "import_jobs"),
        ddl.primary_key("import_errors", "job_id", "row_number", "seq"),
    )


def downgrade() -> None:
    """Drop ``import_errors`` and ``import_jobs``."""
    op.drop_table("import_errors")
    op.drop_index("ix_import_jobs_org_created", table_name="import_jobs")
    op.drop_index("ix_import_jobs_status_created", table_name="import_jobs")
    op.drop_table("import_jobs")
