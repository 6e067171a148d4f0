"""A customer's relations: property interests, interactions, appointments (and the partial
index of those that hold an employee's time), reminders and documents."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    Money,
    UtcDateTime,
    customer_rows_indexes,
    customer_table,
    partial_index,
    timestamp_columns,
)

property_interests = customer_table(
    "property_interests",
    Column("property_id", String(50), nullable=False),
    Column("property_title", String(500)),
    Column("property_title_en", String(500)),
    Column("property_image", Text),
    Column("property_price", Money),
    Column("property_type", String(50)),
    Column("property_location", String(255)),
    Column("status", String(50), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("viewed_at", UtcDateTime),
    Column("feedback", Text),
    Column("rating", Integer),
    Column("notes", Text),
    UniqueConstraint("customer_id", "property_id"),
    Index("ix_property_interests_org_customer", "organization_id", "customer_id", "added_at", "id"),
    Index("ix_property_interests_org_property", "organization_id", "property_id"),
    Index("ix_property_interests_org_status", "organization_id", "status"),
)

interactions = customer_table(
    "interactions",
    Column("type", String(50), nullable=False),
    Column("direction", String(20)),
    Column("date", UtcDateTime, nullable=False),
    Column("duration", Integer),
    Column("notes", Text, nullable=False),
    Column("outcome", String(500)),
    Column("agent_name", String(255), nullable=False),
    Column("agent_id", String(50), nullable=False),
    Column("sentiment", String(20)),
    Column("follow_up_required", Boolean, nullable=False, server_default=text("false")),
    Column("follow_up_date", UtcDateTime),
    *customer_rows_indexes(
        "ix_interactions_customer_date", "ix_interactions_org_customer_date", "date"
    ),
    Index("ix_interactions_org_agent", "organization_id", "agent_id"),
    Index("ix_interactions_org_type", "organization_id", "type"),
)

appointments = customer_table(
    "appointments",
    Column("title", String(500), nullable=False),
    Column("title_en", String(500)),
    Column("type", String(50), nullable=False),
    Column("date", Date, nullable=False),  # local date in the organization's time zone
    Column("time", Time, nullable=False),  # local time in the organization's time zone
    Column("datetime", UtcDateTime, nullable=False),
    Column("duration", Integer, nullable=False),
    Column("location", String(500)),
    Column("property_id", String(50)),
    Column("property_title", String(500)),
    Column("status", String(50), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("notes", Text),
    Column("agent_name", String(255)),
    Column("agent_id", String(50)),
    Column("reminder_sent", Boolean, nullable=False, server_default=text("false")),
    Column("outcome", Text),
    *timestamp_columns(),
    *customer_rows_indexes(
        "ix_appointments_customer_datetime", "ix_appointments_org_customer_datetime", "datetime"
    ),
    Index("ix_appointments_org_datetime", "organization_id", "datetime"),
    Index("ix_appointments_org_status", "organization_id", "status"),
    # (organization_id, agent_id): see ix_appointments_org_agent_datetime (0014) at the end.
)

reminders = customer_table(
    "reminders",
    Column("title", String(500), nullable=False),
    Column("title_en", String(500)),
    Column("description", Text),
    Column("datetime", UtcDateTime, nullable=False),
    Column("priority", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("type", String(50), nullable=False),
    Column("related_to", String(50)),
    Column("created_by", String(255), nullable=False),
    Column("created_by_id", String(50), nullable=False),
    Column("completed_at", UtcDateTime),
    *customer_rows_indexes(
        "ix_reminders_customer_datetime", "ix_reminders_org_customer_datetime", "datetime"
    ),
    Index("ix_reminders_org_status_datetime", "organization_id", "status", "datetime"),
    Index("ix_reminders_org_created_by", "organization_id", "created_by_id"),
)

documents = customer_table(
    "documents",
    Column("name", String(255), nullable=False),
    Column("type", String(50), nullable=False),
    Column("storage_key", String(255), nullable=False, unique=True),
    Column("file_size", Integer, nullable=False),
    Column("mime_type", String(100), nullable=False),
    Column("uploaded_by", String(255), nullable=False),
    Column("uploaded_by_id", String(50), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Column("description", Text),
    Column("tags", Json, nullable=False),
    *customer_rows_indexes(
        "ix_documents_customer_uploaded", "ix_documents_org_customer_uploaded", "uploaded_at"
    ),
)


# --- appointment conflicts (migration 0014) ---

BLOCKING_APPOINTMENTS = "status IN ('confirmed', 'rescheduled', 'scheduled')"
"""The appointments that hold their employee's time (``domain.appointments.BLOCKING_STATUSES``;
a test keeps the two equal). A query must state it literally to use the index below."""

# An employee's appointments that hold time, by time (rules §10): the overlap check and the
# employee calendar are one range seek of it. Partial: closed appointments (most of them, over
# the years) are never in it. It replaced ix_appointments_org_agent (unused by any query).
partial_index(
    "ix_appointments_org_agent_datetime",
    appointments.c.organization_id,
    appointments.c.agent_id,
    appointments.c.datetime,
    where=BLOCKING_APPOINTMENTS,
)
