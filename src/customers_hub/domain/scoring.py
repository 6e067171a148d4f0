"""PLACEHOLDER — being replaced by the lead-scoring module (rules §3)."""

from __future__ import annotations

from datetime import datetime

from customers_hub.domain.model import Customer


def refresh_score(customer: Customer, now: datetime) -> Customer:
    """Return ``customer`` with ``lead_score`` and ``ai_insights`` recomputed as of ``now``."""
    return customer
