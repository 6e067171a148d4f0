"""The HTTP core: authentication, the envelopes, errors, request ids, logs, compression,
health/readiness and the OpenAPI document."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from litestar import Litestar, get
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql.engine import create_engine
from customers_hub.application.errors import (
    ConcurrentUpdate,
    PayloadTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
)
from customers_hub.domain.enums import Permission, Role
from customers_hub.domain.errors import (
    AssignmentRejected,
    BusinessRuleViolation,
    Duplicate,
    InvalidActionTransition,
    InvalidStageTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.app import JSON_BODY_LIMIT
from customers_hub.entrypoints.http.asgi import auth_settings
from customers_hub.entrypoints.http.auth import (
    AuthenticationFailed,
    AuthSettings,
    actor_from_token,
    issue_token,
)
from customers_hub.entrypoints.http.errors import FieldDetail, to_api_error
from customers_hub.entrypoints.settings import JWT_PUBLIC_KEY_ENV, JWT_SECRET_ENV, HubConfig

if TYPE_CHECKING:
    from conftest import MakeClient, NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(staff: Staff, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "userId": staff.id("admin"),
        "role": "admin",
        "organizationId": staff.org,
        "permissions": [p.value for p in Permission],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _unsigned(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _assert_authentication_failed(response: Any) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "AUTHENTICATION_FAILED"
    assert body["meta"]["requestId"]
    assert response.headers["www-authenticate"].startswith("Bearer")


# --- authentication ------------------------------------------------------------------------------


async def test_a_valid_token_is_accepted(client: Client, token_for: TokenFor) -> None:
    response = await client.get(CUSTOMERS, headers=token_for("admin"))
    assert response.status_code == 200
    assert response.json()["success"] is True


async def test_a_missing_token_is_401(client: Client) -> None:
    _assert_authentication_failed(await client.get(CUSTOMERS))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer    ", "token abc"])
async def test_a_malformed_authorization_header_is_401(client: Client, header: str) -> None:
    _assert_authentication_failed(await client.get(CUSTOMERS, headers={"Authorization": header}))


async def test_an_expired_token_is_401(client: Client, auth: AuthSettings, staff: Staff) -> None:
    token = issue_token(
        auth,
        staff.id("admin"),
        Role.ADMIN,
        staff.org,
        list(Permission),
        ttl=timedelta(minutes=10),
        now=datetime.now(UTC) - timedelta(hours=2),
    )
    response = await client.get(CUSTOMERS, headers={"Authorization": f"Bearer {token}"})
    _assert_authentication_failed(response)


async def test_a_tampered_token_is_401(client: Client, token_for: TokenFor, staff: Staff) -> None:
    token = token_for("agent")["Authorization"].removeprefix("Bearer ")
    header, _, signature = token.split(".")
    # Promote the agent to admin without re-signing.
    forged = _b64(json.dumps(_claims(staff, userId=staff.id("agent"))).encode())
    response = await client.get(
        CUSTOMERS, headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}
    )
    _assert_authentication_failed(response)


async def test_an_unsigned_alg_none_token_is_401(client: Client, staff: Staff) -> None:
    response = await client.get(
        CUSTOMERS, headers={"Authorization": f"Bearer {_unsigned(_claims(staff))}"}
    )
    _assert_authentication_failed(response)


async def test_a_token_signed_with_another_secret_is_401(client: Client, staff: Staff) -> None:
    token = jwt.encode(_claims(staff), "another-secret-of-sufficient-length!!", algorithm="HS256")
    _assert_authentication_failed(
        await client.get(CUSTOMERS, headers={"Authorization": f"Bearer {token}"})
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"role": "superuser"},
        {"permissions": ["customers.read", "customers.everything"]},
        {"permissions": "customers.read"},
        {"userId": None},
        {"organizationId": None},
        {"role": None},
        {"exp": None},
        {"userId": ""},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
async def test_bad_claims_are_401(
    client: Client, auth: AuthSettings, staff: Staff, overrides: dict[str, Any]
) -> None:
    claims = _claims(staff)
    claims.update(overrides)
    assert auth.secret is not None
    token = jwt.encode(
        {k: v for k, v in claims.items() if v is not None}, auth.secret, algorithm="HS256"
    )
    _assert_authentication_failed(
        await client.get(CUSTOMERS, headers={"Authorization": f"Bearer {token}"})
    )


async def test_the_organization_header_must_match_the_token(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    matching = await client.get(
        CUSTOMERS, headers=token_for("admin", headers={"X-Organization-ID": staff.org})
    )
    assert matching.status_code == 200
    other = await client.get(
        CUSTOMERS, headers=token_for("admin", headers={"X-Organization-ID": staff.other_org})
    )
    assert other.status_code == 403
    error = other.json()["error"]
    assert error["code"] == "PERMISSION_DENIED"
    assert error["details"] == {"requiredPermission": "organization.access", "currentRole": "admin"}


def _rsa_pair() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode("ascii")


def _ec_pair() -> tuple[bytes, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode("ascii")


@pytest.mark.parametrize(("algorithm", "pair"), [("RS256", _rsa_pair), ("ES256", _ec_pair)])
async def test_tokens_of_an_identity_service_are_verified_with_its_public_key(
    make_client: MakeClient,
    staff: Staff,
    new_customer: NewCustomer,
    algorithm: str,
    pair: Any,
) -> None:
    private, public = pair()
    settings = AuthSettings(public_key=public)
    customer = await new_customer()
    signed = jwt.encode(_claims(staff), private, algorithm=algorithm)
    hs256 = jwt.encode(_claims(staff), "some-shared-secret-that-is-long-enough", algorithm="HS256")
    # Algorithm confusion: HMAC keyed with the public key's text must not pass either.
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(staff)).encode())
    mac = hmac.new(public.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{payload}.{_b64(mac)}"
    other_private, _ = pair()
    foreign = jwt.encode(_claims(staff), other_private, algorithm=algorithm)
    async with make_client(auth=settings) as other:
        accepted = await other.get(
            f"{CUSTOMERS}/{customer.id}", headers={"Authorization": f"Bearer {signed}"}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["data"]["customer"]["id"] == customer.id
        for token in (hs256, confused, foreign):
            response = await other.get(CUSTOMERS, headers={"Authorization": f"Bearer {token}"})
            _assert_authentication_failed(response)


def test_auth_settings_from_the_environment(tmp_path: Path) -> None:
    _, public = _rsa_pair()
    key_file = tmp_path / "identity.pem"
    key_file.write_text(public, encoding="ascii")
    data_dir = {"CUSTOMERS_HUB_DATA_DIR": str(tmp_path / "data")}

    def from_env(**env: str) -> AuthSettings:
        return auth_settings(HubConfig.from_env({**data_dir, **env}))

    both = from_env(**{JWT_SECRET_ENV: "s" * 32, JWT_PUBLIC_KEY_ENV: str(key_file)})
    assert both.secret == "s" * 32
    assert both.public_key == public
    assert both.accepted_algorithms == ("HS256", "RS256", "ES256")
    only_key = from_env(**{JWT_PUBLIC_KEY_ENV: str(key_file)})
    assert "HS256" not in only_key.accepted_algorithms
    assert not (tmp_path / "data").exists()  # a configured key: no secret is stored
    stored = from_env()  # no key at all: the secret stored in the data directory
    assert stored.secret == (tmp_path / "data" / "jwt-secret").read_text(encoding="ascii").strip()
    assert stored.public_key is None
    with pytest.raises(ValueError, match=JWT_SECRET_ENV):
        AuthSettings()
    with pytest.raises(ValueError, match=f"cannot read {JWT_PUBLIC_KEY_ENV}"):
        from_env(**{JWT_PUBLIC_KEY_ENV: str(tmp_path / "missing.pem")})
    with pytest.raises(ValueError, match="unsupported"):
        AuthSettings(secret="x" * 32, algorithms=("none",))


def test_actor_from_token_reads_the_documented_claims(auth: AuthSettings) -> None:
    token = issue_token(
        auth,
        "emp_001",
        Role.SALES_AGENT,
        "org_123456",
        [Permission.CUSTOMERS_READ, Permission.ACTIONS_WRITE],
        name="أحمد السعيد",
        email="agent@taearif.com",
    )
    actor = actor_from_token(auth, token)
    assert actor.user_id == "emp_001"
    assert actor.organization_id == "org_123456"
    assert actor.role is Role.SALES_AGENT
    assert actor.permissions == {Permission.CUSTOMERS_READ, Permission.ACTIONS_WRITE}
    assert actor.name == "أحمد السعيد"
    assert actor.email == "agent@taearif.com"
    with pytest.raises(AuthenticationFailed):
        actor_from_token(auth, token + "x")


def test_a_verified_token_is_remembered_only_within_its_time_window() -> None:
    # Tokens are remembered after one full check; a remembered token must still stop working
    # at its expiry, and only under the configuration that verified it.
    auth = AuthSettings(secret="s" * 40, leeway=timedelta(0))
    now = datetime.now(UTC)
    claims = {
        "userId": "emp_001",
        "role": "admin",
        "organizationId": "org_123456",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 2,
    }
    token = jwt.encode(claims, auth.secret, algorithm="HS256")
    first = actor_from_token(auth, token)
    assert token in auth.verified
    assert actor_from_token(auth, token) is first
    with pytest.raises(AuthenticationFailed):
        actor_from_token(AuthSettings(secret="t" * 40), token)
    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.05)
    with pytest.raises(AuthenticationFailed, match="expired"):
        actor_from_token(auth, token)
    assert token not in auth.verified
    later = jwt.encode(
        {**claims, "iat": claims["iat"] + 3600, "exp": claims["exp"] + 7200}, auth.secret
    )
    with pytest.raises(AuthenticationFailed):
        actor_from_token(auth, later)  # issued in the future
    assert later not in auth.verified


# --- envelopes, request ids, errors --------------------------------------------------------------


async def test_the_request_id_is_echoed(client: Client, token_for: TokenFor) -> None:
    response = await client.get(
        CUSTOMERS, headers=token_for("admin", headers={"X-Request-ID": "abc-123"})
    )
    assert response.headers["x-request-id"] == "abc-123"
    meta = response.json()["meta"]
    assert meta["requestId"] == "abc-123"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["timestamp"])
    failed = await client.get(CUSTOMERS, headers={"X-Request-ID": "err-456"})
    assert failed.status_code == 401
    assert failed.json()["meta"]["requestId"] == "err-456"
    assert failed.headers["x-request-id"] == "err-456"


async def test_a_request_id_is_generated_when_none_usable_is_sent(
    client: Client, token_for: TokenFor
) -> None:
    first = await client.get(CUSTOMERS, headers=token_for("admin"))
    second = await client.get(
        CUSTOMERS, headers=token_for("admin", headers={"X-Request-ID": "has spaces\tand tabs"})
    )
    ids = [r.json()["meta"]["requestId"] for r in (first, second)]
    assert all(re.fullmatch(r"req_[0-9a-f]{16}", i) for i in ids)
    assert ids[0] != ids[1]
    assert second.headers["x-request-id"] == ids[1]


async def test_malformed_json_is_400_naming_the_body_and_creates_nothing(
    client: Client, token_for: TokenFor
) -> None:
    headers = {**token_for("admin"), "Content-Type": "application/json"}
    for raw in (b'{"name": "x", "phone": ', b"[1, 2]", b"\xff\xfe"):
        response = await client.post(CUSTOMERS, content=raw, headers=headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in error["details"]] == ["body"]
    listed = await client.get(CUSTOMERS, headers=token_for("admin"))
    assert listed.json()["data"]["pagination"]["totalItems"] == 0


async def test_an_unknown_route_is_a_404_envelope(client: Client) -> None:
    for path in ("/api/v1/nothing-here", "/nowhere", "/api/v1/customers/x/y/z"):
        response = await client.get(path, headers={"X-Request-ID": "r-404"})
        assert response.status_code == 404
        body = response.json()
        assert body["success"] is False
        assert body["error"]["code"] == "RESOURCE_NOT_FOUND"
        assert body["meta"]["requestId"] == "r-404"


async def test_a_wrong_method_is_405(client: Client, token_for: TokenFor) -> None:
    response = await client.delete(CUSTOMERS, headers=token_for("admin"))
    assert response.status_code == 405
    error = response.json()["error"]
    assert error["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in error["details"]["allowedMethods"]


async def test_an_unexpected_error_is_a_500_without_the_stack_trace(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, token_for: TokenFor
) -> None:
    secret_detail = "database password is hunter2 for +966551234567"

    @get("/api/v1/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError(secret_detail)

    async with make_client() as other:
        other.app.register(boom)
        with caplog.at_level(logging.INFO, logger="customers_hub.http"):
            # A route registered like this is authenticated too (PUBLIC_ROUTES): send a token.
            response = await other.get(
                "/api/v1/boom", headers={"X-Request-ID": "r-500", **token_for("admin")}
            )
    assert response.status_code == 500
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "INTERNAL_ERROR"
    assert body["meta"]["requestId"] == "r-500"
    for leaked in ("hunter2", "Traceback", "RuntimeError", "test_http_core", "551234567"):
        assert leaked not in response.text
    errors = [json.loads(r.getMessage()) for r in caplog.records if "http.error" in r.getMessage()]
    assert errors, "the 500 was not logged"
    assert errors[0]["requestId"] == "r-500"
    assert errors[0]["exception"] == "RuntimeError"
    assert any("boom" in frame for frame in errors[0]["traceback"])
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


async def test_a_json_body_over_the_limit_is_413(client: Client, token_for: TokenFor) -> None:
    body = json.dumps({"name": "x", "phone": "0551234567", "notes": "n" * JSON_BODY_LIMIT})
    response = await client.post(
        CUSTOMERS, content=body, headers={**token_for("admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    listed = await client.get(CUSTOMERS, headers=token_for("admin"))
    assert listed.json()["data"]["pagination"]["totalItems"] == 0


# --- operations ----------------------------------------------------------------------------------


async def test_responses_are_gzipped_when_the_client_accepts_it(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    for _ in range(3):
        await new_customer()
    plain = await client.get(
        CUSTOMERS, headers={**token_for("admin"), "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    zipped = await client.get(CUSTOMERS, headers={**token_for("admin"), "Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json()["data"]["pagination"]["totalItems"] == 3  # httpx decompresses
    # At zlib's default level, not the slowest: the gzip header's XFL byte is 2 at level 9.
    async with client.stream(
        "GET", CUSTOMERS, headers={**token_for("admin"), "Accept-Encoding": "gzip"}
    ) as raw:
        header = b"".join([chunk async for chunk in raw.aiter_raw()])[:10]
    assert header[:2] == b"\x1f\x8b"
    assert header[8] == 0


async def test_health_and_readiness(client: Client) -> None:
    health = await client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_readiness_is_503_when_the_database_is_unreachable(
    make_client: MakeClient, hub: Hub, tmp_path: Path
) -> None:
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'nested' / 'hub.db'}")

    class UnreachableHub(Hub):
        @property
        def engine(self) -> AsyncEngine:
            return unreachable

        async def start(self, *, migrate: bool | None = None) -> UnreachableHub:
            return self

    try:
        async with make_client(hub=UnreachableHub(hub.container, hub.config)) as other:
            response = await other.get("/ready")
            assert (await other.get("/health")).status_code == 200
    finally:
        await unreachable.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_the_openapi_document_lists_every_api_route(client: Client, app: Litestar) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert "BearerAuth" in document["components"]["securitySchemes"]
    served = {
        re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute)  # OpenAPI has no place for the WebSocket (/api/v1/ws)
        and route.path.startswith("/api/v1/")
        and "/docs" not in route.path
        and not route.path.endswith("/openapi.json")
    }
    assert served, "no API routes mounted"
    assert served <= set(document["paths"]), served - set(document["paths"])
    operation_ids: list[str] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            assert operation.get("operationId"), f"{method} {path} has no operationId"
            operation_ids.append(operation["operationId"])
            if path.startswith("/api/v1/"):
                assert {"400", "401", "500"} <= set(operation["responses"]), (method, path)
                error_schema = operation["responses"]["401"]["content"]["application/json"]
                assert error_schema["schema"]["$ref"].endswith("/ErrorEnvelope")
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"
    text = response.text
    assert "customers_hub" not in text, "schema names must not leak module paths"
    components = set(document["components"]["schemas"])
    refs = set(re.findall(r'"\$ref":\s*"#/components/schemas/([^"]+)"', text))
    assert refs <= components, refs - components
    assert {"CustomerDataEnvelope", "ErrorEnvelope", "CustomerOut", "Pagination"} <= components


async def test_the_docs_page_answers(client: Client) -> None:
    response = await client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "swagger-ui" in response.text.lower()
    assert "Customers Hub API" in response.text


async def test_one_structured_log_line_per_request_without_personal_data(
    client: Client, token_for: TokenFor, staff: Staff, caplog: pytest.LogCaptureFixture
) -> None:
    phone_digits = "501239876"
    with caplog.at_level(logging.INFO, logger="customers_hub.http"):
        created = await client.post(
            CUSTOMERS,
            json={
                "name": "محمد الفهد",
                "phone": f"0{phone_digits}",
                "email": "m.fahd@mail.sa",
                "source": "referral",  # required on create (strict bodies)
            },
            headers=token_for("admin", headers={"X-Request-ID": "log-1"}),
        )
        await client.get(
            CUSTOMERS,
            params={"search": f"0{phone_digits}"},
            headers=token_for("admin", headers={"X-Request-ID": "log-2"}),
        )
        await client.post(
            CUSTOMERS,
            json={"name": "x", "phone": f"0{phone_digits}", "source": "referral"},
            headers=token_for("admin", headers={"X-Request-ID": "log-3"}),
        )
    assert created.status_code == 201
    lines = [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "customers_hub.http" and '"http.request"' in r.getMessage()
    ]
    by_id = {line["requestId"]: line for line in lines}
    assert set(by_id) >= {"log-1", "log-2", "log-3"}
    first = by_id["log-1"]
    assert first["method"] == "POST"
    assert first["path"] == CUSTOMERS
    assert first["status"] == 201
    assert first["userId"] == staff.id("admin")
    assert first["organizationId"] == staff.org
    assert isinstance(first["duration_ms"], float | int)
    assert by_id["log-3"]["status"] == 409
    for record in caplog.records:
        text = record.getMessage()
        assert phone_digits not in text
        assert "m.fahd" not in text
        assert "محمد" not in text


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ValidationFailed.single("phone", "bad"), 400, "VALIDATION_ERROR"),
        (AuthenticationFailed("expired"), 401, "AUTHENTICATION_FAILED"),
        (
            PermissionDenied("no", required_permission="x.y", current_role="viewer"),
            403,
            "PERMISSION_DENIED",
        ),
        (NotFound("customer", "c1"), 404, "RESOURCE_NOT_FOUND"),
        (Duplicate("dup", field="phone"), 409, "DUPLICATE_RESOURCE"),
        (ConcurrentUpdate("customer", "c1"), 409, "CONCURRENT_UPDATE"),
        (
            PreconditionFailed("customer", "c1", expected_version=1, current_version=2),
            412,
            "PRECONDITION_FAILED",
        ),
        (PayloadTooLarge(10, 5), 413, "PAYLOAD_TOO_LARGE"),
        (UnsupportedMediaType("text/plain", ("application/pdf",)), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (InvalidStageTransition("skip", {"fromStage": "a"}), 422, "INVALID_STAGE_TRANSITION"),
        (InvalidActionTransition("done", {"fromStatus": "x"}), 422, "INVALID_ACTION_TRANSITION"),
        (AssignmentRejected("inactive", {"field": "assignedTo"}), 422, "VALIDATION_ERROR"),
        (BusinessRuleViolation("no"), 422, "BUSINESS_RULE_VIOLATION"),
        (KeyError("secret"), 500, "INTERNAL_ERROR"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_every_error_maps_to_its_status_and_code(
    error: BaseException, status: int, code: str
) -> None:
    translated = to_api_error(error)
    assert (translated.status, translated.code) == (status, code)
    if status == 422 and code == "VALIDATION_ERROR":
        assert translated.details == [FieldDetail("assignedTo", "inactive")]
    if status == 500:
        assert "secret" not in translated.message
