"""Customer import on SQLite and PostgreSQL: batches, duplicates against the organization,
update and create modes, dry run, the audit trail, a runner that dies (resume from the last
committed batch), a job that keeps dying (failed), and a manager's scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables
from customers_hub.application.use_cases import import_runs
from customers_hub.application.use_cases.assignment import create_assignment_rule
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.application.use_cases.import_runs import run_import, run_next_import
from customers_hub.application.use_cases.imports import ImportUpload, start_import
from customers_hub.domain.assignment import RuleDraft, Strategy
from customers_hub.domain.enums import CustomerSource, Permission, Role
from customers_hub.domain.imports import ImportStatus, OnDuplicate
from customers_hub.domain.model import Actor
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.settings import HubConfig

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def hub(
    engine: AsyncEngine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    data_dir: Path = tmp_path_factory.mktemp("imports")
    built = build_hub(config=HubConfig(data_dir=data_dir, database_url=database_url))
    await built.start(migrate=False)
    yield built
    await built.close()


class RunnerDied(BaseException):
    """What a killed process looks like to the job: nothing after this point runs."""


def admin(org: str) -> Actor:
    return Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="Admin")


def csv_of(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    lines = [header or ["name", "phone", "email", "nationalId", "city"], *rows]
    return ("\ufeff" + "\n".join(",".join(r) for r in lines) + "\n").encode()


async def customers_of(hub: Hub, org: str) -> list[Any]:
    async with hub.engine.connect() as conn:
        c = tables.customers.c
        return list(
            (await conn.execute(select(tables.customers).where(c.organization_id == org)))
            .mappings()
            .all()
        )


async def run(hub: Hub, actor: Actor, content: bytes, **options: Any) -> Any:
    job = await start_import(
        hub.deps, actor, ImportUpload(content=content, file_name="f.csv", **options)
    )
    return await run_import(hub.deps, actor.organization_id, job.id, "test-runner")


async def test_rows_become_customers_with_history_facets_and_audit(hub: Hub, org_id: str) -> None:
    content = csv_of(
        [
            ["أحمد", "0551230001", "a@x.sa", "", "الرياض"],
            ["سارة", "+966 55 123 0002", "", "", "جدة"],
            ["", "0551230003", "", "", ""],  # no name
        ]
    )
    job = await run(hub, admin(org_id), content)
    assert job.status is ImportStatus.COMPLETED
    assert (job.counts.created, job.counts.failed, job.counts.processed) == (2, 1, 3)
    stored = {r["phone"]: r for r in await customers_of(hub, org_id)}
    assert set(stored) == {"+966551230001", "+966551230002"}
    assert stored["+966551230001"]["source"] == "import"
    assert stored["+966551230001"]["stage"] == "new_lead"
    async with hub.engine.connect() as conn:
        history = await conn.execute(
            select(func.count())
            .select_from(tables.stage_history)
            .where(tables.stage_history.c.organization_id == org_id)
        )
        assert history.scalar_one() == 2
        audit = tables.audit_log.c
        actions = (
            await conn.execute(select(audit.action).where(audit.organization_id == org_id))
        ).scalars()
        assert sorted(actions) == ["customer.created", "customer.created", "customers.imported"]
    # The uploaded file is gone once the job ended.
    assert await hub.deps.storage.get(job.file_key) is None


async def test_duplicates_against_the_organization_per_mode(hub: Hub, org_id: str) -> None:
    actor = admin(org_id)
    existing = (
        await create_customer(
            hub.deps,
            actor,
            CreateCustomer(CustomerDraft(name="قديم", phone="0551239000", city="الرياض")),
        )
    ).customer
    content = csv_of([["جديد", "966551239000", "", "", "جدة"]])
    skipped = await run(hub, actor, content)
    assert (skipped.counts.skipped, skipped.counts.created) == (1, 0)
    updated = await run(hub, actor, content, on_duplicate=OnDuplicate.UPDATE)
    assert updated.counts.updated == 1
    rows = await customers_of(hub, org_id)
    assert [(r["id"], r["name"], r["city"]) for r in rows] == [(existing.id, "جديد", "جدة")]
    again = await run(hub, actor, content, on_duplicate=OnDuplicate.UPDATE)
    assert (again.counts.updated, again.counts.skipped) == (0, 1)  # nothing left to change
    created = await run(hub, actor, content, on_duplicate=OnDuplicate.CREATE)
    assert created.counts.failed == 1  # the live phone is unique, as POST /customers says
    assert len(await customers_of(hub, org_id)) == 1


async def test_a_dry_run_writes_only_the_job_and_its_report(hub: Hub, org_id: str) -> None:
    content = csv_of([["أحمد", "0551238001", "", "", ""], ["x", "123", "", "", ""]])
    job = await run(hub, admin(org_id), content, dry_run=True)
    assert (job.counts.created, job.counts.failed) == (1, 1)
    assert await customers_of(hub, org_id) == []
    async with hub.engine.connect() as conn:
        audit = tables.audit_log.c
        count = await conn.execute(
            select(func.count())
            .select_from(tables.audit_log)
            .where(audit.organization_id == org_id)
        )
        assert count.scalar_one() == 0


async def test_a_dead_runner_is_taken_over_from_its_last_batch(
    hub: Hub, org_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_runs, "IMPORT_BATCH_SIZE", 2)
    actor = admin(org_id)
    rows = [[f"عميل {i}", f"05512370{i:02d}", "", "", ""] for i in range(5)]
    job = await start_import(hub.deps, actor, ImportUpload(content=csv_of(rows), file_name="f.csv"))
    calls = 0

    def die_after_first_batch(current: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RunnerDied  # the process dies between two batches

    with pytest.raises(RunnerDied):
        await run_import(hub.deps, org_id, job.id, "runner-a", die_after_first_batch)
    async with hub.engine.begin() as conn:
        j = tables.import_jobs.c
        row = (
            (await conn.execute(select(tables.import_jobs).where(j.id == job.id))).mappings().one()
        )
        assert (row["status"], row["next_row"], row["created"]) == ("running", 2, 2)
        # Its lease runs out.
        await conn.execute(
            update(tables.import_jobs)
            .where(j.id == job.id)
            .values(lease_expires_at=row["lease_expires_at"] - timedelta(hours=1))
        )
    resumed = await run_next_import(hub.deps, "runner-b")
    assert resumed is not None
    assert resumed.id == job.id
    assert resumed.status is ImportStatus.COMPLETED
    assert (resumed.counts.created, resumed.counts.processed, resumed.attempts) == (5, 5, 2)
    assert len(await customers_of(hub, org_id)) == 5


async def test_a_job_whose_runners_keep_dying_is_marked_failed(hub: Hub, org_id: str) -> None:
    job = await start_import(
        hub.deps,
        admin(org_id),
        ImportUpload(content=csv_of([["أحمد", "0551236001", "", "", ""]]), file_name="f.csv"),
    )
    async with hub.engine.begin() as conn:
        await conn.execute(
            update(tables.import_jobs)
            .where(tables.import_jobs.c.id == job.id)
            .values(status="running", attempts=import_runs.MAX_ATTEMPTS, lease_owner="gone")
        )
    failed = await run_next_import(hub.deps, "runner-c")
    assert failed is not None
    assert failed.status is ImportStatus.FAILED
    assert failed.error is not None
    assert "stopped" in failed.error
    assert await customers_of(hub, org_id) == []


async def test_a_manager_imports_into_the_team(hub: Hub, org_id: str) -> None:
    boot = admin(org_id)
    manager = await create_employee(
        hub.deps, boot, CreateEmployee(id="emp_m", name="مدير", role=Role.SALES_MANAGER)
    )
    await create_employee(
        hub.deps,
        boot,
        CreateEmployee(id="emp_a", name="وكيل", role=Role.SALES_AGENT, manager_id=manager.id),
    )
    await create_employee(
        hub.deps, boot, CreateEmployee(id="emp_x", name="خارجي", role=Role.SALES_AGENT)
    )
    actor = Actor(manager.id, org_id, Role.SALES_MANAGER, frozenset(Permission), name="مدير")
    content = csv_of(
        [
            ["أ", "0551235001", "emp_a"],
            ["ب", "0551235002", "emp_x"],
            ["ج", "0551235003", ""],
        ],
        header=["name", "phone", "assignedEmployeeId"],
    )
    job = await run(hub, actor, content)
    assert (job.counts.created, job.counts.failed) == (2, 1)
    assignees = {r["phone"]: r["assigned_employee_id"] for r in await customers_of(hub, org_id)}
    assert assignees == {"+966551235001": "emp_a", "+966551235003": "emp_m"}


async def test_source_is_import_unless_the_row_names_one(hub: Hub, org_id: str) -> None:
    content = csv_of(
        [["أ", "0551234101", "whatsapp"], ["ب", "0551234102", ""]],
        header=["name", "phone", "source"],
    )
    await run(hub, admin(org_id), content)
    sources = {r["phone"]: r["source"] for r in await customers_of(hub, org_id)}
    assert sources == {
        "+966551234101": CustomerSource.WHATSAPP.value,
        "+966551234102": CustomerSource.IMPORT.value,
    }
    async with hub.engine.connect() as conn:  # no system actions unless asked (§10)
        count = await conn.execute(
            select(func.count())
            .select_from(tables.customer_actions)
            .where(tables.customer_actions.c.organization_id == org_id)
        )
        assert count.scalar_one() == 0


async def test_create_actions_adds_the_system_actions(hub: Hub, org_id: str) -> None:
    content = csv_of([["أ", "0551234201", "whatsapp"]], header=["name", "phone", "source"])
    await run(hub, admin(org_id), content, create_actions=True)
    async with hub.engine.connect() as conn:
        types = (
            await conn.execute(
                select(tables.customer_actions.c.type).where(
                    tables.customer_actions.c.organization_id == org_id
                )
            )
        ).scalars()
        assert list(types) == ["whatsapp_incoming"]


def test_the_cli_imports_with_a_progress_bar_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from customers_hub.entrypoints import cli

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    source = tmp_path / "leads.csv"
    source.write_bytes(csv_of([["أحمد", "0551234301", "", "", ""], ["x", "1", "", "", ""]]))
    report = tmp_path / "errors.csv"
    args = ["import", str(source), "--org", "org_cli", "--database-url", url]
    assert cli.main([*args, "--errors", str(report)]) == 0
    err = capsys.readouterr().err
    assert "importing" in err  # the progress bar's label
    assert "2/2" in err  # its count when done
    assert "created" in err  # the summary table
    assert report.read_text(encoding="utf-8-sig").splitlines()[1].startswith("3,phone,")
    assert cli.main([*args, "--mapping", "[1]"]) == 2  # bad input: named, exit status 2
    assert "mapping" in capsys.readouterr().err


async def test_rows_without_an_assignee_go_through_the_assignment_rules(
    hub: Hub, org_id: str
) -> None:
    """Rules §10: an import is a create — a round robin rule spreads the unassigned rows in
    row order, each decision audited with the rule's id and announced as customer.assigned."""
    actor = admin(org_id)
    for employee_id in ("r1", "r2", "r3"):
        await create_employee(
            hub.deps, actor, CreateEmployee(id=employee_id, name=employee_id, role=Role.SALES_AGENT)
        )
    rule = await create_assignment_rule(
        hub.deps,
        actor,
        RuleDraft(name="توزيع", strategy=Strategy.ROUND_ROBIN, employee_ids=("r1", "r2", "r3")),
    )
    rows = [[f"عميل {n}", f"05512{n:05d}", "", "", "الرياض"] for n in range(600, 606)]
    job = await run(hub, actor, csv_of(rows))
    assert job.counts.created == 6
    stored = {r["phone"]: r["assigned_employee_id"] for r in await customers_of(hub, org_id)}
    assert [stored[f"+9665512{n:05d}"] for n in range(600, 606)] == ["r1", "r2", "r3"] * 2
    log, outbox = tables.audit_log, tables.outbox
    async with hub.engine.connect() as conn:
        entries = (
            await conn.execute(
                select(log.c.changes).where(
                    log.c.organization_id == org_id, log.c.action == "customer.created"
                )
            )
        ).scalars()
        events = (
            await conn.execute(select(outbox.c.event).where(outbox.c.organization_id == org_id))
        ).scalars()
        assert all(
            {"field": "assignmentRuleId", "from": None, "to": rule.id} in changes
            for changes in entries
        )
        assert list(events).count("customer.assigned") == 6
