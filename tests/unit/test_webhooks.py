"""The webhook rules as pure functions: event names, target URLs and addresses, signatures,
the backoff schedule, giving up and disabling."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from customers_hub.domain.webhooks import (
    EVENT_NAMES,
    EventName,
    RetryPolicy,
    event_errors,
    is_public_address,
    matches,
    next_attempt_at,
    normalized_events,
    retry_delay,
    should_disable,
    sign,
    signature_header,
    url_errors,
    verify_signature,
)

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_the_schema_enum_lists_exactly_the_domain_event_names() -> None:
    assert set(get_args(EventName)) == {*EVENT_NAMES, "*"}
    assert {"customer.created", "action.updated", "customer.stage_changed"} <= EVENT_NAMES


@pytest.mark.parametrize(
    ("events", "fields"),
    [
        (["customer.created"], []),
        (["*"], []),
        (["customer.created", "action.updated"], []),
        ([], ["events"]),
        (["customer.made"], ["events[0]"]),
        (["customer.created", "nope", "neither"], ["events[1]", "events[2]"]),
        (["*", "customer.created"], []),  # "*" already holds it: stored as ["*"]
        (["customer.created"] * 51, ["events"]),
    ],
)
def test_event_lists(events: list[str], fields: list[str]) -> None:
    assert [e.field for e in event_errors(events)] == fields


@pytest.mark.parametrize(
    ("events", "stored"),
    [
        (["*", "customer.created", "*"], ("*",)),
        (
            ["action.updated", "customer.created", "action.updated"],
            ("action.updated", "customer.created"),
        ),
    ],
)
def test_event_lists_are_stored_normalized(events: list[str], stored: tuple[str, ...]) -> None:
    assert normalized_events(events) == stored


@pytest.mark.parametrize(
    ("subscribed", "event", "expected"),
    [
        (("*",), "customer.created", True),
        (("customer.created",), "customer.created", True),
        (("customer.created",), "customer.updated", False),
        ((), "customer.created", False),
    ],
)
def test_matching(subscribed: tuple[str, ...], event: str, expected: bool) -> None:
    assert matches(subscribed, event) is expected


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://hooks.example.com/customers-hub", True),
        ("http://203.0.113.7:8080/in?x=1", True),
        ("ftp://example.com/", False),
        ("https://", False),
        ("https://user:pw@example.com/", False),
        ("https://example.com/#frag", False),
        ("https://example.com:99999/", False),
        ("https://example.com:0/", False),
        ("https://exa mple.com/", False),
        ("https://example.com/?q=\u00e8", False),  # percent-encode it
        ("https://example.com/?q=\x1f", False),
        ("https://example.com/?q=%C3%A8&x=[1]", True),
        ("example.com/hook", False),
        ("https://example.com/" + "a" * 2100, False),
    ],
)
def test_url_shapes(url: str, valid: bool) -> None:
    errors = url_errors(url)
    assert (errors == []) is valid, errors
    assert all(e.field == "url" for e in errors)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),  # cloud metadata: link-local
        ("0.0.0.0", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),  # IPv4-mapped private
        ("::ffff:93.184.216.34", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_a_signature_verifies_with_its_secret_only_and_within_the_tolerance() -> None:
    body = b'{"id":"evt_1","event":"customer.created"}'
    header = signature_header("whsec_a", 1_700_000_000, body)
    assert header == f"t=1700000000,v1={sign('whsec_a', 1_700_000_000, body)}"
    assert verify_signature("whsec_a", header, body, now=1_700_000_100)
    assert not verify_signature("whsec_b", header, body, now=1_700_000_100)
    assert not verify_signature("whsec_a", header, body + b" ", now=1_700_000_100)
    assert not verify_signature("whsec_a", header, body, now=1_700_000_000 + 301)
    assert not verify_signature("whsec_a", "v1=abc", body, now=1_700_000_000)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # Computed independently with the standard library.
    assert sign("secret", 1, b"{}") == hmac.new(b"secret", b"1.{}", hashlib.sha256).hexdigest()


POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("attempts", "rand", "seconds"),
    [
        (1, 0.5, 10),
        (2, 0.5, 20),
        (3, 0.5, 40),
        (6, 0.5, 320),
        (9, 0.5, 2560),
        (10, 0.5, 3600),  # capped at an hour
        (40, 0.5, 3600),
        (10_000, 0.5, 3600),  # no overflow
        (1, 0.0, 8),  # jitter: -20 % …
        (1, 0.999999, 12),  # … to +20 %
        (10, 0.0, 2880),
    ],
)
def test_the_backoff_schedule(attempts: int, rand: float, seconds: float) -> None:
    assert retry_delay(POLICY, attempts, rand) == pytest.approx(seconds, rel=1e-5)


def test_retries_go_on_for_about_a_day_then_stop() -> None:
    created, now, attempts = NOW, NOW, 0
    while True:
        attempts += 1
        at = next_attempt_at(POLICY, attempts, created, now, 0.5)
        if at is None:
            break
        now = at
    assert timedelta(hours=23) <= now - created <= timedelta(days=1)
    assert 25 <= attempts <= 40


def test_a_short_policy_for_tests() -> None:
    fast = RetryPolicy(base=0.1, cap=0.2, give_up_after=1.0, disable_after=2.0)
    assert next_attempt_at(fast, 1, NOW, NOW, 0.5) == NOW + timedelta(seconds=0.1)
    assert next_attempt_at(fast, 5, NOW, NOW + timedelta(seconds=0.9), 0.5) is None


@pytest.mark.parametrize(
    ("failing_for", "disabled"),
    [(None, False), (timedelta(hours=1), False), (timedelta(days=3), True)],
)
def test_a_hook_is_disabled_after_days_of_failures(
    failing_for: timedelta | None, disabled: bool
) -> None:
    since = None if failing_for is None else NOW - failing_for
    assert should_disable(POLICY, since, NOW) is disabled


@pytest.mark.parametrize(
    "values",
    [
        {"base": 0},
        {"factor": 0.5},
        {"cap": 1, "base": 10},
        {"jitter": 1.0},
        {"give_up_after": 0},
    ],
)
def test_invalid_policies_are_refused(values: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid retry policy"):
        RetryPolicy(**values)


async def test_a_host_whose_lookup_hangs_counts_as_not_resolving_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A resolver that never answers (no network, a name nobody serves) must not hold a
    request: after ``DNS_TIMEOUT`` the host counts as not resolving yet."""
    import socket
    import time as time_module

    from customers_hub.adapters import webhook_sender

    def hanging(*_args: object, **_kwargs: object) -> list[object]:
        time_module.sleep(webhook_sender.DNS_TIMEOUT + 1.5)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    started = time_module.monotonic()
    found = await webhook_sender.SystemHostResolver().resolve("hooks.example.com")
    assert found == []
    assert time_module.monotonic() - started < webhook_sender.DNS_TIMEOUT + 1.0
