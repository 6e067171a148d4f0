"""Customer import as data (issue 12, rules §10): the job, the columns, one row → one draft.

Pure: no I/O, no clock. The application reads the file (``adapters/import_files.py``), calls
the functions here row by row and writes what they decide.

* **Fields.** :data:`IMPORT_FIELDS` is derived from :class:`~customers_hub.domain.validation.
  CustomerDraft` (and its :class:`~customers_hub.domain.model.Preferences`) by one generic
  walk over their attrs types, so a new draft field is importable without being spelled here.
  A field's key is its API path (``nameEn``, ``preferences.budgetMin``) — the export's column
  keys — and its cell text is parsed by its type: text, enum (value, English or Arabic label),
  list (``,``/``،``/``;`` separated), number, whole number, date. ``sourceDetails`` and
  ``ksaCompliance`` (nested records) are not importable from a flat row.
* **Headers.** :func:`default_mapping` maps each header to a field through
  :func:`header_aliases`: the key itself, its last path segment, its snake_case, English
  words and Arabic labels, compared in §6-normalized form (so ``رقم الجوال`` and ``رقم
  الجوال`` or ``Phone`` and ``PHONE`` are one header). Callers add aliases (the export's Arabic
  headers). An explicit ``mapping`` overrides the defaults column by column (``null`` ignores a
  column); :func:`resolve_mapping` checks it and reports each bad entry by name.
* **Rows.** :func:`parse_row` turns one row's cells into typed values and the cells that could
  not be parsed (each a :class:`RowError`); :func:`draft_of` and :func:`patch_of` build the
  create draft and the update patch from them. Validation proper is the draft's own
  (:func:`~customers_hub.domain.validation.validate_customer_draft`), the same as ``POST
  /customers``.
* **Duplicates.** :func:`row_keys` are the §10 keys of a validated draft (phone digits of the
  phone and the WhatsApp number as one key space, national id, case-folded e-mail: the keys of
  :mod:`customers_hub.domain.duplicates`); :func:`plan_row` decides what a row becomes from
  the keys the file already used and the organization's matches, per :class:`OnDuplicate`.

Row numbers are the spreadsheet's: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import Any, Final

import attrs
from attrs import frozen

from customers_hub.domain.duplicates import REASON_ORDER, DuplicateReason, email_key
from customers_hub.domain.enums import CustomerSource, LabelledEnum
from customers_hub.domain.fields import resolved_fields, without_none
from customers_hub.domain.model import Preferences
from customers_hub.domain.naming import camel_case, snake_case
from customers_hub.domain.search_text import normalize_search_text
from customers_hub.domain.unset import UNSET
from customers_hub.domain.validation import CustomerDraft, CustomerPatch, PreferencesPatch

__all__ = [
    "ARABIC_ALIASES",
    "DEFAULT_SOURCE",
    "ENGLISH_ALIASES",
    "IMPORT_FIELDS",
    "IMPORT_FIELD_KEYS",
    "REQUIRED_FIELDS",
    "ImportCounts",
    "ImportField",
    "ImportJob",
    "ImportStatus",
    "OnDuplicate",
    "ParsedRow",
    "RowDecision",
    "RowError",
    "RowKey",
    "RowOutcome",
    "default_mapping",
    "draft_of",
    "header_aliases",
    "header_key",
    "parse_row",
    "patch_of",
    "plan_row",
    "resolve_mapping",
    "row_keys",
]


class ImportStatus(StrEnum):
    """Where a job is: ``queued`` → ``running`` → ``completed`` | ``failed``."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """True for ``completed`` and ``failed``."""
        return self in (ImportStatus.COMPLETED, ImportStatus.FAILED)


class OnDuplicate(StrEnum):
    """What a row that matches an existing customer (or an earlier row) becomes."""

    SKIP = "skip"
    UPDATE = "update"
    CREATE = "create"


DEFAULT_SOURCE: Final = CustomerSource.IMPORT
"""The source of a row that names none."""


_HEADER_NOISE: Final = re.compile(r"[\s_\-.:/()*]+")


def header_key(text: str) -> str:
    """The compared form of a header or an enum label: §6-normalized (Arabic letter forms,
    diacritics, digits, case), without spaces, ``_``, ``-``, ``.``, ``:``, ``/``, ``*``."""
    return _HEADER_NOISE.sub("", normalize_search_text(text.strip().lstrip("\ufeff")))


# --- fields -----------------------------------------------------------------------------------

Parser = Callable[[str], Any]
"""Cell text (stripped, never empty) → typed value; raises :class:`ValueError` with the
message a person reads."""

_LIST_SPLIT: Final = re.compile(r"\s*[,،;]\s*")
_ARABIC_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_NUMBER_NOISE: Final = re.compile(r"[\s,٬_]")
_FORMULA_GUARD: Final = re.compile(r"'(?=[=@+\-\t\r])")


def _text(raw: str) -> str:
    # The export guards text that a spreadsheet would run as a formula with a leading "'".
    return raw[1:] if _FORMULA_GUARD.match(raw) else raw


def _decimal(raw: str) -> Decimal:
    text = _NUMBER_NOISE.sub("", raw.translate(_ARABIC_DIGITS))
    text = text.removesuffix("SAR").removesuffix("ر.س")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not value.is_finite():
        raise ValueError("must be a number")
    return value


def _whole(raw: str) -> int:
    value = _decimal(raw)
    if value != value.to_integral_value():
        raise ValueError("must be a whole number")
    return int(value)


_DATE_FORMATS: Final = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y")


def _date(raw: str) -> date:
    text = raw.translate(_ARABIC_DIGITS).strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    try:  # an instant (an XLSX date cell, an ISO datetime): its calendar day
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError("must be a date like 1990-05-31") from None


def _enum_parser(cls: type[Enum]) -> Parser:
    names: dict[str, Enum] = {}
    for member in cls:
        names[header_key(str(member.value))] = member
        if isinstance(member, LabelledEnum):
            names.setdefault(header_key(member.label), member)
            names.setdefault(header_key(member.label_en), member)
    allowed = ", ".join(str(m.value) for m in cls)

    def parse(raw: str) -> Enum:
        found = names.get(header_key(raw))
        if found is None:
            raise ValueError(f"must be one of: {allowed}")
        return found

    return parse


def _list_parser(item: Parser) -> Parser:
    def parse(raw: str) -> tuple[Any, ...]:
        return tuple(dict.fromkeys(item(part) for part in _LIST_SPLIT.split(raw) if part))

    return parse


def _parser_for(kind: Any) -> Parser | None:
    """The parser of a field of type ``kind`` (``None`` stripped), or None: not importable."""
    origin = typing.get_origin(kind)
    if origin is tuple:
        inner = _parser_for(typing.get_args(kind)[0])
        return _list_parser(inner) if inner is not None else None
    if isinstance(kind, type):
        if issubclass(kind, Enum):
            return _enum_parser(kind)
        if kind is str:
            return _text
        if kind is Decimal:
            return _decimal
        if kind is int:
            return _whole
        if kind is date:
            return _date
    return None


@frozen
class ImportField:
    """One importable field: its API path, the draft attribute it fills, its cell parser."""

    key: str
    attribute: str
    parse: Parser = attrs.field(eq=False, repr=False)
    in_preferences: bool = False


def _fields_of(cls: type, *, prefix: str = "") -> list[ImportField]:
    found: list[ImportField] = []
    for attribute in resolved_fields(cls):
        kind = without_none(attribute.type)
        if kind is Preferences:
            found.extend(_fields_of(Preferences, prefix="preferences."))
            continue
        parse = _parser_for(kind)
        if parse is None:
            continue  # a nested record or a mapping: not a cell
        found.append(
            ImportField(
                key=prefix + camel_case(attribute.name),
                attribute=attribute.name,
                parse=parse,
                in_preferences=bool(prefix),
            )
        )
    return found


IMPORT_FIELDS: Final[tuple[ImportField, ...]] = tuple(_fields_of(CustomerDraft))
"""Every importable field, in the draft's order."""

IMPORT_FIELD_KEYS: Final[tuple[str, ...]] = tuple(f.key for f in IMPORT_FIELDS)
"""The keys a ``mapping`` may name."""

_BY_KEY: Final[Mapping[str, ImportField]] = {f.key: f for f in IMPORT_FIELDS}

REQUIRED_FIELDS: Final = ("name", "phone")
"""Fields a file must have a column for (a row without them cannot be a customer)."""


# --- headers ----------------------------------------------------------------------------------

ENGLISH_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "name": ("full name", "customer name", "client name", "customer", "client", "lead"),
    "nameEn": ("english name", "name (english)", "latin name"),
    "phone": ("mobile", "mobile number", "phone number", "cell", "telephone", "tel", "msisdn"),
    "whatsapp": ("whatsapp number", "whats app"),
    "email": ("e-mail", "email address", "mail"),
    "nationalId": ("national id", "iqama", "id number", "national id number"),
    "dateOfBirth": ("birth date", "dob", "birthday"),
    "customerType": ("type", "client type"),
    "assignedEmployeeId": ("assignee", "assigned to", "owner id", "agent id"),
    "tags": ("labels",),
    "preferences.propertyType": ("property type", "property types"),
    "preferences.budgetMin": ("budget from", "min budget", "minimum budget"),
    "preferences.budgetMax": ("budget to", "max budget", "maximum budget", "budget"),
    "preferences.preferredAreas": ("areas", "preferred areas", "neighborhoods"),
    "preferences.preferredCities": ("cities", "preferred cities"),
    "preferences.bedrooms": ("rooms",),
    "notes": ("note", "comments", "remarks"),
}
"""English header words of other CRMs' exports and hand-made sheets, by field key."""

ARABIC_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "name": ("الاسم", "اسم العميل", "الاسم الكامل", "العميل"),
    "nameEn": ("الاسم بالانجليزي", "الاسم بالإنجليزية"),
    "phone": ("الجوال", "رقم الجوال", "الهاتف", "رقم الهاتف", "الموبايل", "رقم الموبايل", "جوال"),
    "whatsapp": ("واتساب", "رقم واتساب", "الواتساب"),
    "email": ("البريد الإلكتروني", "البريد", "الايميل", "الإيميل"),
    "nationalId": ("رقم الهوية", "الهوية", "رقم الإقامة", "الإقامة", "السجل المدني"),
    "nationality": ("الجنسية",),
    "gender": ("الجنس",),
    "dateOfBirth": ("تاريخ الميلاد",),
    "source": ("المصدر",),
    "priority": ("الأولوية",),
    "city": ("المدينة",),
    "district": ("الحي",),
    "region": ("المنطقة",),
    "address": ("العنوان",),
    "tags": ("الوسوم", "التصنيفات"),
    "notes": ("ملاحظات", "الملاحظات"),
    "preferences.propertyType": ("نوع العقار",),
    "preferences.budgetMin": ("الميزانية من", "أقل ميزانية"),
    "preferences.budgetMax": ("الميزانية إلى", "الميزانية", "أعلى ميزانية"),
    "preferences.bedrooms": ("عدد الغرف", "الغرف"),
    "preferences.purpose": ("الغرض",),
    "preferences.timeline": ("الإطار الزمني",),
}
"""Arabic headers, by field key (the export's own Arabic headers are added by the caller)."""


def header_aliases(extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Normalized header → field key: each key, its last segment and snake_case, the English
    and Arabic aliases, then ``extra`` ``(header, key)`` pairs (later ones win)."""
    aliases: dict[str, str] = {}
    for field in IMPORT_FIELDS:
        last = field.key.rsplit(".", 1)[-1]
        for text in (field.key, last, snake_case(last)):
            aliases.setdefault(header_key(text), field.key)
    for table in (ENGLISH_ALIASES, ARABIC_ALIASES):
        for key, words in table.items():
            for word in words:
                aliases[header_key(word)] = key
    for header, key in extra:
        if key in _BY_KEY:
            aliases[header_key(header)] = key
    return aliases


def default_mapping(headers: Sequence[str], aliases: Mapping[str, str]) -> dict[int, str]:
    """Column index → field key for the headers ``aliases`` knows; a field goes to its first
    column (a second column of the same field is ignored)."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        key = aliases.get(header_key(header))
        if key is not None and key not in taken:
            mapping[index] = key
            taken.add(key)
    return mapping


@frozen
class RowError:
    """One failing (or skipped) cell of a row: its row number, field path and message."""

    row: int
    field: str
    message: str


def resolve_mapping(
    headers: Sequence[str],
    explicit: Mapping[str, str | None] | None,
    aliases: Mapping[str, str],
) -> tuple[dict[int, str], list[RowError]]:
    """The columns to read (index → field key): the defaults, with ``explicit`` entries
    (header → field key, or None to ignore the column) replacing them. The errors (row 0,
    field ``mapping`` or ``mapping.<header>``) name an unknown header, an unknown field, a
    field given two columns, and a required field without a column."""
    mapping = default_mapping(headers, aliases)
    errors: list[RowError] = []
    positions = {header.strip().lstrip("\ufeff"): i for i, header in enumerate(headers)}
    chosen: dict[int, str | None] = {}
    for header, key in (explicit or {}).items():
        index = positions.get(header.strip())
        if index is None:
            errors.append(RowError(0, f"mapping.{header}", "no column of the file has this name"))
        elif key is not None and key.strip() and key not in _BY_KEY:
            expected = ", ".join(IMPORT_FIELD_KEYS)
            errors.append(
                RowError(
                    0, f"mapping.{header}", f"unknown field {key!r}; expected one of: {expected}"
                )
            )
        else:
            chosen[index] = key if key is not None and key.strip() else None
    # An explicit column of a field replaces the default column of that field.
    claimed = {key for key in chosen.values() if key is not None}
    mapping = {i: k for i, k in mapping.items() if i in chosen or k not in claimed}
    for index, key in chosen.items():
        if key is None:
            mapping.pop(index, None)
        else:
            mapping[index] = key
    seen: set[str] = set()
    for _, key in sorted(mapping.items()):
        if key in seen:
            errors.append(RowError(0, "mapping", f"{key} is given two columns"))
        seen.add(key)
    for key in REQUIRED_FIELDS:
        if key not in seen:
            errors.append(RowError(0, "mapping", f"no column for the required field {key}"))
    return mapping, errors


# --- rows -------------------------------------------------------------------------------------


@frozen
class ParsedRow:
    """One row's typed values (field key → value; empty cells left out) and its cell errors."""

    row: int
    values: Mapping[str, Any]
    errors: tuple[RowError, ...] = ()


def parse_row(row: int, cells: Sequence[str], mapping: Mapping[int, str]) -> ParsedRow:
    """Parse the mapped cells of one row (stripped; empty cells are absent values)."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for index, key in mapping.items():
        raw = cells[index].strip() if index < len(cells) and cells[index] is not None else ""
        if not raw:
            continue
        try:
            values[key] = _BY_KEY[key].parse(raw)
        except ValueError as bad:
            errors.append(RowError(row, key, str(bad)))
    return ParsedRow(row, values, tuple(errors))


def _split(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    top: dict[str, Any] = {}
    preferences: dict[str, Any] = {}
    for key, value in values.items():
        field = _BY_KEY[key]
        (preferences if field.in_preferences else top)[field.attribute] = value
    return top, preferences


def draft_of(values: Mapping[str, Any]) -> CustomerDraft:
    """The create draft of a row's values (:data:`DEFAULT_SOURCE` when it names no source;
    a missing name or phone stays empty, so validation names it)."""
    top, preferences = _split(values)
    top.setdefault("name", "")
    top.setdefault("phone", "")
    top.setdefault("source", DEFAULT_SOURCE)
    return CustomerDraft(**top, preferences=Preferences(**preferences))


def patch_of(values: Mapping[str, Any]) -> CustomerPatch:
    """The update patch of a row's values: the given cells only; an update never reassigns
    (``assignedEmployeeId`` is left out) and never changes the source."""
    top, preferences = _split(values)
    top.pop("assigned_employee_id", None)
    top.pop("source", None)
    return CustomerPatch(
        **top, preferences=PreferencesPatch(**preferences) if preferences else UNSET
    )


# --- duplicates -------------------------------------------------------------------------------

RowKey = tuple[DuplicateReason, str]
"""One duplicate key of a row: the reason it would give and the compared value."""


def row_keys(draft: CustomerDraft) -> tuple[RowKey, ...]:
    """The §10 keys of a validated draft, strongest first: national id, then the phone and the
    WhatsApp number (one key space: a phone equal to another's WhatsApp is the same number),
    then the case-folded e-mail."""
    keys: list[RowKey] = []
    if draft.national_id:
        keys.append((DuplicateReason.NATIONAL_ID, draft.national_id))
    for phone in dict.fromkeys(p for p in (draft.phone, draft.whatsapp) if p):
        keys.append((DuplicateReason.PHONE, phone))
    email = email_key(draft.email)
    if email is not None:
        keys.append((DuplicateReason.EMAIL, email))
    return tuple(keys)


class RowOutcome(StrEnum):
    """What a row becomes."""

    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    FAIL = "fail"


@frozen
class RowDecision:
    """A row's outcome; ``customer_id`` is the customer an ``update`` writes; ``errors``
    explain a ``skip`` or a ``fail``."""

    outcome: RowOutcome
    customer_id: str | None = None
    errors: tuple[RowError, ...] = ()


def _reason_field(reason: DuplicateReason) -> str:
    return {DuplicateReason.PHONE: "phone", DuplicateReason.EMAIL: "email"}.get(
        reason, "nationalId"
    )


def plan_row(
    row: int,
    draft: CustomerDraft,
    on_duplicate: OnDuplicate,
    *,
    earlier_rows: Mapping[RowKey, int],
    earlier_phones: Mapping[str, int],
    existing: Mapping[RowKey, str],
    existing_phones: Mapping[str, str],
    in_scope: Callable[[str], bool],
) -> RowDecision:
    """Decide a validated row.

    ``earlier_rows`` — keys of the file's earlier rows that were written (→ row number);
    ``earlier_phones`` — their phone numbers (→ row number); ``existing`` — keys of live
    customers of the organization (→ customer id); ``existing_phones`` — live customers'
    phone numbers (→ id), the one key that must stay unique; ``in_scope`` — whether the
    caller may update a customer.

    * a row sharing a key with an earlier row: ``skip`` and ``update`` skip it (the file's
      first row wins); ``create`` creates it, unless both have the same phone (``fail``, as
      ``POST /customers`` answers 409);
    * a row matching existing customers (the strongest reason wins): ``skip`` skips it;
      ``update`` updates that customer (``fail`` when outside the caller's scope, or when the
      row's phone is another customer's); ``create`` creates it unless its phone is a live
      customer's phone (``fail``);
    * otherwise ``create``.
    """
    keys = row_keys(draft)
    if on_duplicate is OnDuplicate.CREATE:
        first = earlier_phones.get(draft.phone)
        if first is not None:
            message = f"Row {first} already has this phone number"
            return RowDecision(RowOutcome.FAIL, errors=(RowError(row, "phone", message),))
        if draft.phone in existing_phones:
            message = "A customer with this phone number already exists"
            return RowDecision(RowOutcome.FAIL, errors=(RowError(row, "phone", message),))
        return RowDecision(RowOutcome.CREATE)
    earlier = next(((k, earlier_rows[k]) for k in keys if k in earlier_rows), None)
    if earlier is not None:
        (reason, _), first = earlier
        message = f"Duplicate of row {first} ({reason.value}); skipped"
        return RowDecision(RowOutcome.SKIP, errors=(RowError(row, _reason_field(reason), message),))
    matches = sorted(
        (
            (reason, existing[(reason, value)])
            for reason, value in keys
            if (reason, value) in existing
        ),
        key=lambda m: REASON_ORDER.index(m[0]),
    )
    if not matches:
        return RowDecision(RowOutcome.CREATE)
    reason, customer_id = matches[0]
    field = _reason_field(reason)
    visible = in_scope(customer_id)
    who = f"customer {customer_id}" if visible else "an existing customer outside your scope"
    if on_duplicate is OnDuplicate.SKIP:
        message = f"Duplicate of {who} ({reason.value}); skipped"
        return RowDecision(RowOutcome.SKIP, errors=(RowError(row, field, message),))
    if not visible:
        message = f"Duplicate of {who} ({reason.value}); not updated"
        return RowDecision(RowOutcome.FAIL, errors=(RowError(row, field, message),))
    owner = existing_phones.get(draft.phone)
    if owner is not None and owner != customer_id:
        message = (
            f"Customer {customer_id} matches this row, but this phone number is another customer's"
        )
        return RowDecision(RowOutcome.FAIL, errors=(RowError(row, "phone", message),))
    return RowDecision(RowOutcome.UPDATE, customer_id=customer_id)


# --- the job ----------------------------------------------------------------------------------


@frozen(kw_only=True)
class ImportCounts:
    """How many rows went where."""

    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0

    def __add__(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(
            **{
                a.name: getattr(self, a.name) + getattr(other, a.name)
                for a in attrs.fields(ImportCounts)
            }
        )


@frozen(kw_only=True)
class ImportJob:
    """An import: its file, options, progress and the runner holding it.

    ``next_row`` is the index (0-based, among the file's data rows) of the first row not yet
    committed: a resumed job starts there. ``lease_owner``/``lease_expires_at`` are the
    heartbeat of the runner working on it: a ``running`` job whose lease expired has lost its
    runner and is taken over (or failed after :data:`attempts` runs).
    """

    id: str
    organization_id: str
    created_by_id: str
    created_by_name: str
    created_by_role: str
    status: ImportStatus
    file_name: str
    file_format: str
    file_key: str
    mapping: Mapping[int, str]
    headers: tuple[str, ...]
    dry_run: bool
    on_duplicate: OnDuplicate
    create_actions: bool
    total_rows: int
    counts: ImportCounts = ImportCounts()
    next_row: int = 0
    attempts: int = 0
    error: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def ignored_columns(self) -> tuple[str, ...]:
        """Headers of the file that no field reads."""
        return tuple(h for i, h in enumerate(self.headers) if i not in self.mapping)
