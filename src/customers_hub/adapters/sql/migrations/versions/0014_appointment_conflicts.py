"""Appointment conflicts and employee calendars (issue 12, rules §10): an employee's
appointments by time.

- ``ix_appointments_org_agent_datetime`` ``(organization_id, agent_id, datetime) WHERE status IN
  ('confirmed', 'rescheduled', 'scheduled')``: the overlap check of a booking and the employee
  calendar read one range of it (``agent_id = ? AND datetime > start - 24 h AND datetime <
  end``). Partial: only the appointments that hold their employee's time, so the years of
  completed and cancelled ones never weigh on it.
- ``ix_appointments_org_agent`` ``(organization_id, agent_id)`` is dropped: no query reads
  appointments by employee without a time, and each appointment write maintains one index
  fewer.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BLOCKING = "status IN ('confirmed', 'rescheduled', 'scheduled')"


def upgrade() -> None:
    """Create the (organization, employee, time) index; drop the one it makes redundant."""
    op.create_index(
        "ix_appointments_org_agent_datetime",
        "appointments",
        ["organization_id", "agent_id", "datetime"],
        unique=False,
        sqlite_where=sa.text(_BLOCKING),
        postgresql_where=sa.text(_BLOCKING),
    )
    op.drop_index("ix_appointments_org_agent", table_name="appointments")


def downgrade() -> None:
    """Restore the (organization, employee) index; drop the (…, time) one."""
    op.create_index(
        "ix_appointments_org_agent", "appointments", ["organization_id", "agent_id"], unique=False
    )
    op.drop_index("ix_appointments_org_agent_datetime", table_name="appointments")
