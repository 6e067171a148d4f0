"""Verified tokens are remembered by their exact text (``auth.actor_from_token``): a token
that differs in any byte, or whose time is up, still gets the full check — and its 401 — after a
good token of the same caller was remembered."""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import TYPE_CHECKING, Any

import jwt
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.entrypoints.http.auth import AuthSettings

if TYPE_CHECKING:
    from conftest import Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"


def _segment(claims: dict[str, Any]) -> str:
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_tampered_and_expired_tokens_are_refused_after_a_good_one_was_remembered(
    client: Client, auth: AuthSettings, token_for: TokenFor, staff: Staff
) -> None:
    good = token_for("viewer")["Authorization"].removeprefix("Bearer ")
    assert (await client.get(CUSTOMERS, headers=_bearer(good))).status_code == 200
    assert good in auth.verified  # remembered: the next request skips the signature check
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    promoted = {**claims, "role": "admin"}
    later = {**claims, "exp": claims["exp"] + 86_400}
    now = int(time.time())
    expired = {**claims, "iat": now - 7_200, "exp": now - 3_600}
    flipped = "AA" if signature[-2:] != "AA" else "BB"
    with warnings.catch_warnings():  # the test secret is short for HS512: refused anyway
        warnings.simplefilter("ignore")
        other_algorithm = jwt.encode(claims, auth.secret or "", algorithm="HS512")
    refused = {
        "claims changed, signature kept": f"{header}.{_segment(promoted)}.{signature}",
        "expiry moved, signature kept": f"{header}.{_segment(later)}.{signature}",
        "signature changed": f"{header}.{payload}.{signature[:-2]}{flipped}",
        "unsigned (alg none)": jwt.encode(promoted, key=None, algorithm="none"),
        "another secret": jwt.encode(claims, "another-secret-long-enough-for-hs256!!", "HS256"),
        "another algorithm": other_algorithm,
        "expired": jwt.encode(expired, auth.secret or "", algorithm="HS256"),
        "trailing byte": good + "x",
    }
    for reason, token in refused.items():
        answer = await client.get(CUSTOMERS, headers=_bearer(token))
        assert answer.status_code == 401, reason
        assert answer.json()["error"]["code"] == "AUTHENTICATION_FAILED", reason
        assert token not in auth.verified, reason
    # The good token still works, as the viewer it names.
    again = await client.get(CUSTOMERS, headers=_bearer(good))
    assert again.status_code == 200
    writes = await client.post(CUSTOMERS, json={}, headers=_bearer(good))
    assert writes.status_code == 403  # a viewer, never the admin a tampered copy claimed
    assert staff.org == claims["organizationId"]
