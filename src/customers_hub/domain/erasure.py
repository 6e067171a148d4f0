"""The erasure of a customer's personal data (rules §8, PDPL), as data.

What an erasure does is written here once, as tables the adapters walk:

* :data:`CUSTOMER_FIELDS` — the customer's own personal fields (attribute paths, nested ones
  dotted) and what each becomes; a :class:`FieldRule` that is ``kept_when_restricted`` keeps its
  value on a *restricted* customer (below).
* :data:`RELATION_FIELDS` — the free text of the customer's relations, per relation (the
  relation's name, which is its table's) and column, and what it becomes. A relation missing
  from a deployment's schema is skipped by the adapter.
* :data:`ACTION_METADATA_KEPT` — the keys of an action's ``metadata`` that an erasure keeps
  (the system's own bookkeeping); every other key (``phoneNumber``, a client's own keys) goes.

Ids, stages and their dates, amounts, counters, tags and preferences are not personal: they stay,
so statistics are unchanged. Nothing here reads a clock or a database: :func:`erase` takes
``now`` and the organization's retention period.

**Restriction.** A customer with an EJAR contract, or whose sale reached ``closing``, keeps the
name and national id the contract needs (and the contract record itself) until the
organization's retention period ends (:func:`must_restrict`, :func:`restriction_end`); such a
customer is hidden from lists, search, duplicates and exports, and shown to admins only.
"""

from __future__ import annotations

import calendar
import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs
from attrs import frozen

from customers_hub.domain.audit import MASK, is_personal
from customers_hub.domain.enums import Stage
from customers_hub.domain.fields import personal_fields
from customers_hub.domain.model import Customer, CustomerFields
from customers_hub.domain.search_text import phone_digits

__all__ = [
    "ACTION_METADATA_KEPT",
    "CUSTOMER_FIELDS",
    "ERASED_LABEL",
    "ERASED_NAME",
    "ERASED_NAME_EN",
    "ERASED_PHONE",
    "RELATION_FIELDS",
    "RESTRICTING_STAGES",
    "ErasedCustomer",
    "FieldRule",
    "erase",
    "erased_metadata",
    "mask_personal_json",
    "must_restrict",
    "personal_values",
    "redact",
    "redact_json",
    "restriction_end",
    "scrub_json",
]

ERASED_NAME: Final = "عميل محذوف"
"""The name of an erased customer."""
ERASED_NAME_EN: Final = "Erased customer"
"""The English name of an erased customer."""
ERASED_PHONE: Final = ""
"""The phone of an erased customer: no number at all (the column is required; the live-phone
unique index leaves erased customers out, so any number of them may have it)."""
ERASED_LABEL: Final = "محذوف"
"""What a required free text of a relation (a title, a note's content) becomes."""

RESTRICTING_STAGES: Final = frozenset({Stage.CLOSING, Stage.POST_SALE})
"""A sale that reached one of these (now or in its history) has a contract to keep."""


@frozen
class FieldRule:
    """What one personal field becomes; ``kept_when_restricted`` keeps it on a restricted
    customer (the name and national id an EJAR contract or a closed sale needs)."""

    becomes: object = None
    kept_when_restricted: bool = False


CUSTOMER_FIELDS: Final[Mapping[str, FieldRule]] = {
    "name": FieldRule(ERASED_NAME, kept_when_restricted=True),
    "name_en": FieldRule(ERASED_NAME_EN),
    "phone": FieldRule(ERASED_PHONE),
    "whatsapp": FieldRule(),
    "email": FieldRule(),
    "national_id": FieldRule(kept_when_restricted=True),
    "date_of_birth": FieldRule(),
    "address": FieldRule(),
    "latitude": FieldRule(),
    "longitude": FieldRule(),
    "notes": FieldRule(),
    "source_details": FieldRule({}),  # a referrer's name, a campaign's contact
    # The EJAR contract names the tenant: it is what a restricted customer keeps.
    "ksa_compliance.ejar": FieldRule(kept_when_restricted=True),
    "ksa_compliance.sakani.beneficiary_number": FieldRule(),
    # Fields declared personal where they are declared (domain.fields.writable): cleared.
    **dict.fromkeys(personal_fields(CustomerFields), FieldRule()),
}
"""The customer's personal fields (attribute paths) and what each becomes."""

RELATION_FIELDS: Final[Mapping[str, Mapping[str, object]]] = {
    "stage_history": {"reason": None, "notes": None},
    "property_interests": {"notes": None, "feedback": None},
    "interactions": {"notes": ERASED_LABEL, "outcome": None},
    "appointments": {
        "title": ERASED_LABEL,
        "title_en": None,
        "location": None,  # often the customer's home
        "notes": None,
        "outcome": None,
    },
    "reminders": {"title": ERASED_LABEL, "title_en": None, "description": None},
    "documents": {"name": ERASED_LABEL, "description": None, "tags": []},
    "customer_actions": {
        # System actions' titles carry the customer's name ("مستندات مطلوبة من …").
        "customer_name": ERASED_NAME,
        "title": ERASED_LABEL,
        "description": None,
        "outcome": None,
        "dismiss_reason": None,
    },
    "action_notes": {"content": ERASED_LABEL},
    # Consents and data-subject requests (rules §8): the records stay, their notes go.
    "customer_consents": {"notes": None},
    "consent_events": {"notes": None},
    "privacy_requests": {"notes": None},
}
"""Free text of the customer's relations: relation → column → what it becomes."""

ACTION_METADATA_KEPT: Final = frozenset(
    {
        "autoGenerated",
        "trigger",
        "interactionId",
        "appointmentId",
        "fromStage",
        "toStage",
        "propertyIds",
        "matchScores",
    }
)
"""The system's own keys of an action's ``metadata``; an erasure drops every other one."""


def must_restrict(customer: Customer) -> bool:
    """True when the customer has an EJAR contract or its sale reached ``closing`` (now or in
    its history): its contract needs its name and national id (rules §8)."""
    compliance = customer.ksa_compliance
    if compliance is not None and compliance.ejar is not None:
        return True
    reached = {customer.stage, *(entry.to_stage for entry in customer.stage_history)}
    return not reached.isdisjoint(RESTRICTING_STAGES)


def restriction_end(erased_at: datetime, retention_years: int) -> datetime:
    """``erased_at`` plus ``retention_years`` calendar years (29 February becomes the 28th)."""
    year = erased_at.year + retention_years
    day = min(erased_at.day, calendar.monthrange(year, erased_at.month)[1])
    return erased_at.replace(year=year, day=day)


def _with(subject: Any, path: tuple[str, ...], value: object) -> Any:
    """``subject`` with the attribute at ``path`` set to ``value``; an absent (None) part on
    the way means there is nothing to erase there."""
    head, rest = path[0], path[1:]
    if not rest:
        return attrs.evolve(subject, **{head: copy.copy(value)})
    inner = getattr(subject, head)
    if inner is None:
        return subject
    return attrs.evolve(subject, **{head: _with(inner, rest, value)})


@frozen
class ErasedCustomer:
    """The outcome of :func:`erase`: the customer after it, and whether it is restricted."""

    customer: Customer
    restricted: bool


def erase(customer: Customer, *, now: datetime, retention_years: int) -> ErasedCustomer:
    """The customer with its personal fields replaced (:data:`CUSTOMER_FIELDS`), ``erased_at``
    set to ``now`` and, when :func:`must_restrict`, ``restricted_until`` to the end of the
    retention period. Relations are not part of the aggregate here: see
    :data:`RELATION_FIELDS`. An already erased customer is returned unchanged."""
    if customer.erased_at is not None:
        return ErasedCustomer(customer, customer.restricted_until is not None)
    restricted = must_restrict(customer)
    erased = customer
    for path, rule in CUSTOMER_FIELDS.items():
        if restricted and rule.kept_when_restricted:
            continue
        erased = _with(erased, tuple(path.split(".")), rule.becomes)
    erased = attrs.evolve(
        erased,
        erased_at=now,
        restricted_until=restriction_end(now, retention_years) if restricted else None,
        updated_at=now,
        version=customer.version + 1,
    )
    return ErasedCustomer(erased, restricted)


def erased_metadata(metadata: Mapping[str, object]) -> dict[str, object]:
    """An action's ``metadata`` with only :data:`ACTION_METADATA_KEPT` keys left."""
    return {k: v for k, v in metadata.items() if k in ACTION_METADATA_KEPT}


def personal_values(customer: Customer) -> tuple[str, ...]:
    """The customer's identifying texts as they may appear in free text elsewhere: names,
    phone numbers (E.164 and bare digits), e-mail and national id; longest first."""
    found: set[str] = set()
    for value in (customer.name, customer.name_en, customer.email, customer.national_id):
        if value:
            found.add(value)
    for phone in (customer.phone, customer.whatsapp):
        if phone:
            found.update({phone, phone_digits(phone)})
    found.discard("")
    return tuple(sorted(found, key=lambda v: (-len(v), v)))


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of ``values`` replaced by the mask."""
    for value in values:
        if value:
            text = text.replace(value, MASK)
    return text


def redact_json(value: Any, values: Iterable[str]) -> Any:
    """A JSON value with :func:`redact` applied to every string in it (keys stay)."""
    found = tuple(values)
    if isinstance(value, str):
        return redact(value, found)
    if isinstance(value, Mapping):
        return {k: redact_json(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, found) for v in value]
    return value


def scrub_json(value: Any, values: Iterable[str]) -> Any:
    """:func:`mask_personal_json`, then :func:`redact_json`: what a stored event or audit value
    of an erased customer becomes (a client's own metadata keys are caught by the values)."""
    return redact_json(mask_personal_json(value), values)


def mask_personal_json(value: Any) -> Any:
    """A JSON value with the value of every personal key (the audit trail's list, by the key's
    name) replaced by the mask, at any depth; null stays null."""
    if isinstance(value, Mapping):
        return {
            k: (MASK if v is not None else None) if is_personal(str(k)) else mask_personal_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_personal_json(v) for v in value]
    return value
