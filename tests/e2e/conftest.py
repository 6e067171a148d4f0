"""End-to-end fixtures: the real HTTP service on a temporary SQLite file.

* ``hub`` (session): a hub on a temp SQLite file with its documents in a temp directory and a
  small document limit (:data:`TEST_MAX_DOCUMENT_BYTES`) so the 413 tests stay fast.
* ``auth`` (session): HS256 settings with :data:`TEST_SECRET`.
* ``app`` / ``client`` (session): ``create_app(hub, auth=auth)`` and an ``AsyncTestClient``
  on it (lifespan run once).
* ``staff`` (per test): a fresh organization with an admin, a sales manager managing two
  agents, an agent outside the team, a viewer — and another organization's admin. Created
  through the ``create_employee`` use case. Tests are isolated by organization.
* ``token_for(who, ...)``: ``Authorization`` headers for a staff key (``"admin"``,
  ``"manager"``, ``"agent"``, ``"agent2"``, ``"outsider"``, ``"viewer"``, ``"other_admin"``), an
  :class:`Actor`, an :class:`Employee` or a role name; ``permissions=`` overrides the role's
  default permissions.
* ``new_customer(by="admin", assigned="agent", **fields)``: a customer created through the use
  case (a unique Saudi mobile each time).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
from attrs import frozen
from jsonschema import Draft202012Validator
from litestar import Litestar
from litestar.testing import AsyncTestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.domain.enums import CustomerSource, Permission, Role
from customers_hub.domain.model import Actor, Customer, Employee
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token
from customers_hub.entrypoints.settings import SNOOZE_INTERVAL_ENV, HubConfig
from customers_hub.testing.strategies import ROLE_PERMISSIONS

TEST_SECRET = "e2e-test-secret-that-is-long-enough-for-hs256"
TEST_MAX_DOCUMENT_BYTES = 256 * 1024

# The public strategies' table: one definition of each role's usual token claims.


def actor_for(employee: Employee, permissions: Iterable[Permission] | None = None) -> Actor:
    """The actor a token for ``employee`` stands for."""
    return Actor(
        user_id=employee.id,
        organization_id=employee.organization_id,
        role=employee.role,
        permissions=frozenset(
            permissions if permissions is not None else ROLE_PERMISSIONS[employee.role]
        ),
        name=employee.name,
        email=employee.email,
    )


@frozen
class Staff:
    """The seeded organization (and another one)."""

    org: str
    other_org: str
    employees: dict[str, Employee]

    def actor(self, key: str) -> Actor:
        """The actor of staff member ``key``."""
        return actor_for(self.employees[key])

    @property
    def admin(self) -> Actor:
        """The organization's admin."""
        return self.actor("admin")

    def id(self, key: str) -> str:
        """The employee id of staff member ``key``."""
        return self.employees[key].id


class TokenFor(Protocol):
    """``token_for(who, *, permissions=None, **claims) -> headers``."""

    def __call__(
        self,
        who: str | Actor | Employee,
        *,
        permissions: Iterable[Permission | str] | None = None,
        **claims: Any,
    ) -> dict[str, str]: ...


class NewCustomer(Protocol):
    """``await new_customer(by="admin", assigned="agent", **fields) -> Customer``."""

    def __call__(
        self, by: str | Actor = "admin", assigned: str | None = "agent", **fields: Any
    ) -> Awaitable[Customer]: ...


@pytest.fixture(scope="session", autouse=True)
def _no_background_jobs() -> Iterator[None]:
    """Apps built here do not start the snooze wake-up job: the test client runs each app in an
    event loop of its own, and the job would use the hub's engine there while fixtures use it
    in the tests' loop (one engine in two loops at once hangs). Its tests turn it on."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SNOOZE_INTERVAL_ENV, "off")
        yield


@pytest.fixture(scope="session")
def auth() -> AuthSettings:
    """HS256 token settings shared by the app and the tokens of the tests."""
    return AuthSettings(secret=TEST_SECRET)


@pytest.fixture(scope="session")
def hub_config(tmp_path_factory: pytest.TempPathFactory) -> HubConfig:
    """A temp data directory with the SQLite file and documents; a small document limit; rate
    limits off (tests send many requests as one user)."""
    data_dir: Path = tmp_path_factory.mktemp("hub")
    return HubConfig(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'hub.db'}",
        max_document_bytes=TEST_MAX_DOCUMENT_BYTES,
        rate_limits_enabled=False,  # the rate-limit tests turn them on for their own apps
        snooze_interval=None,  # see _no_background_jobs
    )


@pytest.fixture(scope="session")
async def hub(hub_config: HubConfig) -> AsyncIterator[Hub]:
    """The hub under test (schema migrated once)."""
    built = build_hub(config=hub_config)
    await built.start()
    yield built
    await built.close()


@pytest.fixture(scope="session")
def app(hub: Hub, auth: AuthSettings) -> Litestar:
    """The HTTP service of ``hub``."""
    return create_app(hub, auth=auth)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A test client on ``app`` (lifespan run once for the session)."""
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


class SharedHub(Hub):
    """The session hub for an extra app: its lifespan neither migrates nor disposes anything."""

    async def start(self, *, migrate: bool | None = None) -> SharedHub:
        return self

    async def close(self) -> None:
        return None


class MakeClient(Protocol):
    """``async with make_client(auth=..., hub=..., snooze_interval=...) as client`` — another
    app on the hub (``snooze_interval`` runs its snooze wake-up job)."""

    def __call__(
        self,
        *,
        auth: AuthSettings | None = None,
        hub: Hub | None = None,
        snooze_interval: float | None = None,
    ) -> AbstractAsyncContextManager[AsyncTestClient[Litestar]]: ...


@pytest.fixture
def make_client(hub: Hub, auth: AuthSettings) -> MakeClient:
    """A client on another ``create_app`` (other auth settings, extra routes via
    ``client.app.register``). By default it shares the session hub (wrapped in
    :class:`SharedHub` so its lifespan leaves the hub alone); a given ``hub`` is used as is."""

    @asynccontextmanager
    async def make(
        *,
        auth: AuthSettings | None = None,
        hub: Hub | None = None,
        snooze_interval: float | None = None,
    ) -> AsyncIterator[AsyncTestClient[Litestar]]:
        target = hub if hub is not None else SharedHub(session_hub.container, session_hub.config)
        app = create_app(target, auth=auth or session_auth, snooze_interval=snooze_interval)
        async with AsyncTestClient(app=app) as test_client:
            yield test_client

    session_hub, session_auth = hub, auth
    return make


_STAFF_PLAN: tuple[tuple[str, str, Role, str | None, str], ...] = (
    # key, id, role, manager key, name
    ("admin", "emp_admin", Role.ADMIN, None, "سارة المدير"),
    ("manager", "emp_manager", Role.SALES_MANAGER, None, "خالد العتيبي"),
    ("agent", "emp_agent1", Role.SALES_AGENT, "manager", "أحمد السعيد"),
    ("agent2", "emp_agent2", Role.SALES_AGENT, "manager", "فاطمة المحمد"),
    ("outsider", "emp_outsider", Role.SALES_AGENT, None, "عمر الحربي"),
    ("viewer", "emp_viewer", Role.VIEWER, None, "نورة القحطاني"),
)


@pytest.fixture
async def staff(hub: Hub) -> Staff:
    """A fresh organization's team, and another organization's admin."""
    org = f"org_{uuid.uuid4().hex[:12]}"
    other_org = f"org_{uuid.uuid4().hex[:12]}"
    bootstrap = Actor("bootstrap", org, Role.ADMIN, frozenset(Permission), name="Bootstrap")
    employees: dict[str, Employee] = {}
    for key, employee_id, role, manager, name in _STAFF_PLAN:
        employees[key] = await create_employee(
            hub.deps,
            bootstrap,
            CreateEmployee(
                id=employee_id,
                name=name,
                role=role,
                email=f"{employee_id}@taearif.example",
                manager_id=employees[manager].id if manager else None,
            ),
        )
    other_bootstrap = Actor("bootstrap", other_org, Role.ADMIN, frozenset(Permission))
    employees["other_admin"] = await create_employee(
        hub.deps,
        other_bootstrap,
        CreateEmployee(id="emp_other_admin", name="مدير آخر", role=Role.ADMIN),
    )
    return Staff(org=org, other_org=other_org, employees=employees)


@pytest.fixture
def token_for(auth: AuthSettings, staff: Staff) -> TokenFor:
    """Authorization headers for a staff member, an actor, an employee or a bare role."""

    def headers(
        who: str | Actor | Employee,
        *,
        permissions: Iterable[Permission | str] | None = None,
        **claims: Any,
    ) -> dict[str, str]:
        if isinstance(who, str) and who in staff.employees:
            actor = staff.actor(who)
        elif isinstance(who, str):
            role = Role(who)
            actor = Actor(f"user_{role.value}", staff.org, role, ROLE_PERMISSIONS[role])
        elif isinstance(who, Employee):
            actor = actor_for(who)
        else:
            actor = who
        granted = permissions if permissions is not None else actor.permissions
        token = issue_token(
            auth,
            claims.pop("user_id", actor.user_id),
            claims.pop("role", actor.role),
            claims.pop("org", actor.organization_id),
            list(granted),
            claims.pop("ttl", 3600),
            name=claims.pop("name", actor.name),
            email=claims.pop("email", actor.email),
        )
        return {"Authorization": f"Bearer {token}", **claims.pop("headers", {})}

    return headers


_PHONES = itertools.count(1_000_001)


def unique_phone() -> str:
    """A Saudi mobile number no other test has used in this session."""
    return f"+96655{next(_PHONES):07d}"


@pytest.fixture
def new_customer(hub: Hub, staff: Staff) -> NewCustomer:
    """Create a customer through the use case (as ``by``, assigned to staff ``assigned``)."""

    async def make(
        by: str | Actor = "admin", assigned: str | None = "agent", **fields: Any
    ) -> Customer:
        actor = staff.actor(by) if isinstance(by, str) else by
        values: dict[str, Any] = {
            "name": "محمد الفهد",
            "phone": unique_phone(),
            "source": CustomerSource.MANUAL,
            "city": "الرياض",
        }
        if assigned is not None:
            values["assigned_employee_id"] = staff.id(assigned)
        values.update(fields)
        return (
            await create_customer(hub.deps, actor, CreateCustomer(CustomerDraft(**values)))
        ).customer

    return make


async def document_validator(
    client: AsyncTestClient[Litestar], schema: str
) -> Draft202012Validator:
    """A JSON Schema validator of the served document's ``components.schemas[schema]``: what a
    client (or the fuzzer) coded from the document accepts."""
    document = (await client.get("/api/v1/openapi.json")).json()
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:doc", resource)
    return Draft202012Validator(
        {"$ref": f"urn:doc#/components/schemas/{schema}"}, registry=registry
    )
