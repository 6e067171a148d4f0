"""Rules §8 erasure as data (:mod:`customers_hub.domain.erasure`): each row of the customer's
field table, restriction, the retention end, action metadata, masking and redaction; and the
audit entry an erasure writes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest

from customers_hub.domain.audit import MASK, Change, EntityType, Write, entries_for
from customers_hub.domain.compliance import (
    EjarContract,
    Financing,
    KsaCompliance,
    SakaniEligibility,
    WafiLicence,
)
from customers_hub.domain.enums import CustomerSource, PaymentFrequency, Stage
from customers_hub.domain.erasure import (
    ACTION_METADATA_KEPT,
    CUSTOMER_FIELDS,
    ERASED_NAME,
    ERASED_NAME_EN,
    ERASED_PHONE,
    RELATION_FIELDS,
    erase,
    erased_metadata,
    mask_personal_json,
    must_restrict,
    personal_values,
    redact,
    restriction_end,
)
from customers_hub.domain.model import Customer, Preferences, StageChange

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CREATED = datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
EJAR = EjarContract(
    contract_number="EJ-2025-778812",
    landlord_name="مالك العقار",
    tenant_name="نوره القحطاني",
    start_date=date(2025, 2, 1),
    end_date=date(2026, 1, 31),
    annual_rent=Decimal("60000"),
    payment_frequency=PaymentFrequency.QUARTERLY,
)


def _history(*stages: Stage) -> tuple[StageChange, ...]:
    previous: Stage | None = None
    entries = []
    for n, stage in enumerate(stages):
        entries.append(
            StageChange(
                id=f"h{n}",
                from_stage=previous,
                to_stage=stage,
                changed_by="System",
                changed_by_id="system",
                changed_at=CREATED,
                notes="اتصلت نوره من جوالها",
                reason="طلب العميل",
            )
        )
        previous = stage
    return tuple(entries)


def customer(**changes: object) -> Customer:
    """A customer with every personal field set."""
    base = Customer(
        id="cus_1",
        organization_id="org_1",
        name="نوره القحطاني",
        name_en="Noura Alqahtani",
        phone="+966551234567",
        whatsapp="+966551234568",
        email="noura@example.com",
        national_id="1012345678",
        nationality="SA",
        employer="وزارة الصحة",
        date_of_birth=date(1990, 5, 2),
        address="حي الملقا، شارع ١٢",
        latitude=Decimal("24.8"),
        longitude=Decimal("46.6"),
        notes="تفضل الاتصال مساءً",
        source=CustomerSource.REFERRAL,
        source_details={"referrer": "سعد القحطاني"},
        stage=Stage.NEGOTIATION,
        stage_history=_history(Stage.NEW_LEAD, Stage.QUALIFIED),
        city="الرياض",
        district="الملقا",
        tags=("vip",),
        preferences=Preferences(budget_max=Decimal("900000")),
        total_deal_value=Decimal("850000"),
        paid_amount=Decimal("10000"),
        total_interactions=4,
        lead_score=61,
        ksa_compliance=KsaCompliance(
            sakani=SakaniEligibility(eligible=True, beneficiary_number="BN-99812"),
            financing=Financing(bank="الراجحي", redf_supported=True),
            wafi=WafiLicence(licence_number="W-1", project_name="مشروع"),
        ),
        created_at=CREATED,
        updated_at=CREATED,
        version=7,
    )
    return attrs.evolve(base, **changes)


def _at(subject: object, path: str) -> object:
    for part in path.split("."):
        if subject is None:
            return None
        subject = getattr(subject, part)
    return subject


# --- the customer's field table, row by row ------------------------------------------------


# An EJAR contract makes its holder restricted (it keeps the contract): that row is checked on
# restricted customers only.
_UNRESTRICTED_ROWS = [(p, r) for p, r in CUSTOMER_FIELDS.items() if p != "ksa_compliance.ejar"]


@pytest.mark.parametrize(("path", "rule"), _UNRESTRICTED_ROWS)
def test_each_personal_field_becomes_its_erased_value(path: str, rule: object) -> None:
    before = customer()
    assert _at(before, path) not in (None, "", {}), "the fixture sets every personal field"
    after = erase(before, now=NOW, retention_years=10).customer
    assert _at(after, path) == CUSTOMER_FIELDS[path].becomes


@pytest.mark.parametrize(("path", "rule"), list(CUSTOMER_FIELDS.items()))
def test_a_restricted_customer_keeps_exactly_the_fields_marked_kept(
    path: str, rule: object
) -> None:
    before = customer(ksa_compliance=KsaCompliance(ejar=EJAR, sakani=SakaniEligibility(True, "B1")))
    after = erase(before, now=NOW, retention_years=10).customer
    if CUSTOMER_FIELDS[path].kept_when_restricted:
        assert _at(after, path) == _at(before, path)
    else:
        assert _at(after, path) == CUSTOMER_FIELDS[path].becomes


def test_the_erased_names_and_phone_are_the_documented_ones() -> None:
    after = erase(customer(), now=NOW, retention_years=10).customer
    assert (after.name, after.name_en, after.phone) == (
        "عميل محذوف",
        "Erased customer",
        ERASED_PHONE,
    )
    assert (ERASED_NAME, ERASED_NAME_EN) == ("عميل محذوف", "Erased customer")


def test_what_is_not_personal_stays_so_statistics_do_not_move() -> None:
    before = customer()
    after = erase(before, now=NOW, retention_years=10).customer
    personal = {path.split(".")[0] for path in CUSTOMER_FIELDS}
    bookkeeping = {"erased_at", "restricted_until", "updated_at", "version"}
    for attribute in attrs.fields(Customer):
        if attribute.name not in personal | bookkeeping:
            assert getattr(after, attribute.name) == getattr(before, attribute.name), attribute
    kept = after.ksa_compliance
    assert kept is not None
    assert before.ksa_compliance is not None
    assert kept.financing == before.ksa_compliance.financing
    assert kept.wafi == before.ksa_compliance.wafi
    assert kept.sakani == SakaniEligibility(eligible=True, beneficiary_number=None)


def test_erase_stamps_the_time_and_moves_the_version() -> None:
    after = erase(customer(), now=NOW, retention_years=10).customer
    assert (after.erased_at, after.updated_at, after.version) == (NOW, NOW, 8)
    assert after.restricted_until is None
    assert not after.is_restricted


def test_a_second_erase_changes_nothing() -> None:
    once = erase(customer(), now=NOW, retention_years=10).customer
    later = datetime(2027, 1, 1, tzinfo=UTC)
    twice = erase(once, now=later, retention_years=3)
    assert twice.customer is once
    assert not twice.restricted


def test_absent_nested_records_are_left_absent() -> None:
    after = erase(customer(ksa_compliance=None), now=NOW, retention_years=10).customer
    assert after.ksa_compliance is None


# --- restriction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "restricted"),
    [
        ({}, False),
        ({"ksa_compliance": KsaCompliance(ejar=EJAR)}, True),
        ({"stage": Stage.CLOSING}, True),
        ({"stage": Stage.POST_SALE}, True),
        ({"stage": Stage.DOWN_PAYMENT}, False),
        # Reached closing once, then moved back (a re-opened sale): the contract exists.
        (
            {
                "stage": Stage.NEGOTIATION,
                "stage_history": _history(Stage.NEW_LEAD, Stage.CLOSING, Stage.NEGOTIATION),
            },
            True,
        ),
    ],
)
def test_must_restrict_follows_the_ejar_contract_and_closing(
    changes: dict[str, object], restricted: bool
) -> None:
    subject = customer(**changes)
    assert must_restrict(subject) is restricted
    erased = erase(subject, now=NOW, retention_years=10)
    assert erased.restricted is restricted
    assert erased.customer.is_restricted is restricted
    expected_until = datetime(2036, 3, 1, 9, 30, tzinfo=UTC) if restricted else None
    assert erased.customer.restricted_until == expected_until


@pytest.mark.parametrize(
    ("erased_at", "years", "until"),
    [
        (datetime(2026, 3, 1, 9, 30, tzinfo=UTC), 10, datetime(2036, 3, 1, 9, 30, tzinfo=UTC)),
        (datetime(2024, 2, 29, 12, 0, tzinfo=UTC), 1, datetime(2025, 2, 28, 12, 0, tzinfo=UTC)),
        (datetime(2024, 2, 29, 12, 0, tzinfo=UTC), 4, datetime(2028, 2, 29, 12, 0, tzinfo=UTC)),
        (
            datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
            30,
            datetime(2056, 12, 31, 23, 59, tzinfo=UTC),
        ),
    ],
)
def test_restriction_ends_after_the_retention_years(
    erased_at: datetime, years: int, until: datetime
) -> None:
    assert restriction_end(erased_at, years) == until


# --- relations, metadata, masking --------------------------------------------------------------


def test_every_relation_rule_names_only_text_columns_or_clears_them() -> None:
    for relation, columns in RELATION_FIELDS.items():
        assert columns, relation
        for column, value in columns.items():
            assert value in (None, [], ERASED_NAME) or isinstance(value, str), (relation, column)


@pytest.mark.parametrize(
    ("metadata", "kept"),
    [
        ({}, {}),
        (
            {"autoGenerated": True, "trigger": "customer.created", "phoneNumber": "+966551234567"},
            {"autoGenerated": True, "trigger": "customer.created"},
        ),
        (
            {"propertyIds": ["p1"], "matchScores": {"p1": 80}},
            {"propertyIds": ["p1"], "matchScores": {"p1": 80}},
        ),
        ({"callerName": "نوره", "interactionId": "int_1"}, {"interactionId": "int_1"}),
    ],
)
def test_action_metadata_keeps_the_systems_keys_only(
    metadata: dict[str, object], kept: dict[str, object]
) -> None:
    assert erased_metadata(metadata) == kept
    assert set(erased_metadata(metadata)) <= ACTION_METADATA_KEPT


def test_mask_personal_json_masks_personal_keys_at_any_depth() -> None:
    payload = {
        "event": "customer.updated",
        "data": {
            "customerId": "cus_1",
            "changes": {"name": "نوره", "phone": "+966551234567", "stage": "qualified"},
            "items": [{"notes": "x", "title": None}],
        },
    }
    assert mask_personal_json(payload) == {
        "event": "customer.updated",
        "data": {
            "customerId": "cus_1",
            "changes": {"name": MASK, "phone": MASK, "stage": "qualified"},
            "items": [{"notes": MASK, "title": None}],
        },
    }


def test_personal_values_and_redact_cover_every_phone_form() -> None:
    values = personal_values(customer())
    for value in ("نوره القحطاني", "+966551234567", "966551234567", "noura@example.com"):
        assert value in values
    text = "طلب نوره القحطاني عبر 966551234567 و noura@example.com والهوية 1012345678"
    redacted = redact(text, values)
    for value in values:
        assert value not in redacted
    assert redacted.startswith("طلب ")


# --- the audit entry of an erasure -------------------------------------------------------------


def test_the_erasure_entry_is_customer_erased_with_masked_values_only() -> None:
    before = customer()
    after = erase(before, now=NOW, retention_years=10).customer
    (entry,) = entries_for(
        [Change(Write.UPDATE, EntityType.CUSTOMER, "org_1", "cus_1", "cus_1", before, after)]
    )
    assert entry.action == "customer.erased"
    shown = repr([c.to_json() for c in entry.changes])
    for value in personal_values(before):
        assert value not in shown
    fields = {c.field for c in entry.changes}
    assert {"name", "phone", "nationalId", "erasedAt"} <= fields
