"""Export customers to a spreadsheet (issue 12, Deliver 2): every list filter, the caller's
scope, a choice of columns, streamed a batch at a time, audited.

:func:`start_export` checks the caller and the parameters at once (403 / 400 before a byte is
written), then returns a :class:`CustomerExport`: its :meth:`~CustomerExport.rows` reads the
customers of the list query in keyset batches of :data:`EXPORT_BATCH_SIZE` from the
:class:`~customers_hub.application.ports_operations.CustomerExportSource` (never the whole set
at once), and yields one tuple of cell values per customer. The file format (CSV, XLSX) is the
caller's business (``adapters.spreadsheets``): values stay typed here (``Decimal``, ``date``,
aware UTC ``datetime``, ``int``, ``str``; lists joined with ``", "``; enums by their value).

Decisions where the issue is silent:

* The scope and the filters are exactly the list's (``GET /customers``: the same parameters,
  the same :func:`~customers_hub.application.use_cases.reads.customer_list_query`); paging
  parameters are ignored and the trash (``deleted``) is not exportable.
* Columns are the document's field names in camelCase; preference fields keep their API path
  (``preferences.budgetMin``) and the assignee's name is ``assignedEmployee.name`` — the same
  names ``filters`` and ``POST /customers/query`` use, so a header row says what a column is.
  ``fields`` picks columns (``id`` is always kept, first); the default is every column.
  ``headerLanguage=ar`` writes Arabic headers instead (:data:`EXPORT_COLUMNS`).
* Audit: when the rows end — completely or because the client went away — one JSON line on the
  ``customers_hub.audit`` logger (``event``, ``userId``, ``organizationId``, ``role``, ``format``,
  ``rows``, ``fields``, ``filters``, ``completed``, ``durationMs``) and a
  :class:`~customers_hub.domain.events.CustomersExported` event. Free text (``search``, the
  values inside ``filters``) is not logged, only that it was used.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import Enum, StrEnum
from operator import attrgetter
from typing import Final

import attrs
from attrs import frozen

from customers_hub.application.context import Dependencies, present
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_operations import CustomerExportSource
from customers_hub.application.queries import CustomerListQuery
from customers_hub.application.use_cases.reads import CustomerListParams, customer_list_query
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import access
from customers_hub.domain.access import Operation
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.events import CustomersExported, DomainEvent
from customers_hub.domain.model import Actor, Customer, Employee
from customers_hub.domain.naming import snake_case

__all__ = [
    "AUDIT_LOGGER",
    "EXPORT_BATCH_SIZE",
    "EXPORT_COLUMNS",
    "EXPORT_FIELDS",
    "Cell",
    "CustomerExport",
    "ExportColumn",
    "ExportFormat",
    "ExportRequest",
    "HeaderLanguage",
    "start_export",
]

AUDIT_LOGGER: Final = "customers_hub.audit"
"""The logger of the audit lines (one JSON object per line)."""

EXPORT_BATCH_SIZE: Final = 1_000
"""Customers read per keyset batch: what an export holds in memory at once."""

LIST_SEPARATOR: Final = ", "
"""How list values (tags, property types, areas) are joined in one cell."""

Cell = str | int | Decimal | date | datetime | None
"""A cell value: typed, so each file format can write it natively."""

_audit = logging.getLogger(AUDIT_LOGGER)


class ExportFormat(StrEnum):
    """The file an export produces."""

    CSV = "csv"
    XLSX = "xlsx"


class HeaderLanguage(StrEnum):
    """The header row: the API's field names (``en``) or Arabic labels (``ar``)."""

    EN = "en"
    AR = "ar"


def _cell(value: object) -> Cell:
    """An attribute as a typed cell: enums by value, lists joined, the rest as they are."""
    if isinstance(value, Enum):
        return str(value.value)
    if value is None or isinstance(value, str | int | Decimal | date):
        return value
    if isinstance(value, Sequence | frozenset):
        texts = [str(v.value) if isinstance(v, Enum) else str(v) for v in value]
        return LIST_SEPARATOR.join(texts) if texts else None
    raise TypeError(f"no cell for {type(value).__name__}")


@frozen
class ExportColumn:
    """One column: its key (the API's field name), its Arabic header and its value."""

    key: str
    label_ar: str
    value: Callable[[Customer, Employee | None], Cell]

    def header(self, language: HeaderLanguage) -> str:
        """The header cell in ``language``."""
        return self.label_ar if language is HeaderLanguage.AR else self.key


def _attribute(key: str, label_ar: str) -> ExportColumn:
    """The column of the customer's attribute named like ``key`` in snake_case
    (``preferences.budgetMin`` reads ``customer.preferences.budget_min``)."""
    read = attrgetter(snake_case(key))  # a dotted path reads nested attributes

    def value(customer: Customer, employee: Employee | None) -> Cell:
        del employee
        return _cell(read(customer))

    return ExportColumn(key, label_ar, value)


def _assignee_name(customer: Customer, employee: Employee | None) -> Cell:
    del customer
    return employee.name if employee else None


EXPORT_COLUMNS: Final[tuple[ExportColumn, ...]] = (
    _attribute("id", "المعرف"),
    _attribute("name", "الاسم"),
    _attribute("nameEn", "الاسم بالإنجليزية"),
    _attribute("phone", "رقم الجوال"),
    _attribute("whatsapp", "رقم واتساب"),
    _attribute("email", "البريد الإلكتروني"),
    _attribute("nationalId", "رقم الهوية"),
    _attribute("nationality", "الجنسية"),
    _attribute("gender", "الجنس"),
    _attribute("dateOfBirth", "تاريخ الميلاد"),
    _attribute("source", "المصدر"),
    _attribute("stage", "المرحلة"),
    _attribute("priority", "الأولوية"),
    _attribute("leadScore", "تقييم العميل"),
    _attribute("customerType", "نوع العميل"),
    _attribute("assignedEmployeeId", "رقم الموظف المسؤول"),
    ExportColumn("assignedEmployee.name", "الموظف المسؤول", _assignee_name),
    _attribute("city", "المدينة"),
    _attribute("district", "الحي"),
    _attribute("region", "المنطقة"),
    _attribute("address", "العنوان"),
    _attribute("tags", "الوسوم"),
    _attribute("preferences.propertyType", "نوع العقار"),
    _attribute("preferences.budgetMin", "الميزانية من"),
    _attribute("preferences.budgetMax", "الميزانية إلى"),
    _attribute("preferences.preferredAreas", "الأحياء المفضلة"),
    _attribute("preferences.preferredCities", "المدن المفضلة"),
    _attribute("preferences.bedrooms", "عدد الغرف"),
    _attribute("preferences.purpose", "الغرض"),
    _attribute("preferences.timeline", "الإطار الزمني"),
    _attribute("totalDealValue", "قيمة الصفقة"),
    _attribute("expectedRevenue", "الإيراد المتوقع"),
    _attribute("paidAmount", "المبلغ المدفوع"),
    _attribute("notes", "ملاحظات"),
    _attribute("lastContactAt", "آخر تواصل"),
    _attribute("nextFollowUpDate", "موعد المتابعة القادم"),
    _attribute("totalInteractions", "عدد التفاعلات"),
    _attribute("createdAt", "تاريخ الإنشاء"),
    _attribute("updatedAt", "آخر تحديث"),
)
"""Every exportable column, in file order."""

EXPORT_FIELDS: Final[tuple[str, ...]] = tuple(c.key for c in EXPORT_COLUMNS)
"""The keys ``fields`` takes."""

_BY_KEY: Final[Mapping[str, ExportColumn]] = {c.key: c for c in EXPORT_COLUMNS}
_FREE_TEXT: Final = frozenset({"search"})
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9_-]+")


@frozen(kw_only=True)
class ExportRequest:
    """What to export: the list's filters (paging ignored), the format, the columns and the
    header language."""

    filters: CustomerListParams = attrs.field(factory=CustomerListParams)
    file_format: ExportFormat = ExportFormat.CSV
    fields: Sequence[str] | None = None
    header_language: HeaderLanguage = HeaderLanguage.EN


def _columns(fields: Sequence[str] | None) -> tuple[ExportColumn, ...]:
    """The chosen columns in file order, ``id`` first; 400 on ``fields`` for unknown keys."""
    if fields is None:
        return EXPORT_COLUMNS
    keys = [k.strip() for value in fields for k in value.split(",") if k.strip()]
    if not keys:
        return EXPORT_COLUMNS
    unknown = sorted({k for k in keys if k not in _BY_KEY})
    if unknown:
        raise ValidationFailed.single(
            "fields",
            f"Unknown field {', '.join(unknown)}; expected any of {', '.join(EXPORT_FIELDS)}",
        )
    chosen = {"id", *keys}
    return tuple(c for c in EXPORT_COLUMNS if c.key in chosen)


def _filters_summary(params: CustomerListParams) -> dict[str, object]:
    """The filters used, for the audit line: typed values as sent, free text only flagged."""
    summary: dict[str, object] = {}
    for name, raw in attrs.asdict(params, recurse=False).items():
        if name in {"page", "limit", "cursor", "fields", "include", "deleted"}:
            continue
        if raw is None or raw == () or raw == []:
            continue
        key = "".join(
            part if i == 0 else part.capitalize() for i, part in enumerate(name.split("_"))
        )
        if key in _FREE_TEXT:
            summary[key] = "[redacted]"
        elif key == "filters":
            decoded = raw
            if isinstance(raw, str):
                try:
                    decoded = json.loads(raw)
                except ValueError:
                    decoded = None
            summary[key] = sorted(decoded) if isinstance(decoded, dict) else "[given]"
        elif isinstance(raw, Sequence) and not isinstance(raw, str):
            summary[key] = [str(getattr(v, "value", v)) for v in raw]
        else:
            summary[key] = str(getattr(raw, "value", raw))
    return summary


def _filename(actor: Actor, deps: Dependencies, tz: tzinfo, file_format: ExportFormat) -> str:
    local = deps.clock.now().astimezone(tz)
    organization = _UNSAFE_NAME.sub("-", actor.organization_id).strip("-") or "organization"
    return f"customers-{organization}-{local:%Y%m%d-%H%M}.{file_format.value}"


class CustomerExport:
    """A prepared export: its header, its file name, and its rows (read once, lazily)."""

    def __init__(
        self,
        deps: Dependencies,
        actor: Actor,
        source: CustomerExportSource,
        query: CustomerListQuery,
        request: ExportRequest,
        zone: tzinfo,
    ) -> None:
        self._deps = deps
        self._actor = actor
        self._source = source
        self._query = query
        self.file_format = request.file_format
        self.columns = _columns(request.fields)
        self.header: tuple[str, ...] = tuple(
            c.header(request.header_language) for c in self.columns
        )
        self.filename = _filename(actor, deps, zone, request.file_format)
        self.filters = _filters_summary(request.filters)
        self.rows_written = 0
        self._employees: dict[str, Employee] = {}
        self._needs_employee = any(c.key == "assignedEmployee.name" for c in self.columns)

    async def _assignees(self, batch: Sequence[Customer]) -> None:
        missing = list(
            dict.fromkeys(
                c.assigned_employee_id
                for c in batch
                if c.assigned_employee_id and c.assigned_employee_id not in self._employees
            )
        )
        if not missing:
            return
        async with self._deps.uow(read_only=True) as uow:
            found = await uow.employees.get_many(self._actor.organization_id, missing)
        self._employees.update(found)

    async def rows(self) -> AsyncGenerator[tuple[Cell, ...], None]:
        """One tuple per customer, in the list's order; audited when the rows end (whether
        every row was read or the consumer stopped)."""
        started = time.perf_counter()
        completed = False
        try:
            async for batch in self._source.batches(self._query, EXPORT_BATCH_SIZE):
                if self._needs_employee:
                    await self._assignees(batch)
                for customer in batch:
                    employee = self._employees.get(customer.assigned_employee_id or "")
                    row = tuple(column.value(customer, employee) for column in self.columns)
                    self.rows_written += 1  # handed out, whether or not the consumer goes on
                    yield row
            completed = True
        finally:
            await self._audit(completed, time.perf_counter() - started)

    async def _audit(self, completed: bool, seconds: float) -> None:
        actor = self._actor
        record = {
            "event": CustomersExported.name,
            "userId": actor.user_id,
            "organizationId": actor.organization_id,
            "role": actor.role.value,
            "format": self.file_format.value,
            "rows": self.rows_written,
            "fields": [c.key for c in self.columns],
            "filters": self.filters,
            "completed": completed,
            "durationMs": round(seconds * 1000, 1),
        }
        _audit.info(json.dumps(record, ensure_ascii=False))
        event = CustomersExported(
            organization_id=actor.organization_id,
            occurred_at=self._deps.clock.now(),
            user_id=actor.user_id,
            file_format=self.file_format.value,
            rows=self.rows_written,
            fields=tuple(c.key for c in self.columns),
            filters=dict(self.filters),
            completed=completed,
        )

        async def work(_uow: UnitOfWork) -> tuple[None, list[DomainEvent]]:
            return None, [event]

        try:
            # Its own (empty) transaction, so the commit hooks record it (the audit trail).
            await transaction_as(self._deps, actor, work)
        except Exception:  # the export already happened: a failed delivery must not hide it
            _audit.exception("publishing %s failed", CustomersExported.name)


async def start_export(deps: Dependencies, actor: Actor, request: ExportRequest) -> CustomerExport:
    """Check the caller and every parameter (403 / one 400 naming each bad one), then the
    prepared export of the customers the list would show the caller with these filters."""
    access.enforce(actor, Operation.READ_CUSTOMERS, resource_type="", resource_id="")
    scope = access.scope_filter(actor, Operation.READ_CUSTOMERS)
    # The list's own parsing and checks; paging is the export's business, the trash is not
    # exportable.
    params = attrs.evolve(request.filters, page=1, cursor="", deleted=False)
    errors: list[FieldError] = []
    zone = await deps.zone_of(actor.organization_id)
    try:
        query = customer_list_query(params, scope, zone)
    except ValidationFailed as bad:
        errors.extend(bad.errors)
    try:
        _columns(request.fields)
    except ValidationFailed as bad:
        errors.extend(bad.errors)
    if errors:
        raise ValidationFailed(errors)
    source = present(deps.export_source, "export_source")
    return CustomerExport(deps, actor, source, query, request, zone)
