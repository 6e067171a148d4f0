"""The port of customer merges (issue 12, rules §10): the set-based moves of a merge and an
unmerge, the counters of moved rows, and the merge records. Every method works inside the
caller's unit of work (its transaction), so a merge is all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from customers_hub.application.ports import UnitOfWork
from customers_hub.domain.merging import MergeRecord, RelationCounters, UnmergeConflictItem

__all__ = ["MergeStore", "MergeStoreFactory"]


class MergeStore(Protocol):
    """Merges on one unit of work; never commits."""

    async def lock(self, organization_id: str, customer_ids: Sequence[str]) -> None:
        """Lock the customers' rows until the transaction ends, where the database can (one
        statement), so no write of theirs slips between the moves and the saves."""
        ...

    async def move(
        self,
        organization_id: str,
        survivor_id: str,
        source_ids: Sequence[str],
        *,
        interest_ids: Sequence[str],
        history: Sequence[tuple[str, str | None]],
    ) -> dict[str, dict[str, tuple[str, str]]]:
        """Move the sources' relations, actions, the interests ``interest_ids`` and every
        history entry to the survivor (one UPDATE per table), numbering the survivor's history
        in the order of ``history`` (``(entry id, merged_from)``). Returns what moved:
        ``{table: {row id: (source id, fingerprint)}}``."""
        ...

    async def counters(
        self, organization_id: str, customer_ids: Sequence[str]
    ) -> dict[str, RelationCounters]:
        """The counters the customers' interactions and appointments determine (a constant
        number of aggregate queries whatever the number of ids)."""
        ...

    async def conflicts(self, record: MergeRecord) -> list[UnmergeConflictItem]:
        """The moved rows of ``record`` that changed, moved again or are gone."""
        ...

    async def move_back(self, record: MergeRecord, survivor_history: Sequence[str]) -> None:
        """Move the rows of ``record`` back to their sources (history entries to their former
        positions) and number the survivor's remaining history in the order given."""
        ...

    async def add(self, record: MergeRecord) -> None:
        """Insert a merge record."""
        ...

    async def get(self, organization_id: str, merge_id: str) -> MergeRecord | None:
        """The organization's merge record, or None."""
        ...

    async def latest(self, organization_id: str, survivor_id: str) -> MergeRecord | None:
        """The survivor's newest merge that was not undone, or None (one index seek)."""
        ...

    async def mark_unmerged(
        self, organization_id: str, merge_id: str, at: datetime, by: str
    ) -> None:
        """Record that the merge was undone."""
        ...


MergeStoreFactory = Callable[[UnitOfWork], MergeStore]
"""The merge store of a unit of work (the SQL one needs the SQL unit of work)."""
