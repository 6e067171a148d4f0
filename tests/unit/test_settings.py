"""Organization settings (rules §9): the domain's rules row by row, and the use cases on the
fakes — every member reads, admins write, a partial update names every failing field and
changes nothing, another organization's settings are never read or changed."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from attrs import fields, frozen
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.application.context import Dependencies, HubSettings
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.use_cases.settings import (
    default_settings,
    get_organization_settings,
    update_organization_settings,
)
from customers_hub.domain.errors import PermissionDenied, ValidationFailed
from customers_hub.domain.events import OrganizationSettingsUpdated
from customers_hub.domain.model import Actor
from customers_hub.domain.settings import (
    RETENTION_YEARS_MAX,
    RETENTION_YEARS_MIN,
    SETTING_RULES,
    OrganizationSettings,
    OrganizationSettingsRecord,
    SettingsPatch,
    apply_settings_patch,
    changed_settings,
    is_time_zone,
    settings_errors,
    time_zone_names,
)
from customers_hub.domain.unset import UNSET
from customers_hub.testing import actor_for
from customers_hub.testing.fakes import (
    DEFAULT_NOW,
    InMemoryStore,
    RecordingPublisher,
    Staff,
    build_fake_dependencies,
    seed_staff,
)

ORG, OTHER_ORG = "org_a", "org_b"
E = TypeVar("E", bound=BaseException)


# --- the domain: defaults and each rule, row by row -----------------------------------------


def test_the_defaults_are_section_9s() -> None:
    settings = OrganizationSettings()
    assert settings.time_zone == "Asia/Riyadh"
    assert settings.require_fal_licence is False
    assert settings.currency == "SAR"
    assert settings.retention_years == 10
    values = {a.name: getattr(settings, a.name) for a in fields(OrganizationSettings)}
    assert settings_errors(values) == ()


def test_every_setting_has_a_rule_named_by_its_api_field() -> None:
    assert list(SETTING_RULES) == [a.name for a in fields(OrganizationSettings)]
    assert [field for field, _ in SETTING_RULES.values()] == [
        "timeZone",
        "requireFalLicence",
        "currency",
        "retentionYears",
    ]
    # The patch carries exactly the settings.
    assert [a.name for a in fields(SettingsPatch)] == list(SETTING_RULES)


# (attribute, value, accepted)
RULE_ROWS: list[tuple[str, Any, bool]] = [
    ("time_zone", "Asia/Riyadh", True),
    ("time_zone", "Asia/Dubai", True),
    ("time_zone", "Africa/Cairo", True),
    ("time_zone", "America/Argentina/Buenos_Aires", True),
    ("time_zone", "Etc/GMT-3", True),
    ("time_zone", "UTC", True),
    ("time_zone", "asia/riyadh", False),  # names are exact
    ("time_zone", " Asia/Riyadh", False),
    ("time_zone", "Asia/Riyad", False),
    ("time_zone", "Asia/", False),
    ("time_zone", "+03:00", False),
    ("time_zone", "../../etc/passwd", False),
    ("time_zone", "localtime", False),  # a file of the host, not a zone
    ("time_zone", "posixrules", False),
    ("time_zone", "Factory", False),
    ("time_zone", "", False),
    ("time_zone", None, False),
    ("time_zone", 3, False),
    ("require_fal_licence", True, True),
    ("require_fal_licence", False, True),
    ("require_fal_licence", "true", False),
    ("require_fal_licence", 1, False),
    ("require_fal_licence", None, False),
    ("currency", "SAR", True),
    ("currency", "AED", True),
    ("currency", "USD", True),
    ("currency", "sar", False),
    ("currency", "SA", False),
    ("currency", "SARR", False),
    ("currency", "S1R", False),
    ("currency", "ريال", False),
    ("currency", " SAR", False),
    ("currency", "SAR\n", False),
    ("currency", "", False),
    ("currency", None, False),
    ("retention_years", RETENTION_YEARS_MIN, True),
    ("retention_years", 10, True),
    ("retention_years", RETENTION_YEARS_MAX, True),
    ("retention_years", RETENTION_YEARS_MIN - 1, False),
    ("retention_years", RETENTION_YEARS_MAX + 1, False),
    ("retention_years", -5, False),
    ("retention_years", 2.5, False),
    ("retention_years", True, False),  # a bool is no number of years
    ("retention_years", "10", False),
    ("retention_years", None, False),
]


@pytest.mark.parametrize(("name", "value", "accepted"), RULE_ROWS)
def test_each_rule_row(name: str, value: Any, accepted: bool) -> None:
    errors = settings_errors({name: value})
    if accepted:
        assert errors == ()
    else:
        assert [e.field for e in errors] == [SETTING_RULES[name][0]]
        assert errors[0].message


def test_every_rule_has_rows_both_ways() -> None:
    for name in SETTING_RULES:
        outcomes = {accepted for row_name, _, accepted in RULE_ROWS if row_name == name}
        assert outcomes == {True, False}, name


def test_time_zone_names_are_exactly_what_is_accepted() -> None:
    names = time_zone_names()
    assert list(names) == sorted(set(names))
    assert "Asia/Riyadh" in names
    assert {"localtime", "posixrules", "Factory"}.isdisjoint(names)
    for name in names:
        assert is_time_zone(name)
        ZoneInfo(name)  # every accepted name loads


def test_a_patch_keeps_what_it_does_not_send() -> None:
    current = OrganizationSettings(time_zone="Asia/Dubai", currency="AED", retention_years=7)
    assert apply_settings_patch(current, SettingsPatch()) == current
    changed = apply_settings_patch(current, SettingsPatch(require_fal_licence=True))
    assert changed == OrganizationSettings(
        time_zone="Asia/Dubai", currency="AED", retention_years=7, require_fal_licence=True
    )


def test_a_patch_names_every_failing_field_at_once() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_settings_patch(
            OrganizationSettings(),
            SettingsPatch(
                time_zone="Mars/Olympus",
                require_fal_licence=True,
                currency="riyal",
                retention_years=0,
            ),
        )
    assert [e.field for e in failed.value.errors] == ["timeZone", "currency", "retentionYears"]


def test_only_sent_fields_are_judged() -> None:
    # A stored value from before a rule existed never blocks an unrelated change.
    legacy = OrganizationSettings(retention_years=99)
    changed = apply_settings_patch(legacy, SettingsPatch(currency="AED"))
    assert changed.retention_years == 99
    assert changed.currency == "AED"


def test_changed_settings_names_the_changed_api_fields() -> None:
    before = OrganizationSettings()
    after = OrganizationSettings(time_zone="Asia/Dubai", require_fal_licence=True)
    assert changed_settings(before, after) == {
        "timeZone": "Asia/Dubai",
        "requireFalLicence": True,
    }
    assert changed_settings(after, after) == {}


@given(st.sampled_from(time_zone_names()), st.datetimes(timezones=st.just(UTC)))
def test_local_today_is_the_day_in_the_zone(zone: str, now: datetime) -> None:
    settings = OrganizationSettings(time_zone=zone)
    assert settings.local_today(now) == now.astimezone(ZoneInfo(zone)).date()


def test_local_today_moves_with_the_zone() -> None:
    late = datetime(2025, 1, 15, 22, 30, tzinfo=UTC)  # 01:30 on the 16th in Riyadh
    assert OrganizationSettings().local_today(late) == date(2025, 1, 16)
    assert OrganizationSettings(time_zone="Europe/London").local_today(late) == date(2025, 1, 15)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (ZoneInfo("Asia/Riyadh"), "Asia/Riyadh"),
        (ZoneInfo("Asia/Dubai"), "Asia/Dubai"),
        (timezone(timedelta(hours=3)), "Asia/Riyadh"),  # a fixed offset has no IANA name
    ],
)
def test_the_configured_zone_is_the_default(configured: Any, expected: str) -> None:
    assert default_settings(configured) == OrganizationSettings(time_zone=expected)


# --- the use cases on the fakes -------------------------------------------------------------


@frozen
class Env:
    deps: Dependencies
    store: InMemoryStore
    publisher: RecordingPublisher
    staff: Staff
    other: Staff

    def actor(self, key: str, staff: Staff | None = None) -> Actor:
        return actor_for(getattr(staff or self.staff, key))


@pytest.fixture
def env() -> Env:
    settings = HubSettings(time_zone=ZoneInfo("Asia/Dubai"))  # the deployment's zone
    deps, store, publisher, _ = build_fake_dependencies(settings=settings)
    return Env(
        deps, store, publisher, seed_staff(store, ORG), seed_staff(store, OTHER_ORG, prefix="b")
    )


async def refused(env: Env, error: type[E], call: Awaitable[object]) -> E:
    before = env.store.copy()
    published = len(env.publisher.events)
    with pytest.raises(error) as caught:
        await call
    assert env.store == before
    assert len(env.publisher.events) == published
    return caught.value


@pytest.mark.parametrize("who", ["admin", "manager", "agent", "outsider", "viewer"])
async def test_every_member_reads_the_defaults_with_the_configured_zone(env: Env, who: str) -> None:
    record = await get_organization_settings(env.deps, env.actor(who))
    assert record == OrganizationSettingsRecord(
        organization_id=ORG, settings=OrganizationSettings(time_zone="Asia/Dubai")
    )
    assert env.store.organization_settings == {}  # reading stores nothing


async def test_an_admin_changes_the_sent_fields_and_the_change_is_published(env: Env) -> None:
    admin = env.actor("admin")
    saved = await update_organization_settings(
        env.deps, admin, SettingsPatch(require_fal_licence=True, retention_years=12)
    )
    assert saved == OrganizationSettingsRecord(
        organization_id=ORG,
        settings=OrganizationSettings(
            time_zone="Asia/Dubai", require_fal_licence=True, retention_years=12
        ),
        version=1,
        updated_at=DEFAULT_NOW,
        updated_by=admin.user_id,
    )
    assert env.store.organization_settings[ORG] == saved
    assert await get_organization_settings(env.deps, env.actor("viewer")) == saved
    (event,) = env.publisher.events
    assert event == OrganizationSettingsUpdated(
        organization_id=ORG,
        occurred_at=DEFAULT_NOW,
        updated_by=admin.user_id,
        changes={"requireFalLicence": True, "retentionYears": 12},
    )
    assert event.name == "organization.settings_updated"

    again = await update_organization_settings(
        env.deps, admin, SettingsPatch(time_zone="Asia/Riyadh")
    )
    assert again.version == 2
    assert again.settings == OrganizationSettings(
        time_zone="Asia/Riyadh", require_fal_licence=True, retention_years=12
    )
    last = env.publisher.events[-1]
    assert isinstance(last, OrganizationSettingsUpdated)
    assert last.changes == {"timeZone": "Asia/Riyadh"}


async def test_a_change_that_changes_nothing_stores_and_publishes_nothing(env: Env) -> None:
    admin = env.actor("admin")
    unchanged = await update_organization_settings(env.deps, admin, SettingsPatch(currency="SAR"))
    assert unchanged.version == 0
    assert env.store.organization_settings == {}
    assert env.publisher.events == []
    await update_organization_settings(env.deps, admin, SettingsPatch(currency="AED"))
    commits = env.store.commits
    same = await update_organization_settings(env.deps, admin, SettingsPatch(currency="AED"))
    assert same.version == 1
    assert len(env.publisher.events) == 1
    assert env.store.commits == commits + 1  # committed an empty transaction, wrote nothing


async def test_bad_input_names_every_field_and_changes_nothing(env: Env) -> None:
    admin = env.actor("admin")
    await update_organization_settings(env.deps, admin, SettingsPatch(currency="AED"))
    failure = await refused(
        env,
        ValidationFailed,
        update_organization_settings(
            env.deps,
            admin,
            SettingsPatch(time_zone="Riyadh", currency="AED", retention_years=500),
        ),
    )
    assert [e.field for e in failure.errors] == ["timeZone", "retentionYears"]


@pytest.mark.parametrize("who", ["manager", "agent", "viewer"])
async def test_only_admins_change_settings(env: Env, who: str) -> None:
    denied = await refused(
        env,
        PermissionDenied,
        update_organization_settings(
            env.deps, env.actor(who), SettingsPatch(require_fal_licence=True)
        ),
    )
    assert denied.required_permission == "role"
    assert denied.current_role == env.actor(who).role.value


async def test_access_is_checked_before_the_input(env: Env) -> None:
    await refused(
        env,
        PermissionDenied,
        update_organization_settings(env.deps, env.actor("viewer"), SettingsPatch(currency="x")),
    )


async def test_organizations_never_see_or_change_each_others_settings(env: Env) -> None:
    other_admin = env.actor("admin", env.other)
    await update_organization_settings(
        env.deps, other_admin, SettingsPatch(time_zone="Europe/London", currency="GBP")
    )
    mine = await get_organization_settings(env.deps, env.actor("admin"))
    assert mine.organization_id == ORG
    assert mine.settings == OrganizationSettings(time_zone="Asia/Dubai")

    await update_organization_settings(
        env.deps, env.actor("admin"), SettingsPatch(retention_years=3)
    )
    theirs = await get_organization_settings(env.deps, actor_for(env.other.viewer))
    assert theirs.settings == OrganizationSettings(time_zone="Europe/London", currency="GBP")
    assert theirs.version == 1
    assert set(env.store.organization_settings) == {ORG, OTHER_ORG}


async def test_a_concurrent_save_is_retried_on_fresh_settings(env: Env) -> None:
    admin = env.actor("admin")
    env.store.fail_next_commits(1)
    saved = await update_organization_settings(env.deps, admin, SettingsPatch(currency="AED"))
    assert saved.version == 1
    assert env.store.organization_settings[ORG].settings.currency == "AED"
    assert len(env.publisher.events) == 1  # published once, after the commit that counted


async def test_a_moved_version_is_a_concurrent_update(env: Env) -> None:
    admin = env.actor("admin")
    first = await update_organization_settings(env.deps, admin, SettingsPatch(currency="AED"))
    async with env.deps.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.organization_settings.save(first, expected_version=0)
        with pytest.raises(ConcurrentUpdate):
            await uow.organization_settings.save(first, expected_version=2)


async def test_the_stored_value_reads_back_through_a_new_unit_of_work(env: Env) -> None:
    await update_organization_settings(
        env.deps, env.actor("admin"), SettingsPatch(require_fal_licence=True)
    )
    async with env.deps.uow(read_only=True) as uow:
        stored = await uow.organization_settings.get(ORG)
        assert await uow.organization_settings.get(OTHER_ORG) is None
    assert stored is not None
    assert stored.settings.require_fal_licence is True
    assert stored.settings.time_zone == "Asia/Dubai"  # the default read until then is kept


def test_the_unset_marker_is_the_domains() -> None:
    assert SettingsPatch().time_zone is UNSET
