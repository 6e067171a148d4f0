"""Benchmark of the SQL read side at a million customers (PostgreSQL) or fewer (SQLite).

Run from the repository root (``make bench`` does this against the test PostgreSQL server)::

    .venv/bin/python -m benchmarks.million --customers 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:55432/hub_bench
    .venv/bin/python -m benchmarks.million --customers 100000 \\
        --database-url sqlite:////tmp/hub_bench.db

What it does:

1. Creates the PostgreSQL database when missing (``CREATE DATABASE`` on the ``postgres``
   database) and migrates it with the real Alembic migrations
   (:func:`customers_hub.adapters.sql.migrate.upgrade`), PostgreSQL-only indexes included.
2. Loads one big organization of ``--customers`` customers plus a few small organizations,
   generated with a seeded :mod:`random` into the domain entities and turned into rows by the
   SQL adapter's own mappers (``customer_values``, ``facet_rows``, ``history_values``,
   ``action_values``, ``employee_values``). PostgreSQL loads with ``COPY``, SQLite with
   ``executemany`` in big batches; both in ONE transaction with the secondary indexes (and, on
   PostgreSQL, the foreign keys) dropped during the load and recreated from their catalog
   definitions afterwards, so the final schema is exactly what the migrations made. Then
   ``ANALYZE``. A database that already holds the data set is not loaded again.
3. Times each request through the real query services (``SqlCustomerQueries``,
   ``SqlActionQueries``) with ``--warmups`` untimed runs and up to ``--runs`` timed runs
   (bounded by ``--budget`` seconds per request), and prints p50/p95 in milliseconds.
4. Captures every SQL statement of each request's last run (a ``before_cursor_execute``
   listener) and prints a one-line summary of its plan: ``EXPLAIN (ANALYZE, BUFFERS)`` on
   PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite. Full plans go to ``--plans-dir``.

Speed is measured here, never asserted by the test suite. Results: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import random
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import psycopg
from attrs import field, frozen
from psycopg import sql as pgsql
from sqlalchemy import JSON, Table, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.action_reads import SqlActionQueries
from customers_hub.adapters.sql.counters import recount_all
from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.engine import create_engine, is_sqlite
from customers_hub.adapters.sql.mappers import (
    action_values,
    customer_values,
    employee_values,
    facet_rows,
    history_values,
)
from customers_hub.adapters.sql.migrate import sync_url, upgrade
from customers_hub.adapters.sql.pagination import encode_cursor
from customers_hub.application.queries import (
    ActionListQuery,
    Condition,
    CustomerListQuery,
    Op,
    Page,
    PageRequest,
    SearchQuery,
    Sort,
    StatsWindow,
)
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    ChurnRisk,
    CustomerSource,
    CustomerType,
    DueDateBucket,
    EngagementLevel,
    Gender,
    InteractionType,
    Priority,
    PropertyType,
    Purpose,
    Role,
    Stage,
    Timeline,
)
from customers_hub.domain.model import (
    AiInsights,
    Customer,
    CustomerAction,
    Employee,
    Preferences,
    ScoreFactor,
    StageChange,
)

TZ: Final = ZoneInfo("Asia/Riyadh")
BIG_ORG: Final = "org_bench_big"
SMALL_ORGS: Final = ("org_bench_small_1", "org_bench_small_2", "org_bench_small_3")
LOADED_TABLES: Final = ("customers", "customer_facets", "stage_history", "customer_actions")
CHUNK: Final = 20_000
DEFAULT_URL: Final = "postgresql://postgres@127.0.0.1:55432/hub_bench"

# --- reference data (weights are percentages or relative frequencies) ---------------------------

_FIRST_MALE: Final = (
    ("محمد", "Mohammed"),
    ("أحمد", "Ahmed"),
    ("عبدالله", "Abdullah"),
    ("عبدالرحمن", "Abdulrahman"),
    ("خالد", "Khalid"),
    ("فهد", "Fahad"),
    ("سعد", "Saad"),
    ("سلطان", "Sultan"),
    ("فيصل", "Faisal"),
    ("عمر", "Omar"),
    ("علي", "Ali"),
    ("ناصر", "Nasser"),
    ("تركي", "Turki"),
    ("بندر", "Bandar"),
    ("ماجد", "Majed"),
    ("يوسف", "Yousef"),
    ("إبراهيم", "Ibrahim"),
    ("سعود", "Saud"),
    ("نايف", "Naif"),
    ("راشد", "Rashed"),
)
_FIRST_FEMALE: Final = (
    ("نورة", "Noura"),
    ("سارة", "Sarah"),
    ("فاطمة", "Fatimah"),
    ("مريم", "Maryam"),
    ("هند", "Hind"),
    ("ريم", "Reem"),
    ("لطيفة", "Latifa"),
    ("منيرة", "Munira"),
    ("عائشة", "Aisha"),
    ("الجوهرة", "Aljohara"),
)
_FAMILIES: Final = (
    ("القحطاني", "Al-Qahtani"),
    ("العتيبي", "Al-Otaibi"),
    ("الشمري", "Al-Shammari"),
    ("الدوسري", "Al-Dosari"),
    ("الغامدي", "Al-Ghamdi"),
    ("الزهراني", "Al-Zahrani"),
    ("الحربي", "Al-Harbi"),
    ("المطيري", "Al-Mutairi"),
    ("العنزي", "Al-Anazi"),
    ("السبيعي", "Al-Subaie"),
    ("الشهري", "Al-Shehri"),
    ("العمري", "Al-Omari"),
    ("التميمي", "Al-Tamimi"),
    ("السديري", "Al-Sudairi"),
    ("الرشيد", "Al-Rasheed"),
    ("البقمي", "Al-Baqami"),
    ("المالكي", "Al-Malki"),
    ("الأحمدي", "Al-Ahmadi"),
    ("الجهني", "Al-Juhani"),
    ("اليامي", "Al-Yami"),
    ("الخالدي", "Al-Khalidi"),
    ("السلمي", "Al-Sulami"),
    ("الشهراني", "Al-Shahrani"),
    ("العسيري", "Al-Asiri"),
    ("القرني", "Al-Qarni"),
    ("الحارثي", "Al-Harthi"),
    ("الثقفي", "Al-Thaqafi"),
    ("المري", "Al-Marri"),
    ("الكعبي", "Al-Kaabi"),
    ("الفيفي", "Al-Faifi"),
)
# Zipf-like family frequencies: a few families are common, most are not.
_FAMILY_WEIGHTS: Final = tuple(1.0 / (rank + 1) ** 0.8 for rank in range(len(_FAMILIES)))


@frozen
class _City:
    ar: str
    region: str
    districts: tuple[str, ...]
    weight: int


_CITIES: Final = (
    _City("الرياض", "منطقة الرياض", ("حي النرجس", "حي الملقا", "حي الياسمين", "حي العليا"), 50),
    _City("جدة", "منطقة مكة المكرمة", ("حي الزهراء", "حي الروضة", "حي الشاطئ"), 30),
    _City("الدمام", "المنطقة الشرقية", ("حي الفيصلية", "حي الشاطئ"), 20),
)
_CITY_WEIGHTS: Final = tuple(c.weight for c in _CITIES)

# Early stages dominate: most leads never get far.
_STAGES: Final = tuple(Stage)
_STAGE_WEIGHTS: Final = (35, 22, 14, 10, 7, 4, 3, 3, 2)
_SOURCES: Final = (
    CustomerSource.INQUIRY,
    CustomerSource.WHATSAPP,
    CustomerSource.MANUAL,
    CustomerSource.REFERRAL,
    CustomerSource.IMPORT,
)
_SOURCE_WEIGHTS: Final = (30, 25, 20, 15, 10)
_PRIORITIES: Final = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT)
_PRIORITY_WEIGHTS: Final = (25, 45, 22, 8)
_TYPES: Final = (
    PropertyType.APARTMENT,
    PropertyType.VILLA,
    PropertyType.LAND,
    PropertyType.DUPLEX,
    PropertyType.TOWNHOUSE,
    PropertyType.COMMERCIAL,
    PropertyType.OFFICE,
    PropertyType.BUILDING,
)
_TYPE_WEIGHTS: Final = (35, 30, 10, 8, 7, 5, 3, 2)
_CUSTOMER_TYPES: Final = (
    CustomerType.INDIVIDUAL,
    CustomerType.INVESTOR,
    CustomerType.COMPANY,
    CustomerType.GOVERNMENT,
)
_CUSTOMER_TYPE_WEIGHTS: Final = (85, 8, 6, 1)
# Each tag independently, with this probability.
_TAGS: Final = (
    ("family", 0.30),
    ("mortgage", 0.25),
    ("first_time_buyer", 0.20),
    ("expat", 0.15),
    ("cash_buyer", 0.12),
    ("hot_lead", 0.10),
    ("investor", 0.08),
    ("vip", 0.05),
    ("referral", 0.05),
    ("returning", 0.04),
)
_ACTION_TYPES: Final = tuple(ActionType)
_ACTION_TYPE_WEIGHTS: Final = (20, 15, 10, 25, 8, 5, 7, 6, 4)
_ACTION_TITLES: Final = {
    ActionType.NEW_INQUIRY: "استفسار جديد عن عقار",
    ActionType.CALLBACK_REQUEST: "طلب معاودة الاتصال",
    ActionType.PROPERTY_MATCH: "عقار مطابق لتفضيلات العميل",
    ActionType.FOLLOW_UP: "متابعة العميل",
    ActionType.DOCUMENT_REQUIRED: "مستندات مطلوبة",
    ActionType.PAYMENT_DUE: "دفعة مستحقة",
    ActionType.SITE_VISIT: "زيارة موقع",
    ActionType.WHATSAPP_INCOMING: "رسالة واتساب واردة",
    ActionType.AI_RECOMMENDED: "إجراء مقترح",
}
_ACTION_STATUSES: Final = (
    ActionStatus.PENDING,
    ActionStatus.IN_PROGRESS,
    ActionStatus.COMPLETED,
    ActionStatus.DISMISSED,
    ActionStatus.SNOOZED,
)
_ACTION_STATUS_WEIGHTS: Final = (35, 10, 38, 10, 7)  # actions of the last 60 days
_OLD_ACTION_STATUS_WEIGHTS: Final = (4, 1, 75, 18, 2)  # older ones
_ACTIONS_PER_CUSTOMER: Final = (0, 1, 2, 3, 4)
_ACTIONS_PER_CUSTOMER_WEIGHTS: Final = (15, 25, 25, 20, 15)  # mean 1.95

_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"


def _ulid(prefix: str, at: datetime, rng: random.Random) -> str:
    """An id like :class:`customers_hub.adapters.system.PrefixedIdGenerator` makes: time-sortable
    (10 base32 characters of milliseconds) and 10 random characters."""
    value = (int(at.timestamp() * 1000) << 50) | rng.getrandbits(50)
    chars = []
    for _ in range(20):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(reversed(chars))}"


# --- the data set ---------------------------------------------------------------------------------


@frozen
class Team:
    """The employees of one organization."""

    admin: Employee
    managers: tuple[Employee, ...]
    agents: tuple[Employee, ...]

    @property
    def everyone(self) -> tuple[Employee, ...]:
        """All employees, admin first."""
        return (self.admin, *self.managers, *self.agents)


def make_team(organization_id: str, team_sizes: Sequence[int]) -> Team:
    """An admin, one manager per team and ``team_sizes[k]`` agents reporting to manager ``k``."""
    tag = organization_id.removeprefix("org_")
    admin = Employee(f"emp_{tag}_admin", organization_id, "مدير النظام", Role.ADMIN)
    managers = tuple(
        Employee(
            f"emp_{tag}_mgr{k + 1}",
            organization_id,
            f"مدير المبيعات {k + 1}",
            Role.SALES_MANAGER,
            name_en=f"Sales manager {k + 1}",
        )
        for k in range(len(team_sizes))
    )
    agents: list[Employee] = []
    for k, size in enumerate(team_sizes):
        for _ in range(size):
            n = len(agents) + 1
            agents.append(
                Employee(
                    f"emp_{tag}_agent{n:02d}",
                    organization_id,
                    f"وكيل مبيعات {n}",
                    Role.SALES_AGENT,
                    name_en=f"Sales agent {n}",
                    manager_id=managers[k].id,
                )
            )
    return Team(admin, managers, tuple(agents))


def phone_of(index: int, salt: int = 0) -> str:
    """The phone of the customer at ``index``: unique for index < 10**8 (48271 is coprime with
    10**8, so the map is a permutation)."""
    return f"+9665{(index * 48271 + 12345 + salt) % 100_000_000:08d}"


@frozen
class Batch:
    """Rows of a chunk of customers, ready to load."""

    customers: list[dict[str, object]] = field(factory=list)
    facets: list[dict[str, object]] = field(factory=list)
    history: list[dict[str, object]] = field(factory=list)
    actions: list[dict[str, object]] = field(factory=list)

    def rows(self) -> Mapping[str, list[dict[str, object]]]:
        """The rows by table name."""
        return {
            "customers": self.customers,
            "customer_facets": self.facets,
            "stage_history": self.history,
            "customer_actions": self.actions,
        }


class Generator:
    """Customers, their facets, stage histories and actions from a seeded :mod:`random`."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now

    def organization(
        self, organization_id: str, count: int, team: Team, *, salt: int = 0
    ) -> Iterator[Batch]:
        """``count`` customers of ``organization_id``, created over three years, in chunks."""
        rng = self.rng
        start = self.now - timedelta(days=3 * 365)
        span = (self.now - start).total_seconds()
        # 92 % held by agents (some busier than others), 3 % by managers, 5 % unassigned.
        holders: list[Employee | None] = [*team.agents, *team.managers, None]
        agent_weights = [
            92 * w / sum(range(1, len(team.agents) + 1)) for w in range(len(team.agents), 0, -1)
        ]
        holder_weights = [*agent_weights, *([3 / len(team.managers)] * len(team.managers)), 5]
        batch = Batch()
        for i in range(count):
            # Rows arrive in creation order, as a live system writes them.
            created = start + timedelta(seconds=span * (i + rng.random()) / count)
            holder = rng.choices(holders, holder_weights)[0]
            self._one(batch, organization_id, i, created, holder, team, salt)
            if len(batch.customers) >= CHUNK:
                yield batch
                batch = Batch()
        if batch.customers:
            yield batch

    def _one(
        self,
        batch: Batch,
        org: str,
        i: int,
        created: datetime,
        holder: Employee | None,
        team: Team,
        salt: int,
    ) -> None:
        rng = self.rng
        now = self.now
        female = rng.random() < 0.3
        first_ar, first_en = rng.choice(_FIRST_FEMALE if female else _FIRST_MALE)
        father_ar, father_en = rng.choice(_FIRST_MALE)
        family_ar, family_en = rng.choices(_FAMILIES, _FAMILY_WEIGHTS)[0]
        customer_id = _ulid("cust", created, rng)
        stage = rng.choices(_STAGES, _STAGE_WEIGHTS)[0]
        rank = _STAGES.index(stage)
        city = rng.choices(_CITIES, _CITY_WEIGHTS)[0]
        district = rng.choice(city.districts)
        age = (now - created).total_seconds()
        updated = created + timedelta(seconds=age * rng.random() ** 2)
        budget_min: Decimal | None = None
        budget_max: Decimal | None = None
        roll = rng.random()
        if roll < 0.85:
            low = round(math.exp(rng.gauss(13.7, 0.6)), -4)  # median ≈ 900 000 SAR
            budget_min = Decimal(int(max(low, 50_000)))
            budget_max = Decimal(int(round(float(budget_min) * rng.uniform(1.2, 2.0), -4)))
        elif roll < 0.90:
            budget_max = Decimal(int(round(math.exp(rng.gauss(14.0, 0.6)), -4)))
        kinds = rng.choices(_TYPES, _TYPE_WEIGHTS, k=1 if rng.random() < 0.6 else 2)
        preferences = Preferences(
            property_type=tuple(dict.fromkeys(kinds)),
            budget_min=budget_min,
            budget_max=budget_max,
            preferred_areas=(f"{city.ar} - {district}",),
            preferred_cities=(city.ar,),
            bedrooms=rng.randint(1, 6),
            purpose=rng.choices((Purpose.BUY, Purpose.RENT, Purpose.INVEST), (70, 20, 10))[0],
            timeline=rng.choice(tuple(Timeline)),
        )
        score = min(100, int(rng.betavariate(2, 3) * 90) + rank * 3)
        contacted = rng.random() >= 0.30  # ~30 % never contacted: last_contact_at NULL
        last_contact = created + timedelta(seconds=age * rng.random()) if contacted else None
        deal: Decimal | None = None
        if rank >= _STAGES.index(Stage.NEGOTIATION):
            deal = Decimal(int(budget_min or budget_max or Decimal(800_000)))
        tags = tuple(tag for tag, p in _TAGS if rng.random() < p)
        assigned_name = holder.name if holder is not None else "System"
        assigned_id = holder.id if holder is not None else "system"
        # The stage path from new_lead to the current stage, spread over the customer's life.
        history: list[StageChange] = []
        moments = sorted(created + timedelta(seconds=age * rng.random()) for _ in range(rank))
        previous: Stage | None = None
        for seq, (to_stage, at) in enumerate(
            zip(_STAGES[: rank + 1], [created, *moments], strict=True), 1
        ):
            history.append(
                StageChange(
                    id=f"stage_{customer_id[5:]}_{seq}",
                    from_stage=previous,
                    to_stage=to_stage,
                    changed_by="System" if seq == 1 else assigned_name,
                    changed_by_id="system" if seq == 1 else assigned_id,
                    changed_at=at,
                    auto_generated=seq == 1,
                )
            )
            previous = to_stage
        customer = Customer(
            id=customer_id,
            organization_id=org,
            name=f"{first_ar} {father_ar} {family_ar}",
            phone=phone_of(i, salt),
            source=rng.choices(_SOURCES, _SOURCE_WEIGHTS)[0],
            stage=stage,
            created_at=created,
            updated_at=max(updated, history[-1].changed_at),
            preferences=preferences,
            stage_history=tuple(history),
            name_en=f"{first_en} {father_en} {family_en}",
            whatsapp=phone_of(i, salt) if rng.random() < 0.7 else None,
            email=f"{first_en}.{family_en}{i}@example.com".lower() if rng.random() < 0.6 else None,
            nationality="سعودي" if rng.random() < 0.75 else "مقيم",
            gender=Gender.FEMALE if female else Gender.MALE,
            lead_score=score,
            ai_insights=AiInsights(
                next_best_action="اتصل بالعميل",
                next_best_action_en="Call the customer",
                churn_risk=rng.choice(tuple(ChurnRisk)),
                engagement_level=rng.choice(tuple(EngagementLevel)),
                conversion_probability=score,
                recommended_follow_up_date=(now + timedelta(days=rng.randint(1, 14))).date(),
                predicted_close_date=None,
                score_factors=(
                    ScoreFactor("stage", rank * 3, "مرحلة العميل"),
                    ScoreFactor("engagement", score - rank * 3, "تفاعل العميل"),
                ),
            ),
            priority=rng.choices(_PRIORITIES, _PRIORITY_WEIGHTS)[0],
            customer_type=rng.choices(_CUSTOMER_TYPES, _CUSTOMER_TYPE_WEIGHTS)[0],
            tags=tags,
            assigned_employee_id=holder.id if holder is not None else None,
            total_deal_value=deal,
            expected_revenue=(deal * Decimal("0.025")).quantize(Decimal("0.01")) if deal else None,
            paid_amount=(deal / 10 if deal and rank >= _STAGES.index(Stage.DOWN_PAYMENT) else None),
            city=city.ar,
            district=district,
            region=city.region,
            last_contact_at=last_contact,
            last_contact_type=(
                rng.choice((InteractionType.CALL, InteractionType.WHATSAPP)) if contacted else None
            ),
            next_follow_up_date=(
                (now + timedelta(days=rng.randint(-10, 30))).date() if rng.random() < 0.4 else None
            ),
            total_interactions=rng.randint(1, 20) if contacted else 0,
            response_rate=rng.randint(0, 100) if contacted else None,
            deleted_at=now - timedelta(days=rng.randint(1, 90)) if rng.random() < 0.005 else None,
        )
        batch.customers.append(customer_values(customer))
        batch.facets.extend(facet_rows(customer))
        batch.history.extend(
            history_values(org, customer_id, seq, entry) for seq, entry in enumerate(history, 1)
        )
        for _ in range(rng.choices(_ACTIONS_PER_CUSTOMER, _ACTIONS_PER_CUSTOMER_WEIGHTS)[0]):
            batch.actions.append(action_values(self._action(customer, holder, team)))

    def _action(self, customer: Customer, holder: Employee | None, team: Team) -> CustomerAction:
        rng = self.rng
        now = self.now
        kind = rng.choices(_ACTION_TYPES, _ACTION_TYPE_WEIGHTS)[0]
        created = customer.created_at + timedelta(
            seconds=(now - customer.created_at).total_seconds() * rng.random()
        )
        # Old actions are mostly closed (a little stale backlog stays open); due dates follow
        # creation by up to two weeks, so "due today" is a few thousand actions, not a tenth.
        recent = now - created < timedelta(days=60)
        weights = _ACTION_STATUS_WEIGHTS if recent else _OLD_ACTION_STATUS_WEIGHTS
        status = rng.choices(_ACTION_STATUSES, weights)[0]
        assignee = holder if rng.random() < 0.9 else rng.choice((None, *team.agents))
        due = (
            created + timedelta(seconds=rng.uniform(-1, 14) * 86400)
            if rng.random() < 0.85
            else None
        )
        done = min(created + timedelta(hours=rng.uniform(0.5, 96)), now)
        snoozed_until = None
        if status is ActionStatus.SNOOZED:
            snoozed_until = (
                now + timedelta(hours=rng.uniform(-48, 96))
                if recent
                else created + timedelta(days=rng.uniform(1, 7))
            )
        return CustomerAction(
            id=_ulid("action", created, rng),
            organization_id=customer.organization_id,
            customer_id=customer.id,
            customer_name=customer.name,
            type=kind,
            title=_ACTION_TITLES[kind],
            priority=rng.choices(_PRIORITIES, _PRIORITY_WEIGHTS)[0],
            status=status,
            source=customer.source,
            created_at=created,
            updated_at=done if status is not ActionStatus.PENDING else created,
            description="يرجى التواصل مع العميل" if rng.random() < 0.5 else None,
            due_date=due,
            snoozed_until=snoozed_until,
            assigned_to=assignee.id if assignee else None,
            assigned_to_name=assignee.name if assignee else None,
            completed_at=done if status is ActionStatus.COMPLETED else None,
            completed_by=(assignee.id if assignee and status is ActionStatus.COMPLETED else None),
            outcome="تم التواصل" if status is ActionStatus.COMPLETED else None,
            dismiss_reason="مكرر" if status is ActionStatus.DISMISSED else None,
            metadata={"channel": "whatsapp"} if kind is ActionType.WHATSAPP_INCOMING else {},
        )


@frozen
class Plan:
    """What to load: the big organization and the small ones, with their teams."""

    customers: int
    small_customers: int
    big_team: Team = field(factory=lambda: make_team(BIG_ORG, (6, 6, 5)))  # 20 + admin
    small_teams: tuple[Team, ...] = field(
        factory=lambda: tuple(make_team(org, (3,)) for org in SMALL_ORGS)
    )

    def organizations(self) -> list[tuple[str, int, Team]]:
        """(organization id, customers, team) of every organization."""
        orgs = [(BIG_ORG, self.customers, self.big_team)]
        orgs += [
            (team.admin.organization_id, self.small_customers, team) for team in self.small_teams
        ]
        return orgs


# --- loading --------------------------------------------------------------------------------------


def _with_trigger_columns(rows: Mapping[str, list[dict[str, object]]]) -> None:
    """Fill, in place, the columns the database's triggers keep and the loader's disabled
    triggers would have set (migrations 0017 and 0019): each action's copy of its customer's
    assignee and liveness (its customer is in the same batch) and its first note (none are
    loaded)."""
    owners = {
        c["id"]: (c["deleted_at"] is None, c["assigned_employee_id"]) for c in rows["customers"]
    }
    for action in rows["customer_actions"]:
        live, assignee = owners[action["customer_id"]]
        action.update(customer_live=live, customer_assignee_id=assignee, first_note_at=None)


def _columns(table: Table) -> list[str]:
    return list(table.c.keys())


def _json_columns(table: Table) -> set[str]:
    return {c.name for c in table.c if isinstance(c.type, JSON)}


def _tuple_row(
    row: Mapping[str, object], columns: Sequence[str], json_cols: set[str]
) -> tuple[object, ...]:
    out: list[object] = []
    for name in columns:
        value = row[name]
        if name in json_cols and value is not None:
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        out.append(value)
    return tuple(out)


def _libpq_url(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist."""
    name = make_url(url).database
    assert name, "the database URL names no database"
    with psycopg.connect(_libpq_url(url, "postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
            print(f"created database {name}")


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database of ``url`` (frees the disk the benchmark used)."""
    name = make_url(url).database
    assert name, "the database URL names no database"
    with psycopg.connect(_libpq_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
        )
    print(f"dropped database {name}")


def _existing(url: str) -> tuple[int, int]:
    """(customers of the big organization, customers in all) already stored."""
    engine = create_sync_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            big = conn.exec_driver_sql(
                "SELECT count(*) FROM customers WHERE organization_id = '" + BIG_ORG + "'"
            ).scalar_one()
            total = conn.exec_driver_sql("SELECT count(*) FROM customers").scalar_one()
            return int(big), int(total)
    finally:
        engine.dispose()


def _generate(plan: Plan, seed: int, now: datetime) -> Iterator[Batch]:
    generator = Generator(seed, now)
    for k, (org, count, team) in enumerate(plan.organizations()):
        yield from generator.organization(org, count, team, salt=k * 7_777_777)


def _employee_rows(plan: Plan, now: datetime) -> list[dict[str, object]]:
    teams = [plan.big_team, *plan.small_teams]
    return [employee_values(e, now) for team in teams for e in team.everyone]


@frozen
class LoadReport:
    """What the load did and how long it took."""

    rows: dict[str, int]
    seconds_copy: float
    seconds_indexes: float
    seconds_analyze: float

    @property
    def seconds(self) -> float:
        """The whole load."""
        return self.seconds_copy + self.seconds_indexes + self.seconds_analyze


def load_postgres(url: str, plan: Plan, seed: int, now: datetime) -> LoadReport:
    """COPY the data set in one transaction, secondary indexes and foreign keys dropped during the
    load and recreated from their catalog definitions afterwards; then ANALYZE."""
    tables = {name: t.metadata.tables[name] for name in (*LOADED_TABLES, "employees")}
    columns = {name: _columns(table) for name, table in tables.items()}
    json_cols = {name: _json_columns(table) for name, table in tables.items()}
    counts = dict.fromkeys(tables, 0)
    with psycopg.connect(_libpq_url(url)) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        regclasses = list(LOADED_TABLES)
        indexes = conn.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
            """,
            (regclasses,),
        ).fetchall()
        foreign = conn.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'
            """,
            (regclasses,),
        ).fetchall()
        for table, name, _ in foreign:
            conn.execute(
                pgsql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    pgsql.Identifier(table), pgsql.Identifier(name)
                )
            )
        for name, _ in indexes:
            conn.execute(pgsql.SQL("DROP INDEX {}").format(pgsql.Identifier(name)))
        # The counters' and copies' triggers probe indexes dropped above (a scan per row or
        # statement): off for the load; the copies are filled by the loader and the counters
        # rebuilt set-based at the end (`recount_all`).
        for table in LOADED_TABLES:
            conn.execute(
                pgsql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(pgsql.Identifier(table))
            )
        print(f"  dropped {len(indexes)} indexes and {len(foreign)} foreign keys for the load")
        started = time.perf_counter()
        with conn.cursor() as cur:
            batches = [("employees", _employee_rows(plan, now))]
            _copy(cur, batches, columns, json_cols, counts)
            for n, batch in enumerate(_generate(plan, seed, now), 1):
                rows = batch.rows()
                _with_trigger_columns(rows)
                _copy(cur, list(rows.items()), columns, json_cols, counts)
                if n % 10 == 0:
                    rate = counts["customers"] / (time.perf_counter() - started)
                    print(f"  {counts['customers']:>9,} customers ({rate:,.0f}/s)", flush=True)
        copied = time.perf_counter() - started
        print(f"  COPY done in {copied:.0f} s: {counts}", flush=True)
        started = time.perf_counter()
        for name, ddl in indexes:
            t0 = time.perf_counter()
            conn.execute(ddl)  # catalog DDL, not user input
            print(f"  index {name}: {time.perf_counter() - t0:.1f} s", flush=True)
        for table, name, ddl in foreign:
            conn.execute(
                pgsql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    pgsql.Identifier(table), pgsql.Identifier(name), pgsql.SQL(ddl)
                )
            )
        for table in LOADED_TABLES:
            conn.execute(
                pgsql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(pgsql.Identifier(table))
            )
        conn.commit()
        t0 = time.perf_counter()
        recounted = asyncio.run(_recount(url))
        print(f"  counters of {len(recounted)} organizations: {time.perf_counter() - t0:.1f} s")
        built = time.perf_counter() - started
        started = time.perf_counter()
        # VACUUM too: it sets the visibility map (index-only scans) and hint bits, as
        # autovacuum would have long done on a live table; ANALYZE gives the planner its stats.
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")
        analyzed = time.perf_counter() - started
    return LoadReport(counts, copied, built, analyzed)


async def _recount(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return await recount_all(engine)
    finally:
        await engine.dispose()


def _copy(
    cur: psycopg.Cursor[Any],
    batches: Sequence[tuple[str, list[dict[str, object]]]],
    columns: Mapping[str, list[str]],
    json_cols: Mapping[str, set[str]],
    counts: dict[str, int],
) -> None:
    for table, rows in batches:
        if not rows:
            continue
        cols = columns[table]
        if set(rows[0]) != set(cols):  # the mappers and the schema must agree
            raise RuntimeError(
                f"{table}: mapper keys differ from columns: {set(rows[0]) ^ set(cols)}"
            )
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, cols))
        )
        with cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(_tuple_row(row, cols, json_cols[table]))
        counts[table] += len(rows)


def load_sqlite(
    url: str, plan: Plan, seed: int, now: datetime, *, analyze: bool = False
) -> LoadReport:
    """executemany in big batches through SQLAlchemy Core (the adapter's own type processing), in
    one transaction, secondary indexes dropped during the load and recreated.

    No ANALYZE unless asked: the hub never analyzes its SQLite file, and with ``sqlite_stat1``
    present SQLite picks ``ix_customers_org_deleted`` for every list and sorts (see
    docs/benchmarks.md), so the default measures what the embedded hub really does.
    """
    engine = create_sync_engine(sync_url(url), poolclass=NullPool)
    counts = dict.fromkeys((*LOADED_TABLES, "employees"), 0)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
            conn.commit()
            with conn.begin():
                indexes = _sqlite_indexes(conn)
                for name, _ in indexes:
                    conn.exec_driver_sql(f'DROP INDEX "{name}"')
                print(f"  dropped {len(indexes)} indexes for the load")
                started = time.perf_counter()
                conn.execute(t.employees.insert(), _employee_rows(plan, now))
                counts["employees"] += len(_employee_rows(plan, now))
                for n, batch in enumerate(_generate(plan, seed, now), 1):
                    for table, rows in batch.rows().items():
                        if rows:
                            conn.execute(t.metadata.tables[table].insert(), rows)
                            counts[table] += len(rows)
                    if n % 5 == 0:
                        print(f"  {counts['customers']:>9,} customers", flush=True)
                copied = time.perf_counter() - started
                print(f"  inserts done in {copied:.0f} s: {counts}", flush=True)
                started = time.perf_counter()
                for _, ddl in indexes:
                    conn.exec_driver_sql(ddl)
                built = time.perf_counter() - started
            started = time.perf_counter()
            if analyze:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
            analyzed = time.perf_counter() - started
    finally:
        engine.dispose()
    return LoadReport(counts, copied, built, analyzed)


def _sqlite_indexes(conn: Connection) -> list[tuple[str, str]]:
    marks = ", ".join(f"'{name}'" for name in LOADED_TABLES)
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})"
    ).all()
    return [(str(name), str(ddl)) for name, ddl in rows]


def prepare(
    url: str, plan: Plan, seed: int, *, reset: bool, sqlite_analyze: bool = False
) -> LoadReport | None:
    """Create and migrate the database, and load the data set unless it is already there."""
    if not is_sqlite(url):
        ensure_database(url)
    started = time.perf_counter()
    upgrade(url)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    big, total = _existing(url)
    expected = plan.customers + plan.small_customers * len(plan.small_teams)
    if not reset and big == plan.customers and total == expected:
        print(f"data already loaded ({total:,} customers): measuring only")
        return None
    if total:
        if not reset:
            raise SystemExit(
                f"the database holds {total:,} customers, not this data set ({expected:,}); "
                "use another database or pass --reset to empty it"
            )
        _reset(url)
    now = datetime.now(UTC)
    print(f"loading {expected:,} customers ({plan.customers:,} in {BIG_ORG}) …", flush=True)
    if is_sqlite(url):
        return load_sqlite(url, plan, seed, now, analyze=sqlite_analyze)
    return load_postgres(url, plan, seed, now)


def _reset(url: str) -> None:
    names = [table.name for table in reversed(t.metadata.sorted_tables)]
    engine = create_sync_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if is_sqlite(url):
                for name in names:
                    conn.exec_driver_sql(f'DELETE FROM "{name}"')
            else:
                conn.exec_driver_sql("TRUNCATE " + ", ".join(names) + " CASCADE")
    finally:
        engine.dispose()
    print("emptied the database (--reset)")


# --- measuring ------------------------------------------------------------------------------------


@frozen
class Request:
    """One timed request: a label, what it asks, and the call."""

    name: str
    call: Callable[[], Awaitable[object]]
    note: str = ""


@frozen
class Statement:
    """One SQL statement a request ran, with its plan summary."""

    sql: str
    parameters: Any


@frozen
class Result:
    """Timings of one request."""

    name: str
    note: str
    runs: int
    p50: float
    p95: float
    best: float
    outcome: str
    statements: list[str]
    plans: list[str]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def describe(outcome: object) -> str:
    """A short description of a request's answer (shows it did real work)."""
    if isinstance(outcome, Page):
        total = outcome.total_items
        mark = "~" if outcome.total_is_estimate else ""
        count = f", total {mark}{total:,}" if total is not None else ", cursor mode"
        return f"{len(outcome.items)} items{count}"
    hits = getattr(outcome, "hits", None)
    if hits is not None:
        return f"{len(hits)} hits of {getattr(outcome, 'total', '?')}"
    total = getattr(outcome, "total", None)
    if isinstance(total, dict):
        return f"total {sum(total.values()):,}"
    if isinstance(total, int):
        return f"total {total:,}"
    cities = getattr(outcome, "cities", None)
    if cities is not None:
        return f"{len(cities)} cities, {len(getattr(outcome, 'employees', ()))} employees"
    return type(outcome).__name__


def _label(statement: str) -> str:
    s = " ".join(statement.split())
    if s.startswith("EXPLAIN"):
        return "estimate"
    if s.startswith("SELECT count(*)") and "FROM (SELECT 1" in s:
        return "count"
    if "FROM stage_history" in s and s.startswith("SELECT stage_history.id"):
        return "history"
    if s.startswith("SELECT property_interests."):
        return "interests"
    if "pg_extension" in s:
        return "trgm-check"
    return "main"


class Recorder:
    """Captures the statements a request runs (a ``before_cursor_execute`` listener)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.active = False
        self.statements: list[Statement] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if self.active:
            self.statements.append(Statement(statement, parameters))


def _walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _walk(child)


def summarize_pg(plan: Mapping[str, Any]) -> str:
    """Top node, execution time, indexes used, sequential scans, sorts and buffers of a plan."""
    root = plan["Plan"]
    nodes = list(_walk(root))
    indexes = sorted({n["Index Name"] for n in nodes if "Index Name" in n})
    seq = sorted({n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"})
    sorts = sorted({str(n.get("Sort Method")) for n in nodes if n["Node Type"] == "Sort"})
    hit = root.get("Shared Hit Blocks", 0)
    read = root.get("Shared Read Blocks", 0)
    parts = [f"{root['Node Type']} {plan['Execution Time']:.1f} ms"]
    if indexes:
        parts.append("idx " + ", ".join(indexes))
    if seq:
        parts.append("SEQ SCAN " + ", ".join(seq))
    if sorts:
        parts.append("sort " + ", ".join(sorts))
    parts.append(f"buf hit {hit} read {read}")
    return "; ".join(parts)


async def explain(
    engine: AsyncEngine, statements: Sequence[Statement], dump: Path | None, name: str
) -> list[str]:
    """One summary line per statement; full plans appended to ``dump``."""
    out: list[str] = []
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        for st in statements:
            label = _label(st.sql)
            if label in ("estimate", "trgm-check"):
                continue
            if sqlite:
                rows = (
                    await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + st.sql, st.parameters)
                ).all()
                summary = " | ".join(str(r[-1]) for r in rows)
                full = "\n".join(str(r[-1]) for r in rows)
            else:
                raw = (
                    await conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + st.sql, st.parameters
                    )
                ).scalar_one()
                doc = json.loads(raw) if isinstance(raw, str) else raw
                summary = summarize_pg(doc[0])
                text_rows = (
                    await conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + st.sql, st.parameters
                    )
                ).all()
                full = "\n".join(str(r[0]) for r in text_rows)
            out.append(f"{label}: {summary}")
            if dump is not None:
                with dump.open("a", encoding="utf-8") as fh:
                    fh.write(f"\n=== {name} · {label}\n{st.sql}\n-- {st.parameters!r}\n{full}\n")
    return out


async def measure(
    engine: AsyncEngine,
    recorder: Recorder,
    request: Request,
    *,
    runs: int,
    warmups: int,
    budget: float,
    dump: Path | None,
) -> Result:
    """Warm up, then time up to ``runs`` calls (at least 3, at most ``budget`` seconds)."""
    for _ in range(warmups):
        await request.call()
    timings: list[float] = []
    began = time.perf_counter()
    outcome: object = None
    while len(timings) < runs and (len(timings) < 3 or time.perf_counter() - began < budget):
        recorder.statements = []  # keep the statements of the last run only
        recorder.active = True
        t0 = time.perf_counter()
        outcome = await request.call()
        timings.append((time.perf_counter() - t0) * 1000)
        recorder.active = False
    statements = list(recorder.statements)
    plans = await explain(engine, statements, dump, request.name)
    return Result(
        name=request.name,
        note=request.note,
        runs=len(timings),
        p50=percentile(timings, 0.5),
        p95=percentile(timings, 0.95),
        best=min(timings),
        outcome=describe(outcome),
        statements=[_label(s.sql) for s in statements],
        plans=plans,
    )


def requests(
    engine: AsyncEngine,
    plan: Plan,
    now: datetime,
    walked: list[str | None],
    deep: Mapping[CursorCase, str | None] | None = None,
) -> list[Request]:
    """Every request the benchmark times (big organization; ``walked[0]`` = page-200 cursor;
    ``deep`` = a cursor ``--cursor-depth`` rows into each of :data:`CURSOR_CASES`)."""
    customers = SqlCustomerQueries(engine)
    actions = SqlActionQueries(engine)
    admin = ScopeFilter(BIG_ORG, Reach.ALL)
    manager = plan.big_team.managers[0]
    agent = plan.big_team.agents[0]
    team = ScopeFilter(BIG_ORG, Reach.TEAM, manager.id)
    own = ScopeFilter(BIG_ORG, Reach.OWN, agent.id)
    window = StatsWindow(now=now, tz=TZ)

    def listing(
        scope: ScopeFilter = admin,
        conditions: tuple[Condition, ...] = (),
        sort: Sort | None = None,
        page: PageRequest | None = None,
        search: str | None = None,
    ) -> Callable[[], Awaitable[object]]:
        query = CustomerListQuery(
            scope=scope,
            conditions=conditions,
            search=search,
            sort=sort or Sort("createdAt", descending=True),
            page=page or PageRequest(),
        )
        return lambda: customers.list(query)

    def keyset_page_200() -> Awaitable[object]:
        query = CustomerListQuery(scope=admin, page=PageRequest(cursor=walked[0] or ""))
        return customers.list(query)

    def search(text: str, *, fuzzy: bool) -> Callable[[], Awaitable[object]]:
        query = SearchQuery(scope=admin, text=text, fuzzy=fuzzy)
        return lambda: customers.search(query)

    stage_city = (
        Condition("stage", Op.EQ, Stage.QUALIFIED),
        Condition("city", Op.EQ, "الرياض"),
    )
    small_set = (
        Condition("stage", Op.EQ, Stage.POST_SALE),
        Condition("city", Op.EQ, "الدمام"),
    )
    budget_type = (
        Condition("budgetMin", Op.GTE, Decimal(1_000_000)),
        Condition("budgetMax", Op.LTE, Decimal(3_000_000)),
        Condition("preferences.propertyType", Op.IN, [PropertyType.VILLA]),
    )
    phone = phone_of(plan.customers * 2 // 3)  # a stored phone; search a 7-digit piece of it
    fragment = phone[-7:]
    full_name = "نورة الفيفي"  # a common first name and the rarest family: a typical search
    actions_today = ActionListQuery(
        scope=own,
        now=now,
        tz=TZ,
        due_bucket=DueDateBucket.TODAY,
        sort=Sort("priority", descending=True),
    )
    return [
        Request("list first page", listing(), "createdAt desc, offset mode (count → estimate)"),
        Request(
            "list first page, cursor",
            listing(page=PageRequest(cursor="")),
            "no count in cursor mode",
        ),
        Request("list stage+city", listing(conditions=stage_city), "qualified · الرياض"),
        Request(
            "list stage+city (exact count)",
            listing(conditions=small_set),
            "post_sale · الدمام: under the 10k cap",
        ),
        Request("list sort leadScore desc", listing(sort=Sort("leadScore", descending=True))),
        Request(
            "list sort lastContactAt desc",
            listing(sort=Sort("lastContactAt", descending=True)),
            "NULLS LAST",
        ),
        Request("list page 200 (offset)", listing(page=PageRequest(page=200)), "OFFSET 3980"),
        Request("list page 200 (keyset)", keyset_page_200, "cursor after walking 199 pages"),
        Request(
            "list budget+propertyType",
            listing(conditions=budget_type),
            "budget overlaps 1M–3M · villa",
        ),
        Request("list tag vip", listing(conditions=(Condition("tags", Op.EQ, "vip"),))),
        Request("list search name", listing(search="القحط"), "list `search` param"),
        Request("search name, fuzzy off", search("القحط", fuzzy=False), "fragment القحط"),
        Request("search name, fuzzy on", search("القحط", fuzzy=True), "fragment القحط"),
        Request("search full name, fuzzy off", search(full_name, fuzzy=False), full_name),
        Request("search full name, fuzzy on", search(full_name, fuzzy=True), full_name),
        Request("search phone, fuzzy off", search(fragment, fuzzy=False), f"digits {fragment}"),
        Request("search phone, fuzzy on", search(fragment, fuzzy=True), f"digits {fragment}"),
        Request("list TEAM scope (manager)", listing(scope=team), f"{manager.id}"),
        Request("list OWN scope (agent)", listing(scope=own), f"{agent.id}"),
        Request("customer stats", lambda: customers.stats(admin, window, None), "ALL scope"),
        Request("customer stats, TEAM", lambda: customers.stats(team, window, None)),
        Request("filter options", lambda: customers.filter_options(admin), "ALL scope"),
        Request(
            "actions agent, today, by priority",
            lambda: actions.list(actions_today),
            "OWN scope · dueDate=today · sort priority",
        ),
        Request("action stats", lambda: actions.stats(admin, window, None), "ALL scope"),
        Request("action stats, agent", lambda: actions.stats(own, window, None), "OWN scope"),
        *cursor_requests(engine, now, deep or {}),
    ]


CursorCase = tuple[str, str, bool]
"""(``customers`` or ``actions``, sort field, descending)."""

CURSOR_CASES: Final[tuple[CursorCase, ...]] = (
    ("customers", "createdAt", True),
    ("customers", "leadScore", True),
    ("customers", "lastContactAt", True),
    ("customers", "lastContactAt", False),
    ("customers", "name", False),
    # The list's documented ``sortBy=dealValue`` is an alias: its cursors name the field.
    ("customers", "totalDealValue", True),
    ("actions", "dueDate", False),
    ("actions", "priority", True),
)
"""The sorts whose first cursor page and deep cursor page are timed side by side (NULLs-last
fields in both directions: their cursor reads two ranges)."""

_SORT_VALUES: Final[Mapping[str, Callable[[Any], object]]] = {
    "createdAt": lambda item: item.created_at,
    "leadScore": lambda item: item.lead_score,
    "lastContactAt": lambda item: item.last_contact_at,
    "name": lambda item: item.name,
    "totalDealValue": lambda item: item.total_deal_value,
    "dueDate": lambda item: item.due_date,
    "priority": lambda item: item.priority.rank,
}


def _cursor_page(
    engine: AsyncEngine, now: datetime, case: CursorCase, cursor: str, limit: int = 20
) -> Awaitable[Page[Any]]:
    kind, field, descending = case
    admin = ScopeFilter(BIG_ORG, Reach.ALL)
    sort = Sort(field, descending=descending)
    page = PageRequest(limit=limit, cursor=cursor)
    if kind == "customers":
        return SqlCustomerQueries(engine).list(CustomerListQuery(scope=admin, sort=sort, page=page))
    query = ActionListQuery(scope=admin, now=now, tz=TZ, sort=sort, page=page)
    return SqlActionQueries(engine).list(query)


async def deep_cursors(
    engine: AsyncEngine, now: datetime, depth: int
) -> dict[CursorCase, str | None]:
    """For each of :data:`CURSOR_CASES`, the cursor after row ``depth`` (read once by offset)."""
    out: dict[CursorCase, str | None] = {}
    limit = 100
    for case in CURSOR_CASES:
        kind, field, descending = case
        admin = ScopeFilter(BIG_ORG, Reach.ALL)
        sort = Sort(field, descending=descending)
        at = PageRequest(page=max(depth // limit, 1), limit=limit)
        if kind == "customers":
            page: Page[Any] = await SqlCustomerQueries(engine).list(
                CustomerListQuery(scope=admin, sort=sort, page=at)
            )
        else:
            page = await SqlActionQueries(engine).list(
                ActionListQuery(scope=admin, now=now, tz=TZ, sort=sort, page=at)
            )
        if not page.items:
            out[case] = None
            continue
        last = page.items[-1]
        value = _SORT_VALUES[field](last)
        out[case] = encode_cursor(field, descending, value, last.id, after=True)
    return out


def cursor_requests(
    engine: AsyncEngine, now: datetime, deep: Mapping[CursorCase, str | None]
) -> list[Request]:
    """First cursor page and deep cursor page of every case, side by side."""
    out: list[Request] = []
    for case, cursor in deep.items():
        kind, field, descending = case
        label = f"cursor {kind} {field} {'desc' if descending else 'asc'}"
        first = functools.partial(_cursor_page, engine, now, case, "")
        out.append(Request(f"{label}, first page", first))
        if cursor is not None:
            deeper = functools.partial(_cursor_page, engine, now, case, cursor)
            out.append(Request(f"{label}, deep", deeper, "cursor --cursor-depth rows in"))
    return out


async def walk_cursors(engine: AsyncEngine, pages: int) -> tuple[str | None, float]:
    """The cursor of page ``pages + 1`` of the default list, and the seconds the walk took."""
    customers = SqlCustomerQueries(engine)
    admin = ScopeFilter(BIG_ORG, Reach.ALL)
    cursor: str | None = ""
    t0 = time.perf_counter()
    for _ in range(pages):
        page = await customers.list(CustomerListQuery(scope=admin, page=PageRequest(cursor=cursor)))
        cursor = page.next_cursor
        if cursor is None:
            break
    return cursor, time.perf_counter() - t0


async def run_benchmarks(args: argparse.Namespace, plan: Plan) -> list[Result]:
    """Time every request (or those whose name contains ``--only``)."""
    engine = create_engine(args.database_url)
    recorder = Recorder(engine)
    dump: Path | None = None
    if args.plans_dir:
        dump = Path(args.plans_dir) / f"plans-{engine.dialect.name}.txt"
        dump.parent.mkdir(parents=True, exist_ok=True)
        dump.write_text("", encoding="utf-8")
    now = datetime.now(UTC)
    try:
        cursor, seconds = await walk_cursors(engine, 199)
        print(
            f"walked 199 pages by cursor in {seconds:.2f} s ({seconds / 199 * 1000:.1f} ms/page)",
            flush=True,
        )
        deep: dict[CursorCase, str | None] = {}
        if args.cursor_depth > 0 and (not args.only or "cursor" in args.only):
            t0 = time.perf_counter()
            deep = await deep_cursors(engine, now, args.cursor_depth)
            print(
                f"cursors {args.cursor_depth:,} rows deep for {len(deep)} sorts in "
                f"{time.perf_counter() - t0:.1f} s",
                flush=True,
            )
        results: list[Result] = []
        for request in requests(engine, plan, now, [cursor], deep):
            if args.only and args.only not in request.name:
                continue
            result = await measure(
                engine,
                recorder,
                request,
                runs=args.runs,
                warmups=args.warmups,
                budget=args.budget,
                dump=dump,
            )
            results.append(result)
            print(
                f"{result.name:<36} p50 {result.p50:>9.1f} ms  p95 {result.p95:>9.1f} ms  "
                f"(n={result.runs}) {result.outcome}",
                flush=True,
            )
            for line in result.plans:
                print(f"      {line}")
        return results
    finally:
        await engine.dispose()


def markdown(results: Sequence[Result]) -> str:
    """The timing table in Markdown."""
    lines = ["| request | p50 ms | p95 ms | runs | answer |", "|---|---:|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r.name} | {r.p50:.1f} | {r.p95:.1f} | {r.runs} | {r.outcome} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.million",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--small-customers",
        type=int,
        default=2_000,
        help="customers of each of the three small organizations",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=20_260_101)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds of timed runs per request (at least 3 runs)",
    )
    parser.add_argument("--only", help="time only requests whose name contains this")
    parser.add_argument(
        "--cursor-depth",
        type=int,
        default=50_000,
        help="how deep the deep cursor pages start (0: skip the cursor pairs)",
    )
    parser.add_argument(
        "--plans-dir",
        default="/tmp/hub-bench-plans",
        help="where full plans are written ('' for nowhere)",
    )
    parser.add_argument("--json-out", help="also write the results as JSON here")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument(
        "--sqlite-analyze",
        action="store_true",
        help="run ANALYZE after a SQLite load (the hub itself never does)",
    )
    parser.add_argument("--reset", action="store_true", help="empty the database and load again")
    parser.add_argument(
        "--drop", action="store_true", help="drop the PostgreSQL database at the end"
    )
    args = parser.parse_args(argv)
    plan = Plan(args.customers, args.small_customers)
    report = prepare(
        args.database_url, plan, args.seed, reset=args.reset, sqlite_analyze=args.sqlite_analyze
    )
    if report is not None:
        print(
            f"loaded in {report.seconds:.0f} s (rows {report.seconds_copy:.0f} s, indexes "
            f"{report.seconds_indexes:.0f} s, (VACUUM) ANALYZE {report.seconds_analyze:.0f} s): "
            f"{report.rows}"
        )
    results: list[Result] = []
    if not args.load_only:
        results = asyncio.run(run_benchmarks(args, plan))
        print()
        print(markdown(results))
    if args.json_out:
        payload = {
            "database": make_url(args.database_url).get_backend_name(),
            "customers": args.customers,
            "load": None
            if report is None
            else {
                "rows": report.rows,
                "seconds_rows": report.seconds_copy,
                "seconds_indexes": report.seconds_indexes,
                "seconds_analyze": report.seconds_analyze,
            },
            "results": [
                {
                    "name": r.name,
                    "note": r.note,
                    "runs": r.runs,
                    "p50_ms": round(r.p50, 2),
                    "p95_ms": round(r.p95, 2),
                    "best_ms": round(r.best, 2),
                    "answer": r.outcome,
                    "statements": r.statements,
                    "plans": r.plans,
                }
                for r in results
            ],
        }
        Path(args.json_out).write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    if args.drop and not is_sqlite(args.database_url):
        drop_database(args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
