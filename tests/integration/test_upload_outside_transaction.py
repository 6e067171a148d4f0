"""Document bytes are written outside the transaction (issue 13, bug 3).

An upload writes and fsyncs up to 20 MiB. Done inside the unit of work, that held the customer's
row lock (PostgreSQL) or the database's write lock (SQLite) for as long as the disk took. The
upload use case writes the file first, with no unit of work open, then commits the row, and
removes the file when the transaction fails — so a committed record always has its bytes and a
failed upload leaves no file behind.

Real local file storage (:class:`LocalDocumentStorage`) on both databases; the unit-of-work
factory counts the units of work open, and the storage records that count at every write.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import pytest
from attrs import evolve
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from customers_hub.adapters.storage import LocalDocumentStorage
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.documents import (
    UploadDocument,
    get_document_content,
    upload_document,
)
from customers_hub.domain.enums import CustomerSource, DocumentType, Permission, Role, Stage
from customers_hub.domain.errors import NotFound, PermissionDenied, ValidationFailed
from customers_hub.domain.model import Actor, Customer, StageChange

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
PDF = b"%PDF-1.7 " + b"x" * 4096


class CountingUnitOfWork:
    """Enters a real :class:`SqlUnitOfWork` and counts it as open until it exits."""

    def __init__(self, factory: CountingFactory, inner: SqlUnitOfWork) -> None:
        self._factory = factory
        self._inner = inner

    async def __aenter__(self) -> SqlUnitOfWork:
        uow = await self._inner.__aenter__()
        self._factory.open += 1
        if self._factory.fail_commits:
            # The row was written; the commit fails (a lost connection, a full disk…).
            async def failing_commit() -> None:
                raise ConnectionError("injected commit failure")

            uow.commit = failing_commit  # type: ignore[method-assign]
        return uow

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._factory.open -= 1
        await self._inner.__aexit__(exc_type, exc, tb)


class CountingFactory:
    """A unit-of-work factory that knows how many of its units of work are open."""

    def __init__(self, inner: SqlUnitOfWorkFactory) -> None:
        self._inner = inner
        self.open = 0
        self.fail_commits = False

    def __call__(self, *, read_only: bool = False) -> Any:
        return CountingUnitOfWork(self, self._inner(read_only=read_only))


class RecordingStorage(LocalDocumentStorage):
    """Real local storage that records, for each write, how many units of work were open."""

    def __init__(self, root: Path, open_units: Callable[[], int]) -> None:
        super().__init__(root)
        self._open_units = open_units
        self.open_at_put: list[int] = []

    async def put(self, key: str, data: bytes) -> None:
        self.open_at_put.append(self._open_units())
        await super().put(key, data)

    def files(self) -> list[str]:
        """Every file under the root (temporary ones included)."""
        return sorted(p.name for p in self.root.iterdir()) if self.root.exists() else []


@pytest.fixture
def factory(engine: AsyncEngine) -> CountingFactory:
    return CountingFactory(SqlUnitOfWorkFactory(engine))


@pytest.fixture
def storage(tmp_path: Path, factory: CountingFactory) -> RecordingStorage:
    return RecordingStorage(tmp_path / "documents", lambda: factory.open)


@pytest.fixture
def deps(factory: CountingFactory, storage: RecordingStorage) -> Dependencies:
    unused = cast(Any, None)
    return Dependencies(
        uow=factory,
        clock=SystemClock(),
        ids=PrefixedIdGenerator(),
        publisher=InProcessEventPublisher(),
        customer_queries=unused,
        action_queries=unused,
        employee_queries=unused,
        storage=storage,
    )


def admin(org: str) -> Actor:
    return Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="سارة المدير")


async def stored_customer(engine: AsyncEngine, org: str) -> Customer:
    s = uuid.uuid4().hex[:12]
    customer = Customer(
        id=f"cust_{s}",
        organization_id=org,
        name="سعد القحطاني",
        phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
        source=CustomerSource.WHATSAPP,
        stage=Stage.NEW_LEAD,
        created_at=NOW,
        updated_at=NOW,
        stage_history=(
            StageChange(
                id=f"stage_{s}",
                from_stage=None,
                to_stage=Stage.NEW_LEAD,
                changed_by="System",
                changed_by_id="system",
                changed_at=NOW,
                auto_generated=True,
            ),
        ),
    )
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.customers.add(customer)
        await uow.commit()
    return customer


def upload(customer_id: str, **changes: Any) -> UploadDocument:
    command = UploadDocument(
        customer_id=customer_id,
        name="عقد الحجز",
        type=DocumentType.CONTRACT,
        content=PDF,
        mime_type="application/pdf",
    )
    return evolve(command, **changes)


async def test_the_bytes_are_written_before_the_transaction_opens(
    deps: Dependencies, storage: RecordingStorage, engine: AsyncEngine, org_id: str
) -> None:
    customer = await stored_customer(engine, org_id)
    document = await upload_document(deps, admin(org_id), upload(customer.id))

    assert storage.open_at_put == [0], "the file was written inside a unit of work"
    assert storage.files() == [document.storage_key]
    stored = await get_document_content(deps, admin(org_id), customer.id, document.id)
    assert stored.content == PDF


async def test_a_failed_commit_leaves_no_file_behind(
    deps: Dependencies,
    factory: CountingFactory,
    storage: RecordingStorage,
    engine: AsyncEngine,
    org_id: str,
) -> None:
    customer = await stored_customer(engine, org_id)
    factory.fail_commits = True
    with pytest.raises(ConnectionError, match="injected"):
        await upload_document(deps, admin(org_id), upload(customer.id))
    factory.fail_commits = False

    assert storage.open_at_put == [0]  # it was written, then removed
    assert storage.files() == []
    async with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
        listed = await uow.relations.list_for_customer(
            org_id, customer.id, frozenset({"documents"}), 10
        )
    assert listed["documents"] == []


async def test_an_unknown_customer_leaves_no_file_behind(
    deps: Dependencies, storage: RecordingStorage, org_id: str
) -> None:
    with pytest.raises(NotFound):
        await upload_document(deps, admin(org_id), upload("cust_missing"))
    assert storage.files() == []


async def test_invalid_input_writes_no_file(
    deps: Dependencies, storage: RecordingStorage, engine: AsyncEngine, org_id: str
) -> None:
    customer = await stored_customer(engine, org_id)
    with pytest.raises(ValidationFailed) as raised:
        await upload_document(deps, admin(org_id), upload(customer.id, name="  "))
    assert {e.field for e in raised.value.errors} == {"name"}
    assert storage.open_at_put == []
    assert storage.files() == []


async def test_a_role_that_may_not_upload_writes_no_file(
    deps: Dependencies, storage: RecordingStorage, engine: AsyncEngine, org_id: str
) -> None:
    customer = await stored_customer(engine, org_id)
    viewer = Actor("emp_viewer", org_id, Role.VIEWER, frozenset({Permission.CUSTOMERS_READ}))
    with pytest.raises(PermissionDenied):
        await upload_document(deps, viewer, upload(customer.id))
    assert storage.open_at_put == []
    assert storage.files() == []
