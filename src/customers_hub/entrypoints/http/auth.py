"""Bearer-token authentication: who is calling, from a verified JWT.

Tokens carry the API document's claims: ``userId`` (the employee id), ``role``,
``organizationId``, ``permissions``, ``email``, optional ``name``, ``iat`` and ``exp``.

* HS256 with a shared secret (``CUSTOMERS_HUB_JWT_SECRET``): the service's own tokens
  (``customers-hub token``, tests).
* RS256 / ES256 with a public key (``CUSTOMERS_HUB_JWT_PUBLIC_KEY``, the path to a PEM file):
  tokens issued by an identity service.

The algorithm list is always explicit and never holds ``none``; the key is chosen by the token's
algorithm (the secret only for HS256, the public key only for RS256/ES256), so a token signed
with HMAC over the public key's text is refused. Missing, expired, tampered or unsigned tokens,
unknown roles or permissions, missing required claims and ids longer than the id columns
(:data:`ID_CLAIM_MAX_LENGTH`) are all the same 401 ``AUTHENTICATION_FAILED``; the reason goes
to the log only. A ``name`` claim no name column can hold (longer than
:data:`NAME_CLAIM_MAX_LENGTH`, blank, or with control characters) is not an error — a token is
not input its bearer can correct — but is not used either: a write is then named after the
caller's employee record, or its user id (:func:`provide_actor`).

A token is verified once per request (:func:`verified_actor`): the result — the :class:`Actor`
or the failure — is kept in the request's scope state under :data:`ACTOR_STATE_KEY`, where the
authentication middleware (:class:`.middleware.AuthenticationMiddleware`), the rate limiter and
the ``actor`` dependency all read it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from attrs import field, frozen
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.types import Scope

from customers_hub.application.use_cases.employees import with_display_name
from customers_hub.domain.access import check_organization_header
from customers_hub.domain.enums import Permission, Role
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import current_context
from customers_hub.entrypoints.http.headers import scope_header
from customers_hub.entrypoints.http.wire.base import READ_METHODS
from customers_hub.entrypoints.settings import JWT_PUBLIC_KEY_ENV, JWT_SECRET_ENV

__all__ = [
    "ACTOR_STATE_KEY",
    "ASYMMETRIC_ALGORITHMS",
    "ORGANIZATION_HEADER",
    "REQUIRED_CLAIMS",
    "AuthSettings",
    "AuthenticationFailed",
    "actor_from_token",
    "authenticate",
    "bearer_token",
    "checked_actor",
    "issue_token",
    "provide_actor",
    "verified_actor",
]

ORGANIZATION_HEADER: Final = "X-Organization-ID"
SYMMETRIC_ALGORITHMS: Final = ("HS256",)
ASYMMETRIC_ALGORITHMS: Final = ("RS256", "ES256")
REQUIRED_CLAIMS: Final = ("userId", "role", "organizationId", "exp")
DEFAULT_LEEWAY_SECONDS: Final = 30
ACTOR_STATE_KEY: Final = "customers_hub.actor"
"""Scope state key of the caller verified from the request's token (:func:`verified_actor`)."""
_FAILURE_STATE_KEY: Final = "customers_hub.authentication_failure"
_CALLER_STATE_KEY: Final = "customers_hub.caller"
_CHECKED_STATE_KEY: Final = "customers_hub.checked_actor"
IGNORED_PERMISSIONS: Final = frozenset({"employees.read", "employees.write"})
"""Permissions that tokens issued by earlier versions carry; accepted and ignored, since
employees are now decided by the role alone (rules §4)."""


class AuthenticationFailed(Exception):
    """The request carries no valid token (401 ``AUTHENTICATION_FAILED``).

    ``reason`` is for the log; the client always reads the same generic message.
    """

    code = "AUTHENTICATION_FAILED"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


VERIFIED_TOKENS_KEPT: Final = 10_000
"""How many verified tokens one configuration remembers (all forgotten when full)."""


@frozen
class _Verified:
    actor: Actor
    expires: float
    not_before: float


@frozen
class AuthSettings:
    """How tokens are verified.

    ``secret`` enables HS256; ``public_key`` (PEM text) enables RS256 and ES256. ``algorithms``
    restricts the accepted ones further (default: every algorithm a configured key enables).
    ``leeway`` tolerates clock differences on ``exp``/``iat``/``nbf``.
    """

    secret: str | None = None
    public_key: str | None = None
    algorithms: tuple[str, ...] | None = None
    leeway: timedelta = timedelta(seconds=DEFAULT_LEEWAY_SECONDS)
    # Tokens this configuration already verified (see ``actor_from_token``); not a setting.
    verified: dict[str, _Verified] = field(factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.secret and not self.public_key:
            raise ValueError(
                f"no token verification key: set {JWT_SECRET_ENV} (HS256) or "
                f"{JWT_PUBLIC_KEY_ENV} (path to a PEM public key, RS256/ES256)"
            )
        unknown = set(self.algorithms or ()) - {*SYMMETRIC_ALGORITHMS, *ASYMMETRIC_ALGORITHMS}
        if unknown:
            raise ValueError(f"unsupported JWT algorithms: {', '.join(sorted(unknown))}")

    @property
    def accepted_algorithms(self) -> tuple[str, ...]:
        """The algorithms a token may be signed with (never ``none``)."""
        enabled: list[str] = []
        if self.secret:
            enabled += SYMMETRIC_ALGORITHMS
        if self.public_key:
            enabled += ASYMMETRIC_ALGORITHMS
        if self.algorithms is not None:
            enabled = [a for a in enabled if a in self.algorithms]
        return tuple(enabled)

    def key_for(self, algorithm: str) -> str | None:
        """The verification key of ``algorithm``, or None when it is not accepted."""
        if algorithm not in self.accepted_algorithms:
            return None
        return self.secret if algorithm in SYMMETRIC_ALGORITHMS else self.public_key


def issue_token(
    settings: AuthSettings,
    user_id: str,
    role: Role | str,
    org: str,
    permissions: Iterable[Permission | str],
    ttl: timedelta | int = timedelta(hours=24),
    name: str | None = None,
    email: str | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """An HS256 token signed with ``settings.secret`` (for the CLI and tests).

    ``ttl`` is a :class:`~datetime.timedelta` or seconds.
    """
    if not settings.secret:
        raise ValueError(f"issuing tokens needs a secret ({JWT_SECRET_ENV})")
    issued = (now or datetime.now(UTC)).astimezone(UTC)
    lifetime = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    claims: dict[str, Any] = {
        "userId": user_id,
        "role": Role(role).value,
        "organizationId": org,
        "permissions": [Permission(p).value for p in permissions],
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    if name is not None:
        claims["name"] = name
    if email is not None:
        claims["email"] = email
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def _text_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        raise AuthenticationFailed(f"claim {name} must be a non-empty string")
    return value


def _optional_text_claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AuthenticationFailed(f"claim {name} must be a string")
    return value or None


NAME_CLAIM_MAX_LENGTH: Final = 255
"""Longest ``name`` claim taken as the display name (the ``changedBy``-like columns' size)."""

ID_CLAIM_MAX_LENGTH: Final = 50
"""Longest ``userId`` / ``organizationId`` claim: the id columns (``changed_by_id``,
``organization_id``, …) are ``String(50)``. A longer id is refused (401), never shortened: a
shortened id could name another employee or organization."""


def _id_claim(claims: Mapping[str, Any], name: str) -> str:
    value = _text_claim(claims, name)
    if len(value) > ID_CLAIM_MAX_LENGTH:
        raise AuthenticationFailed(f"claim {name} is longer than {ID_CLAIM_MAX_LENGTH} characters")
    return value


def _display_name_claim(claims: Mapping[str, Any]) -> str | None:
    # A name that no column can hold, or that carries control characters, is not shown to
    # people: the employee record's name is used instead (provide_actor).
    name = _optional_text_claim(claims, "name")
    if name is None:
        return None
    name = name.strip()
    if not name or len(name) > NAME_CLAIM_MAX_LENGTH or any(ord(c) < 32 for c in name):
        return None
    return name


def actor_from_token(settings: AuthSettings, token: str) -> Actor:
    """The :class:`Actor` of a verified token, or :class:`AuthenticationFailed`.

    A client sends the same token with every request: once its signature and claims are
    verified, the actor is kept (at most :data:`VERIFIED_TOKENS_KEPT` tokens per configuration)
    and later requests only check its time window again — the signature check and claim
    parsing were most of an authenticated cache hit's CPU.
    """
    kept = settings.verified.get(token)
    if kept is not None:
        now, leeway = time.time(), settings.leeway.total_seconds()
        if kept.not_before - leeway <= now < kept.expires + leeway:
            return kept.actor
        settings.verified.pop(token, None)  # out of its window: the full check says why
    actor, claims = _verified_claims(settings, token)
    if len(settings.verified) >= VERIFIED_TOKENS_KEPT:
        settings.verified.clear()
    settings.verified[token] = _Verified(
        actor=actor,
        expires=float(claims["exp"]),
        not_before=max(
            (float(claims[c]) for c in ("nbf", "iat") if isinstance(claims.get(c), int | float)),
            default=float("-inf"),
        ),
    )
    return actor


def _verified_claims(settings: AuthSettings, token: str) -> tuple[Actor, dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise AuthenticationFailed(f"malformed token: {error}") from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str):
        raise AuthenticationFailed("token names no algorithm")
    key = settings.key_for(algorithm)
    if key is None:
        raise AuthenticationFailed(f"algorithm {algorithm!r} is not accepted")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            leeway=settings.leeway,
            options={"require": list(REQUIRED_CLAIMS), "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise AuthenticationFailed(f"invalid token: {error}") from None
    try:
        role = Role(_text_claim(claims, "role"))
    except ValueError:
        raise AuthenticationFailed("unknown role") from None
    raw_permissions = claims.get("permissions", [])
    if not isinstance(raw_permissions, list) or not all(
        isinstance(p, str) for p in raw_permissions
    ):
        raise AuthenticationFailed("claim permissions must be a list of strings")
    try:
        permissions = frozenset(
            Permission(p) for p in raw_permissions if p not in IGNORED_PERMISSIONS
        )
    except ValueError:
        raise AuthenticationFailed("unknown permission") from None
    actor = Actor(
        user_id=_id_claim(claims, "userId"),
        organization_id=_id_claim(claims, "organizationId"),
        role=role,
        permissions=permissions,
        name=_display_name_claim(claims),
        email=_optional_text_claim(claims, "email"),
    )
    return actor, claims


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or
    :class:`AuthenticationFailed`."""
    if authorization is None:
        raise AuthenticationFailed("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Authorization is not a bearer token")
    return token.strip()


_ORGANIZATION_KEY: Final = ORGANIZATION_HEADER.lower().encode("latin-1")


def verified_actor(scope: Scope, settings: AuthSettings) -> Actor:
    """The caller of the request in ``scope``, from its bearer token, or
    :class:`AuthenticationFailed`.

    The token is decoded once per request: the first call keeps the :class:`Actor` (under
    :data:`ACTOR_STATE_KEY`) or the failure in the scope state, and every later call — the rate
    limiter's, the authentication middleware's, the ``actor`` dependency's — reads it back.
    """
    state = scope.setdefault("state", {})
    actor = state.get(ACTOR_STATE_KEY)
    if isinstance(actor, Actor):
        return actor
    failure = state.get(_FAILURE_STATE_KEY)
    if isinstance(failure, AuthenticationFailed):
        raise AuthenticationFailed(failure.reason)
    try:
        actor = actor_from_token(settings, bearer_token(scope_header(scope, b"authorization")))
    except AuthenticationFailed as error:
        state[_FAILURE_STATE_KEY] = error
        raise
    state[ACTOR_STATE_KEY] = actor
    return actor


def authenticate(connection: ASGIConnection[Any, Any, Any, Any], settings: AuthSettings) -> Actor:
    """The verified caller (:func:`verified_actor`), named in the request's log context and
    checked against ``X-Organization-ID``.

    401 (:class:`AuthenticationFailed`) without a valid token; 403 (``PermissionDenied``) when
    ``X-Organization-ID`` differs from the token's organization.
    """
    actor = verified_actor(connection.scope, settings)
    context = current_context(connection)
    context.user_id = actor.user_id
    context.organization_id = actor.organization_id
    # Read from the scope's raw headers: Litestar's parsed headers are not needed here.
    check_organization_header(actor, scope_header(connection.scope, _ORGANIZATION_KEY))
    connection.scope["state"][_CHECKED_STATE_KEY] = actor  # provide_actor: not checked again
    return actor


def checked_actor(scope: Scope) -> Actor | None:
    """The caller :func:`authenticate` verified and checked for this request, or None (a route
    the authentication middleware does not see)."""
    actor = scope.get("state", {}).get(_CHECKED_STATE_KEY)
    return actor if isinstance(actor, Actor) else None


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The ``actor`` dependency: the caller the authentication middleware verified
    (:func:`authenticate`; the token is not decoded again).

    A write whose token has no ``name`` claim is named after the caller's employee record
    (:func:`with_display_name`, once per request).
    """
    state = request.scope.setdefault("state", {})
    caller = state.get(_CALLER_STATE_KEY)
    if isinstance(caller, Actor):
        return caller
    actor = state.get(_CHECKED_STATE_KEY)
    if not isinstance(actor, Actor):  # a route the authentication middleware did not see
        settings: AuthSettings = request.app.state.auth
        actor = authenticate(request, settings)
    if actor.name is None and request.method not in READ_METHODS:
        # Writes record a person's name; reads never do, so they skip the lookup.
        actor = await with_display_name(request.app.state.hub.deps, actor)
    state[_CALLER_STATE_KEY] = actor
    return actor
