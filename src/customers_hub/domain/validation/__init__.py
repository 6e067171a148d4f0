"""Validation of Saudi identifiers and of customer input (rules §5).

The HTTP edge parses types (enums, ``Decimal``, ``date``); the checks here are the business ones,
and they report every failing field at once, named by its camelCase API path
(``preferences.budgetMin``), in one :class:`~customers_hub.domain.errors.ValidationFailed`.

Two inputs are validated: :class:`CustomerDraft` (create) and :class:`CustomerPatch` (partial
update, where :data:`UNSET` means "not sent" and ``None`` means "clear"). Both come back
normalized: E.164 phones, cleaned texts, lower-cased e-mail domain and tags.

Every text field of every use case (customers, employees, actions, relations, stage changes) goes
through the one :func:`clean_text` (NFC, trimmed, no control characters, the column's length);
every date or instant a person types is checked against the plausible ranges defined here
(:data:`EARLIEST_RECORD_DATE`, :data:`LICENCE_MAX_YEARS_AHEAD`, :data:`SCHEDULE_WINDOW`, …).
"""

from __future__ import annotations

from customers_hub.domain.unset import UNSET, Unset
from customers_hub.domain.validation.customers import (
    BANK_MAX_LENGTH,
    COMPLIANCE_NUMBER_MAX_LENGTH,
    SOURCE_DETAIL_KEY_MAX_LENGTH,
    CustomerDraft,
    CustomerPatch,
    PreferencesPatch,
    apply_customer_patch,
    merge_preferences,
    validate_customer_draft,
    validate_customer_patch,
)
from customers_hub.domain.validation.identity import (
    FAL_NUMBER_MAX_LENGTH,
    LIST_ITEM_MAX_LENGTH,
    NationalIdKind,
    national_id_check_digit,
    national_id_kind,
    normalize_phone,
    normalize_tags,
    validate_email,
    validate_fal_licence,
    validate_name,
    validate_national_id,
)
from customers_hub.domain.validation.texts import (
    CITY_MAX_LENGTH,
    DISTRICT_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    FREE_TEXT_MAX_LENGTH,
    GCC_REGIONS,
    ID_MAX_LENGTH,
    MONEY_MAX,
    NAME_MAX_LENGTH,
    NATIONALITY_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    OLDEST_AGE_YEARS,
    ROOMS_MAX,
    SHORT_TEXT_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    URL_MAX_LENGTH,
    Errors,
    FieldValidator,
    clean_text,
    clean_texts,
    refused_character,
)
from customers_hub.domain.validation.values import (
    CONTRACT_MAX_YEARS_AHEAD,
    EARLIEST_RECORD_DATE,
    INTERACTION_CLOCK_SKEW,
    LICENCE_MAX_YEARS_AHEAD,
    SCHEDULE_WINDOW,
    validate_date_of_birth,
    validate_date_range,
    validate_interaction_date,
    validate_licence_expiry,
    validate_money,
    validate_scheduled_at,
    years_after,
)

__all__ = [
    "BANK_MAX_LENGTH",
    "CITY_MAX_LENGTH",
    "COMPLIANCE_NUMBER_MAX_LENGTH",
    "CONTRACT_MAX_YEARS_AHEAD",
    "DISTRICT_MAX_LENGTH",
    "EARLIEST_RECORD_DATE",
    "EMAIL_MAX_LENGTH",
    "FAL_NUMBER_MAX_LENGTH",
    "FREE_TEXT_MAX_LENGTH",
    "GCC_REGIONS",
    "ID_MAX_LENGTH",
    "INTERACTION_CLOCK_SKEW",
    "LICENCE_MAX_YEARS_AHEAD",
    "LIST_ITEM_MAX_LENGTH",
    "MONEY_MAX",
    "NAME_MAX_LENGTH",
    "NATIONALITY_MAX_LENGTH",
    "NOTES_MAX_LENGTH",
    "OLDEST_AGE_YEARS",
    "ROOMS_MAX",
    "SCHEDULE_WINDOW",
    "SHORT_TEXT_MAX_LENGTH",
    "SOURCE_DETAIL_KEY_MAX_LENGTH",
    "TAGS_MAX_COUNT",
    "TAG_MAX_LENGTH",
    "UNSET",
    "URL_MAX_LENGTH",
    "CustomerDraft",
    "CustomerPatch",
    "Errors",
    "FieldValidator",
    "NationalIdKind",
    "PreferencesPatch",
    "Unset",
    "apply_customer_patch",
    "clean_text",
    "clean_texts",
    "merge_preferences",
    "national_id_check_digit",
    "national_id_kind",
    "normalize_phone",
    "normalize_tags",
    "refused_character",
    "validate_customer_draft",
    "validate_customer_patch",
    "validate_date_of_birth",
    "validate_date_range",
    "validate_email",
    "validate_fal_licence",
    "validate_interaction_date",
    "validate_licence_expiry",
    "validate_money",
    "validate_name",
    "validate_national_id",
    "validate_scheduled_at",
    "years_after",
]
