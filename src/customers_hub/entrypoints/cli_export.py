"""``customers-hub export``: the customers export of the HTTP API, from the command line.

    customers-hub export --org ORG [--format csv|xlsx] [--output FILE] [--user-id ID]
                         [--stage S …] [--city C …] [--search TEXT] [--filters JSON] …

Runs the same use case as ``GET /api/v1/customers/export``
(:mod:`customers_hub.application.use_cases.export`): the list's filters (one option per
parameter, repeatable where the list takes several values), ``--fields``, ``--header-language``,
the same columns, file formats and audit line (printed to stderr as JSON). Without
``--user-id`` it exports as an administrator of the organization (the whole organization);
with it, as that employee, in their scope. ``--output -`` writes a CSV to stdout; the default
is the export's own file name (``customers-<org>-<YYYYMMDD-HHMM>.<ext>``) in the current
directory. Exit status: 0, 1 on a database error, 2 on bad options (each bad value named).

Heavy imports happen inside the handler, so ``customers-hub --help`` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from customers_hub.domain.enums import CustomerSource, Priority, PropertyType, Stage
from customers_hub.entrypoints.cli_errors import database_failure, fail, invalid_fields

if TYPE_CHECKING:
    from customers_hub.domain.model import Actor
    from customers_hub.entrypoints.bootstrap import Hub

__all__ = ["CLI_USER_ID", "add_export", "cli_actor"]

CLI_USER_ID = "customers-hub-cli"
"""The user id a CLI export or import without ``--user-id`` is audited under."""


async def cli_actor(hub: Hub, organization_id: str, user_id: str | None) -> Actor:
    """Who a CLI command acts as: the employee ``user_id`` of the organization, in their role
    and scope; without one, an administrator recorded as :data:`CLI_USER_ID`."""
    from customers_hub.domain.access import default_permissions
    from customers_hub.domain.enums import Permission, Role
    from customers_hub.domain.errors import ValidationFailed
    from customers_hub.domain.model import Actor

    if not user_id:
        return Actor(CLI_USER_ID, organization_id, Role.ADMIN, frozenset(Permission), name="CLI")
    async with hub.deps.uow(read_only=True) as uow:
        employee = await uow.employees.get(organization_id, user_id)
    if employee is None:
        raise ValidationFailed.single(
            "userId", f"no employee {user_id!r} in organization {organization_id!r}"
        )
    return Actor(
        employee.id,
        organization_id,
        employee.role,
        default_permissions(employee.role),
        name=employee.name,
    )


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _audit_to_stderr() -> None:
    from customers_hub.application.use_cases.export import AUDIT_LOGGER

    audit = logging.getLogger(AUDIT_LOGGER)
    if not audit.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)
        audit.propagate = False


async def _run(args: argparse.Namespace) -> tuple[int, str]:
    """Export; returns (rows, where)."""
    from customers_hub.adapters.spreadsheets import csv_chunks, write_xlsx
    from customers_hub.application.use_cases.export import (
        ExportFormat,
        ExportRequest,
        HeaderLanguage,
        start_export,
    )
    from customers_hub.application.use_cases.reads import CustomerListParams
    from customers_hub.domain.errors import FieldError, ValidationFailed
    from customers_hub.entrypoints.bootstrap import build_hub
    from customers_hub.entrypoints.http.wire.params import parse_window

    errors: list[FieldError] = []
    bounds = parse_window(
        ("createdFrom", args.created_from),
        ("createdTo", args.created_to),
        ("lastContactFrom", args.last_contact_from),
        ("lastContactTo", args.last_contact_to),
        errors=errors,
    )
    file_format = ExportFormat(args.format)
    if args.output == "-" and file_format is ExportFormat.XLSX:
        errors.append(FieldError("output", "an XLSX cannot be written to stdout; name a file"))
    params = CustomerListParams(
        search=args.search,
        stage=[Stage(s) for s in args.stage],
        source=[CustomerSource(s) for s in args.source],
        priority=[Priority(p) for p in args.priority],
        assigned_employee_id=args.assigned_employee_id,
        lead_score_min=args.lead_score_min,
        lead_score_max=args.lead_score_max,
        budget_min=args.budget_min,
        budget_max=args.budget_max,
        property_type=[PropertyType(p) for p in args.property_type],
        preferred_areas=args.preferred_area,
        city=args.city,
        tags=args.tag,
        created_from=bounds["createdFrom"],
        created_to=bounds["createdTo"],
        last_contact_from=bounds["lastContactFrom"],
        last_contact_to=bounds["lastContactTo"],
        sort_by=args.sort_by,
        sort_order=args.sort_order,
        filters=args.filters,
    )
    request = ExportRequest(
        filters=params,
        file_format=file_format,
        fields=[args.fields] if args.fields else None,
        header_language=HeaderLanguage(args.header_language),
    )
    async with build_hub(args.database_url) as hub:
        actor = await cli_actor(hub, args.org, args.user_id)
        try:
            export = await start_export(hub.deps, actor, request)
        except ValidationFailed as bad:
            raise ValidationFailed([*errors, *bad.errors]) from None
        if errors:
            raise ValidationFailed(errors)
        rows = export.rows()
        try:
            if args.output == "-":
                async for chunk in csv_chunks(export.header, rows):
                    sys.stdout.buffer.write(chunk)
                sys.stdout.buffer.flush()
                return export.rows_written, "stdout"
            target = Path(args.output or export.filename)
            with target.open("wb") as file:
                if file_format is ExportFormat.XLSX:
                    arabic = request.header_language is HeaderLanguage.AR
                    await write_xlsx(
                        export.header,
                        rows,
                        file,
                        title="العملاء" if arabic else "Customers",
                        right_to_left=arabic,
                    )
                else:
                    async for chunk in csv_chunks(export.header, rows):
                        file.write(chunk)
            return export.rows_written, str(target)
        finally:
            await rows.aclose()


def _export(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from customers_hub.domain.errors import ValidationFailed

    _audit_to_stderr()
    try:
        count, where = asyncio.run(_run(args))
    except ValidationFailed as bad:
        return invalid_fields(bad)
    except (SQLAlchemyError, OSError) as error:
        return database_failure(error)
    except ValueError as error:  # an unsupported database URL
        return fail(str(error))
    print(f"exported {count} customers to {where}", file=sys.stderr)
    return 0


def add_export(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export`` on the ``customers-hub`` subcommands."""
    export = commands.add_parser(
        "export",
        help="export customers to CSV or XLSX (the filters of the customers list)",
        description="Export the customers of an organization (or of one employee's scope) "
        "with the customers list's filters, as the API's GET /customers/export does: a CSV in "
        "UTF-8 with a BOM, or an XLSX. The audit line goes to stderr.",
    )
    export.add_argument("--org", required=True, help="the organization id")
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    export.add_argument(
        "--output",
        metavar="FILE",
        help="where to write ('-' = stdout, CSV only; default: customers-<org>-<time>.<ext>)",
    )
    export.add_argument(
        "--user-id", help="export as this employee, in their scope (default: an administrator)"
    )
    export.add_argument(
        "--fields", metavar="A,B", help="columns, comma-separated (id is always kept)"
    )
    export.add_argument("--header-language", choices=["en", "ar"], default="en")
    many: list[tuple[str, str, list[str] | None]] = [
        ("--stage", "stage", [s.value for s in Stage]),
        ("--source", "source", [s.value for s in CustomerSource]),
        ("--priority", "priority", [p.value for p in Priority]),
        ("--property-type", "property_type", [p.value for p in PropertyType]),
        ("--assigned-employee-id", "assigned_employee_id", None),
        ("--city", "city", None),
        ("--tag", "tag", None),
        ("--preferred-area", "preferred_area", None),
    ]
    for flag, dest, choices in many:
        export.add_argument(
            flag, dest=dest, action="append", default=[], choices=choices, help="repeatable"
        )
    export.add_argument("--lead-score-min", type=int)
    export.add_argument("--lead-score-max", type=int)
    export.add_argument("--budget-min", type=_decimal)
    export.add_argument("--budget-max", type=_decimal)
    for flag in ("--created-from", "--created-to", "--last-contact-from", "--last-contact-to"):
        export.add_argument(flag, metavar="DATE", help="YYYY-MM-DD or an ISO 8601 datetime")
    export.add_argument("--search", help="name, phone or e-mail")
    export.add_argument("--filters", metavar="JSON", help="the list's nested filters")
    export.add_argument("--sort-by", help="name, createdAt, leadScore, lastContactAt, dealValue")
    export.add_argument("--sort-order", choices=["asc", "desc"])
    export.add_argument(
        "--database-url",
        metavar="URL",
        help="sqlite:///path/hub.db or postgresql://… (default: $CUSTOMERS_HUB_DATABASE_URL, "
        "else sqlite in the data directory)",
    )
    export.set_defaults(handler=_export)
