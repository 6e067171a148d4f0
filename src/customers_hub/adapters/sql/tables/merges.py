"""Merges of duplicate customers and what undoing them needs (migration 0011)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    String,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    UtcDateTime,
    org_table,
)

# --- merges (migration 0011) ---

customer_merges = org_table(
    "customer_merges",
    # One merge of ``source_ids`` into ``survivor_id`` (rules §10) and what it moved, so an
    # unmerge within 30 days undoes exactly that (adapters/sql/merging.py).
    Column("survivor_id", String(50), nullable=False),
    Column("source_ids", Json, nullable=False),
    # ``{table: {row id: fingerprint}}``: the rows moved and their content after the move.
    Column("moved", Json, nullable=False),
    # ``{stage entry id: [source id, position]}``: where each moved history entry came from.
    Column("history", Json, nullable=False),
    # ``{field: {"source": id, "value": JSON}}``: the survivor's empty fields the merge filled.
    Column("fields", Json, nullable=False),
    Column("property_views", Integer, nullable=False),
    Column("merged_at", UtcDateTime, nullable=False),
    Column("merged_by", String(50), nullable=False),
    Column("unmerged_at", UtcDateTime),
    Column("unmerged_by", String(50)),
    # A survivor's merges, newest first (the default of unmerge): one backward range scan.
    Index("ix_customer_merges_org_survivor_at", "organization_id", "survivor_id", "merged_at"),
)
