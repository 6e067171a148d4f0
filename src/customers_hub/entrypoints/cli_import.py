"""``customers-hub import FILE --org ORG [--mapping JSON|@file] [--dry-run]
[--on-duplicate skip|update|create] [--create-actions] [--user-id U] [--errors FILE]``.

Runs the import in this process, exactly as the service's worker does (the same use cases:
:mod:`customers_hub.application.use_cases.imports`): the job is queued, then run batch by batch
with a progress bar (``rich``, on stderr), then a summary table and the first lines of the
report; ``--errors FILE`` writes the whole report as CSV (``row,field,message``). The job and
its report stay in the database (``GET /api/v1/customers/imports/{id}``).

Without ``--user-id`` the import is an administrator's (``customers-hub-cli``); with it, the
employee's role and scope apply (a manager imports into the team). Exit codes: 0 when the job
completed (some rows may have failed: see the report), 1 when it failed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from customers_hub.entrypoints.cli_errors import database_failure, fail, invalid_fields

if TYPE_CHECKING:
    from rich.console import Console

    from customers_hub.domain.imports import ImportJob
    from customers_hub.domain.model import Actor
    from customers_hub.entrypoints.bootstrap import Hub

__all__ = ["add_import"]

REPORT_PREVIEW = 20
"""Report lines the summary shows."""


def _mapping(raw: str | None) -> dict[str, str | None] | None:
    from customers_hub.domain.errors import ValidationFailed

    if raw is None:
        return None
    text = Path(raw[1:]).read_text(encoding="utf-8") if raw.startswith("@") else raw
    try:
        decoded = json.loads(text)
    except ValueError:
        raise ValidationFailed.single("mapping", "must be a JSON object {column: field}") from None
    if not isinstance(decoded, dict):
        raise ValidationFailed.single("mapping", "must be a JSON object {column: field}")
    return decoded


async def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from customers_hub.application.use_cases.import_runs import run_import
    from customers_hub.application.use_cases.imports import ImportUpload, start_import
    from customers_hub.domain.errors import ValidationFailed
    from customers_hub.domain.imports import ImportStatus, OnDuplicate
    from customers_hub.entrypoints.bootstrap import build_hub
    from customers_hub.entrypoints.cli_export import cli_actor

    console = Console(stderr=True)
    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ValidationFailed.single("file", f"cannot be read: {error}") from None
    upload = ImportUpload(
        content=content,
        file_name=path.name,
        mapping=_mapping(args.mapping),
        dry_run=args.dry_run,
        on_duplicate=OnDuplicate(args.on_duplicate),
        create_actions=args.create_actions,
    )
    async with build_hub(args.database_url) as hub:
        actor = await cli_actor(hub, args.org, args.user_id)
        job = await start_import(hub.deps, actor, upload)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("dry run" if job.dry_run else "importing", total=job.total_rows)

            def advance(current: ImportJob) -> None:
                bar.update(task, completed=current.counts.processed)

            job = await run_import(hub.deps, args.org, job.id, f"cli-{job.id}", advance)
        summary = Table(title=f"Import {job.id} ({job.status.value})")
        for column in ("rows", "processed", "created", "updated", "skipped", "failed"):
            summary.add_column(column, justify="right")
        counts = job.counts
        summary.add_row(
            *(
                str(v)
                for v in (
                    job.total_rows,
                    counts.processed,
                    counts.created,
                    counts.updated,
                    counts.skipped,
                    counts.failed,
                )
            )
        )
        console.print(summary)
        if job.error:
            console.print(f"[red]error:[/red] {job.error}")
        await _report(hub, actor, job, args.errors, console)
    return 0 if job.status is ImportStatus.COMPLETED else 1


async def _report(
    hub: Hub, actor: Actor, job: ImportJob, target: str | None, console: Console
) -> None:
    from rich.table import Table

    from customers_hub.adapters.spreadsheets import csv_text
    from customers_hub.application.use_cases.imports import import_error_batches

    preview = Table(title="Report (failed and skipped rows)")
    for column in ("row", "field", "message"):
        preview.add_column(column)
    shown = 0
    lines = 0
    with contextlib.ExitStack() as stack:
        handle = (
            stack.enter_context(Path(target).open("w", encoding="utf-8-sig", newline=""))
            if target
            else None
        )
        if handle is not None:
            handle.write("row,field,message\r\n")
        async for batch in await import_error_batches(hub.deps, actor, job.id):
            for error in batch:
                lines += 1
                if shown < REPORT_PREVIEW:
                    preview.add_row(str(error.row), error.field, error.message)
                    shown += 1
                if handle is not None:
                    cells = [str(error.row), csv_text(error.field), csv_text(error.message)]
                    handle.write(",".join(_quoted(c) for c in cells) + "\r\n")
    if lines:
        console.print(preview)
        more = f"; all {lines} in {target}" if target else "; --errors FILE writes them all"
        console.print(f"{lines} report lines{more}")


def _quoted(cell: str) -> str:
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _import(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from customers_hub.domain.errors import DomainError, ValidationFailed

    try:
        return asyncio.run(_run(args))
    except ValidationFailed as bad:
        return invalid_fields(bad)
    except DomainError as error:
        return fail(str(error))
    except (SQLAlchemyError, OSError) as error:
        return database_failure(error)


def add_import(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``import`` on the ``customers-hub`` subcommands."""
    command = commands.add_parser(
        "import",
        help="import customers from a CSV or XLSX file",
        description="Import customers (one row each) with the same rules as POST /customers, "
        "in batches, with a progress bar and a summary. Headers in English (the API's field "
        "names) or Arabic are recognised; --mapping overrides them.",
    )
    command.add_argument("file", metavar="FILE", help="a CSV (UTF-8) or an XLSX")
    command.add_argument("--org", required=True, help="the organization id")
    command.add_argument(
        "--mapping",
        metavar="JSON",
        help='{"column header": "field" | null} as JSON, or @file.json',
    )
    command.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    command.add_argument("--on-duplicate", choices=["skip", "update", "create"], default="skip")
    command.add_argument(
        "--create-actions",
        action="store_true",
        help="create the system actions of new inquiries and WhatsApp leads (default: none)",
    )
    command.add_argument(
        "--user-id", help="import as this employee, in their scope (default: an administrator)"
    )
    command.add_argument("--errors", metavar="FILE", help="write the whole report as CSV")
    command.add_argument(
        "--database-url",
        metavar="URL",
        help="sqlite:///path/hub.db or postgresql://… (default: $CUSTOMERS_HUB_DATABASE_URL, "
        "else sqlite in the data directory)",
    )
    command.set_defaults(handler=_import)
