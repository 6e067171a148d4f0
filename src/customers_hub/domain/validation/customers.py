"""The customer draft and patch, their field rules and cross-field checks."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final, TypeAlias

import attrs
from attrs import frozen

from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.enums import (
    CustomerSource,
    CustomerType,
    Furnishing,
    Gender,
    Priority,
    PropertyType,
    Purpose,
    Timeline,
)
from customers_hub.domain.fields import resolved_fields, without_none, write_mark
from customers_hub.domain.model import Customer, CustomerFields, Preferences
from customers_hub.domain.naming import camel_case, snake_case
from customers_hub.domain.patches import Patch
from customers_hub.domain.validation.identity import (
    _optional_text,
    _text_list,
    normalize_phone,
    normalize_tags,
    validate_email,
    validate_name,
    validate_national_id,
)
from customers_hub.domain.validation.texts import (
    CITY_MAX_LENGTH,
    DISTRICT_MAX_LENGTH,
    FREE_TEXT_MAX_LENGTH,
    ID_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NATIONALITY_MAX_LENGTH,
    SHORT_TEXT_MAX_LENGTH,
    Errors,
    FieldValidator,
    _label,
)
from customers_hub.domain.validation.values import (
    CONTRACT_MAX_YEARS_AHEAD,
    EARLIEST_RECORD_DATE,
    _area,
    _date_of_birth_rule,
    _date_range_rule,
    _enum_member,
    _latitude,
    _licence_expiry_rule,
    _longitude,
    _money,
    _positive_money,
    _rooms,
    whole_number_in,
    years_after,
)

# --------------------------------------------------------------------------------------------
# Inputs: the draft (create) and the patch (update)
# --------------------------------------------------------------------------------------------


CustomerDraft: TypeAlias = CustomerFields
"""The input of create customer: the writable fields, types parsed by the edge, business checks
still to run (:func:`validate_customer_draft`)."""


class PreferencesPatch(Patch, of=Preferences):
    """A partial update of :class:`Preferences`: sent keys replace, :data:`UNSET` keys keep.

    ``None`` clears a value (an empty tuple for the list fields).
    """

    __slots__ = ()


class CustomerPatch(Patch, of=CustomerFields):
    """A partial update of a customer's :class:`CustomerFields`: :data:`UNSET` = not sent,
    ``None`` = clear.

    ``name``, ``phone``, ``source`` and ``priority`` cannot be cleared (``None`` is an error);
    ``tags: None`` and ``source_details: None`` clear to empty; ``preferences`` is a
    :class:`PreferencesPatch` merged key by key, ``preferences: None`` resets every preference;
    ``ksa_compliance`` is replaced as a whole.
    """

    __slots__ = ()


# One rule per field, shared by the draft and the patch: (errors, value) -> normalized value.
# A rule receives a non-None value; None (absent on a draft, "clear" on a patch) never reaches it.
_Rule: TypeAlias = Callable[[Errors, Any], Any]


def _validator_rule(field_path: str, validator: FieldValidator[Any, Any]) -> _Rule:
    def rule(errors: Errors, value: Any) -> Any:
        result = errors.check(field_path, validator, value)
        return value if result is None else result

    return rule


def _text_rule(field_path: str, max_length: int, *, multiline: bool = False) -> _Rule:
    return lambda errors, value: _optional_text(
        errors, field_path, value, max_length=max_length, multiline=multiline
    )


def _list_rule(field_path: str) -> _Rule:
    return lambda errors, value: _text_list(errors, field_path, value)


SOURCE_DETAIL_KEY_MAX_LENGTH: Final = 100
"""Longest key of ``sourceDetails`` (a campaign name, a referrer…)."""


def _source_details_rule(errors: Errors, value: Any) -> Any:
    details: dict[str, str] = {}
    for key, item in dict(value).items():
        path = f"sourceDetails.{key}"
        name = errors.text(path, key, max_length=SOURCE_DETAIL_KEY_MAX_LENGTH, required=True)
        text = errors.text(path, item, max_length=SHORT_TEXT_MAX_LENGTH)
        if name is not None and text is not None:
            details[name] = text
    return details


def _optional_validator_rule(field_path: str, validator: FieldValidator[str, str]) -> _Rule:
    def rule(errors: Errors, value: Any) -> Any:
        if not value.strip():
            return None  # blank = not given / cleared
        result = errors.check(field_path, validator, value)
        return value if result is None else result

    return rule


def _enum_rule(field_path: str, cls: type[enum.Enum]) -> _Rule:
    return lambda errors, value: _enum_member(errors, field_path, cls, value) or value


def _property_types_rule(errors: Errors, value: Any) -> Any:
    members = (_enum_member(errors, "preferences.propertyType", PropertyType, v) for v in value)
    return tuple(dict.fromkeys(m for m in members if m is not None))


_PREFERENCE_RULES: Final[Mapping[str, _Rule]] = {
    "property_type": _property_types_rule,
    "budget_min": _validator_rule("preferences.budgetMin", _positive_money),
    "budget_max": _validator_rule("preferences.budgetMax", _positive_money),
    "preferred_areas": _list_rule("preferences.preferredAreas"),
    "preferred_cities": _list_rule("preferences.preferredCities"),
    "bedrooms": _validator_rule("preferences.bedrooms", _rooms),
    "bathrooms": _validator_rule("preferences.bathrooms", _rooms),
    "min_area": _validator_rule("preferences.minArea", _area),
    "max_area": _validator_rule("preferences.maxArea", _area),
    "purpose": _enum_rule("preferences.purpose", Purpose),
    "timeline": _enum_rule("preferences.timeline", Timeline),
    "amenities": _list_rule("preferences.amenities"),
    "furnishing": _enum_rule("preferences.furnishing", Furnishing),
}


COMPLIANCE_NUMBER_MAX_LENGTH: Final = 100
"""Longest EJAR contract, Wafi licence or Sakani beneficiary number."""
BANK_MAX_LENGTH: Final = 100
"""Longest bank name of a financing record."""


def _validate_ksa_compliance(errors: Errors, value: Any, today: date) -> Any:
    """The compliance records with every text cleaned and every date in its plausible range."""
    compliance: KsaCompliance = value
    ejar, wafi, sakani, financing = (
        compliance.ejar,
        compliance.wafi,
        compliance.sakani,
        compliance.financing,
    )
    contract_latest = years_after(today, CONTRACT_MAX_YEARS_AHEAD)
    if ejar is not None:
        prefix = "ksaCompliance.ejar"
        errors.check(f"{prefix}.annualRent", _positive_money, ejar.annual_rent)
        number = errors.text(
            f"{prefix}.contractNumber",
            ejar.contract_number,
            max_length=COMPLIANCE_NUMBER_MAX_LENGTH,
            required=True,
        )
        landlord = errors.text(
            f"{prefix}.landlordName", ejar.landlord_name, max_length=NAME_MAX_LENGTH
        )
        tenant = errors.text(f"{prefix}.tenantName", ejar.tenant_name, max_length=NAME_MAX_LENGTH)
        for name, day in (("startDate", ejar.start_date), ("endDate", ejar.end_date)):
            errors.check(
                f"{prefix}.{name}",
                _date_range_rule(EARLIEST_RECORD_DATE, contract_latest),
                day,
            )
        if not errors.has(f"{prefix}.startDate") and ejar.end_date <= ejar.start_date:
            errors.add(f"{prefix}.endDate", "EJAR contract must end after it starts")
        ejar = attrs.evolve(
            ejar,
            contract_number=number or ejar.contract_number,
            landlord_name=landlord or "",
            tenant_name=tenant or "",
        )
    if wafi is not None:
        prefix = "ksaCompliance.wafi"
        licence = errors.text(
            f"{prefix}.licenceNumber",
            wafi.licence_number,
            max_length=COMPLIANCE_NUMBER_MAX_LENGTH,
            required=True,
        )
        project = errors.text(
            f"{prefix}.projectName", wafi.project_name, max_length=NAME_MAX_LENGTH
        )
        if wafi.expires_on is not None:
            errors.check(f"{prefix}.expiresOn", _licence_expiry_rule(today), wafi.expires_on)
        wafi = attrs.evolve(
            wafi, licence_number=licence or wafi.licence_number, project_name=project or ""
        )
    if sakani is not None:
        prefix = "ksaCompliance.sakani"
        beneficiary = errors.text(
            f"{prefix}.beneficiaryNumber",
            sakani.beneficiary_number,
            max_length=COMPLIANCE_NUMBER_MAX_LENGTH,
        )
        if sakani.checked_on is not None:
            # A check is a past event.
            errors.check(
                f"{prefix}.checkedOn",
                _date_range_rule(EARLIEST_RECORD_DATE, today),
                sakani.checked_on,
            )
        sakani = attrs.evolve(sakani, beneficiary_number=beneficiary)
    if financing is not None:
        if financing.pre_approval_amount is not None:
            errors.check(
                "ksaCompliance.financing.preApprovalAmount", _money, financing.pre_approval_amount
            )
        bank = errors.text(
            "ksaCompliance.financing.bank", financing.bank, max_length=BANK_MAX_LENGTH
        )
        financing = attrs.evolve(financing, bank=bank)
    return attrs.evolve(compliance, ejar=ejar, wafi=wafi, sakani=sakani, financing=financing)


# Field rules of the customer; preferences and date of birth (needs today) are handled apart.
# A writable field not named here takes the rule of its type (_rule_of_type).
_OWN_RULES: Final[Mapping[str, _Rule]] = {
    "name": _validator_rule("name", validate_name),
    "phone": _validator_rule("phone", normalize_phone),
    "name_en": _optional_validator_rule("nameEn", validate_name),
    "whatsapp": _optional_validator_rule("whatsapp", normalize_phone),
    "email": _optional_validator_rule("email", validate_email),
    "national_id": _optional_validator_rule("nationalId", validate_national_id),
    "nationality": _text_rule("nationality", NATIONALITY_MAX_LENGTH),
    "gender": _enum_rule("gender", Gender),
    "source": _enum_rule("source", CustomerSource),
    "source_details": _source_details_rule,
    "priority": _enum_rule("priority", Priority),
    "customer_type": _enum_rule("customerType", CustomerType),
    "tags": lambda errors, value: normalize_tags(errors, value),
    "assigned_employee_id": _text_rule("assignedEmployeeId", ID_MAX_LENGTH),
    "city": _text_rule("city", CITY_MAX_LENGTH),
    "district": _text_rule("district", DISTRICT_MAX_LENGTH),
    "region": _text_rule("region", DISTRICT_MAX_LENGTH),
    "address": _text_rule("address", SHORT_TEXT_MAX_LENGTH),
    "latitude": _validator_rule("latitude", _latitude),
    "longitude": _validator_rule("longitude", _longitude),
    "notes": _text_rule("notes", FREE_TEXT_MAX_LENGTH, multiline=True),
    "total_deal_value": _validator_rule("totalDealValue", _money),
    "expected_revenue": _validator_rule("expectedRevenue", _money),
    "paid_amount": _validator_rule("paidAmount", _money),
}

# Rules that need the organization's local date: (errors, value, today) -> normalized value.
_DatedRule: TypeAlias = Callable[[Errors, Any, date], Any]
_DATED_RULES: Final[Mapping[str, _DatedRule]] = {
    "date_of_birth": lambda errors, value, today: (
        errors.check("dateOfBirth", _date_of_birth_rule(today), value) or value
    ),
    "ksa_compliance": _validate_ksa_compliance,
}


def _rule_of_type(attribute: attrs.Attribute[Any]) -> _Rule | None:
    """The rule of a writable field without one of its own: its type's, with the numbers of its
    :func:`~customers_hub.domain.fields.writable` mark. None: the parsed type is the rule."""
    path, kind, mark = (
        camel_case(attribute.name),
        without_none(attribute.type),
        write_mark(attribute),
    )
    if kind is str:
        if mark is None or mark.max_length is None:
            raise TypeError(f"{attribute.name}: a written text needs writable(max_length=...)")
        return _text_rule(path, mark.max_length, multiline=mark.multiline)
    if kind is int and mark is not None and mark.bounds is not None:
        return _validator_rule(path, whole_number_in(*mark.bounds))
    if kind is Decimal:
        return _validator_rule(path, _money)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _enum_rule(path, kind)
    return None


def _customer_rules() -> dict[str, _Rule]:
    rules: dict[str, _Rule] = {}
    for attribute in resolved_fields(CustomerFields):
        name = attribute.name
        if name in _OWN_RULES:
            rules[name] = _OWN_RULES[name]
        elif name not in _DATED_RULES and name != "preferences":
            rule = _rule_of_type(attribute)
            if rule is not None:
                rules[name] = rule
    return rules


_CUSTOMER_RULES: Final[Mapping[str, _Rule]] = _customer_rules()
"""Every writable field's rule but the preferences' and the dated ones, in declaration order."""

# Fields a customer always has: required on a draft, never cleared by a patch.
_REQUIRED: Final = frozenset({"name", "phone", "source", "priority"})
_CLEARED_TO: Final[Mapping[str, Callable[[], Any]]] = {
    "tags": tuple,
    "source_details": dict,
    "property_type": tuple,
    "preferred_areas": tuple,
    "preferred_cities": tuple,
    "amenities": tuple,
}


def _normalize_preferences(errors: Errors, preferences: Preferences) -> Preferences:
    changes = {
        name: rule(errors, getattr(preferences, name))
        for name, rule in _PREFERENCE_RULES.items()
        if getattr(preferences, name) is not None
    }
    return attrs.evolve(preferences, **changes)


def merge_preferences(current: Preferences, patch: PreferencesPatch | None) -> Preferences:
    """``current`` with the sent keys of ``patch`` replacing its values (``None`` = reset all)."""
    if patch is None:
        return Preferences()
    changes = {
        name: _CLEARED_TO[name]() if value is None and name in _CLEARED_TO else value
        for name, value in patch.given().items()
    }
    return attrs.evolve(current, **changes)


@frozen
class _Merged:
    """The values the cross-field rules read, and which of them the input sent."""

    budget_min: Decimal | None
    budget_max: Decimal | None
    min_area: Decimal | None
    max_area: Decimal | None
    total_deal_value: Decimal | None
    paid_amount: Decimal | None
    latitude: Decimal | None
    longitude: Decimal | None
    national_id: str | None
    ksa_compliance: KsaCompliance | None
    sent: frozenset[str]


_ORDERED_PAIRS: Final[tuple[tuple[str, str, Mapping[str, str]], ...]] = (
    # (the lower field, the higher field, the message of each in the order they are blamed)
    (
        "preferences.budgetMin",
        "preferences.budgetMax",
        {
            "preferences.budgetMax": "Budget maximum must be greater than or equal to budget "
            "minimum",
            "preferences.budgetMin": "Budget minimum must not exceed budget maximum",
        },
    ),
    (
        "preferences.minArea",
        "preferences.maxArea",
        {
            "preferences.maxArea": "Maximum area must be greater than or equal to minimum area",
            "preferences.minArea": "Minimum area must not exceed maximum area",
        },
    ),
    # The paid amount is part of the deal: it can reach the deal value, never exceed it.
    (
        "paidAmount",
        "totalDealValue",
        {
            "paidAmount": "Paid amount must not exceed total deal value",
            "totalDealValue": "Total deal value must not be less than the paid amount",
        },
    ),
)
"""The pairs whose lower value must not exceed the higher one (rules on ``_Merged``)."""


def _merged_value(merged: _Merged, field_path: str) -> Decimal | None:
    # ``preferences.budgetMin`` → ``merged.budget_min``
    value: Decimal | None = getattr(merged, snake_case(field_path.rsplit(".", 1)[-1]))
    return value


def _ordered_pair(
    errors: Errors, merged: _Merged, low_field: str, high_field: str, messages: Mapping[str, str]
) -> None:
    """Check ``low <= high``; blame the first field of ``messages`` that the input sent."""
    low_value = _merged_value(merged, low_field)
    high_value = _merged_value(merged, high_field)
    if low_value is None or high_value is None or high_value >= low_value:
        return
    if errors.has(low_field) or errors.has(high_field):
        return  # a field already wrong on its own: one message per field is enough
    blamed = next((f for f in messages if f in merged.sent), None)
    if blamed is not None:
        errors.add(blamed, messages[blamed])


def _cross_field_checks(errors: Errors, merged: _Merged) -> None:
    # Each rule runs only if one of its fields was sent: an update of the notes must not fail on
    # an inconsistency stored before these rules existed. When both fields were sent the error
    # goes to the one a person corrects: the budget maximum, the maximum area, the paid amount.
    for low_field, high_field, messages in _ORDERED_PAIRS:
        _ordered_pair(errors, merged, low_field, high_field, messages)
    # A location is a point: one coordinate without the other is no location.
    if merged.sent & {"latitude", "longitude"} and not (
        errors.has("latitude") or errors.has("longitude")
    ):
        if merged.latitude is None and merged.longitude is not None:
            errors.add("latitude", "Latitude and longitude must be given together")
        elif merged.longitude is None and merged.latitude is not None:
            errors.add("longitude", "Latitude and longitude must be given together")
    # An Iqama (starts with 2) belongs to a resident: financing cannot claim citizenship for it,
    # since citizenship lowers the SAMA minimum down payment.
    financing = merged.ksa_compliance.financing if merged.ksa_compliance else None
    if (
        merged.sent & {"nationalId", "ksaCompliance"}
        and merged.national_id is not None
        and not errors.has("nationalId")
        and financing is not None
        and financing.is_citizen
        and merged.national_id.startswith("2")
    ):
        errors.add(
            "ksaCompliance.financing.isCitizen",
            "A resident's ID (starting with 2) cannot belong to a citizen",
        )


_PREFERENCE_PATHS: Final = {name: f"preferences.{camel_case(name)}" for name in _PREFERENCE_RULES}


def validate_customer_draft(draft: CustomerDraft, today: date) -> CustomerDraft:
    """The normalized draft, or one :class:`ValidationFailed` naming every failing field.

    ``today`` is the organization's local date (the date of birth must not be after it, the
    compliance dates are ranged around it). Every text goes through :func:`clean_text`.
    """
    errors = Errors()
    changes: dict[str, Any] = {}
    for name, rule in _CUSTOMER_RULES.items():
        value = getattr(draft, name)
        if value is not None:
            changes[name] = rule(errors, value)
        elif name in _REQUIRED:
            path = camel_case(name)
            errors.add(path, f"{_label(path)} is required")
    for name, dated_rule in _DATED_RULES.items():
        value = getattr(draft, name)
        if value is not None:
            changes[name] = dated_rule(errors, value, today)
    preferences = _normalize_preferences(errors, draft.preferences)
    changes["preferences"] = preferences
    result = attrs.evolve(draft, **changes)
    _cross_field_checks(
        errors,
        _Merged(
            budget_min=preferences.budget_min,
            budget_max=preferences.budget_max,
            min_area=preferences.min_area,
            max_area=preferences.max_area,
            total_deal_value=result.total_deal_value,
            paid_amount=result.paid_amount,
            latitude=result.latitude,
            longitude=result.longitude,
            national_id=result.national_id,
            ksa_compliance=result.ksa_compliance,
            sent=frozenset(
                [camel_case(name) for name in (*_CUSTOMER_RULES, *_DATED_RULES)]
                + list(_PREFERENCE_PATHS.values())
            ),
        ),
    )
    errors.raise_if_any()
    return result


def _validate_preferences_patch(errors: Errors, patch: PreferencesPatch) -> PreferencesPatch:
    changes: dict[str, Any] = {}
    for name, value in patch.given().items():
        changes[name] = None if value is None else _PREFERENCE_RULES[name](errors, value)
    return patch.replace(**changes)


def validate_customer_patch(patch: CustomerPatch, current: Customer, today: date) -> CustomerPatch:
    """The normalized patch, or one :class:`ValidationFailed` naming every failing field.

    Only sent fields are checked, with the same rules as :func:`validate_customer_draft`. The
    cross-field rules (budget, area, paid amount, coordinates, citizenship) read the merged
    result: a sent ``budgetMin`` is checked against the current ``budgetMax``.
    """
    errors = Errors()
    changes: dict[str, Any] = {}
    sent: set[str] = set()
    for name, value in patch.given().items():
        path = camel_case(name)
        sent.add(path)
        if value is None:
            if name in _REQUIRED:
                errors.add(path, f"{_label(path)} cannot be cleared")
            continue
        if name == "preferences":
            changes[name] = _validate_preferences_patch(errors, value)
            sent.update(_PREFERENCE_PATHS[key] for key in value.given())
        elif name in _DATED_RULES:
            changes[name] = _DATED_RULES[name](errors, value, today)
        elif name in _CUSTOMER_RULES:
            changes[name] = _CUSTOMER_RULES[name](errors, value)
    result = patch.replace(**changes)

    merged = apply_customer_patch(current, result)
    _cross_field_checks(
        errors,
        _Merged(
            budget_min=merged.preferences.budget_min,
            budget_max=merged.preferences.budget_max,
            min_area=merged.preferences.min_area,
            max_area=merged.preferences.max_area,
            total_deal_value=merged.total_deal_value,
            paid_amount=merged.paid_amount,
            latitude=merged.latitude,
            longitude=merged.longitude,
            national_id=merged.national_id,
            ksa_compliance=merged.ksa_compliance,
            sent=frozenset(sent),
        ),
    )
    errors.raise_if_any()
    return result


def apply_customer_patch(current: Customer, patch: CustomerPatch) -> Customer:
    """``current`` with the sent fields of a (validated) ``patch`` applied.

    Preferences are merged with :func:`merge_preferences`; ``tags`` and ``source_details`` sent
    as ``None`` become empty. ``updated_at``, ``version``, the lead score and events are the use
    case's business, not this function's.
    """
    changes: dict[str, Any] = {}
    for name, value in patch.given().items():
        if name == "preferences":
            changes[name] = merge_preferences(current.preferences, value)
        elif value is None and name in _CLEARED_TO:
            changes[name] = _CLEARED_TO[name]()
        elif value is None and name in _REQUIRED:
            continue  # refused by validation; keep the current value
        else:
            changes[name] = value
    return attrs.evolve(current, **changes)
