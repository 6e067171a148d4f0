"""The ``customers-hub`` command line: parsing, help, tokens, the stored secret, serve's wiring.

Tokens are decoded with PyJWT directly (not with the service's own verifier), so a wrong claim
name or signature shows here. ``serve`` is checked with ``uvicorn.run`` replaced: what it would
run, on which address, and what it prepared (secret, migrated SQLite file).
"""

from __future__ import annotations

import gc
import os
import stat
from pathlib import Path
from typing import Any

import jwt
import pytest
import socketio
import uvicorn
from litestar import Litestar
from litestar.testing import TestClient

from customers_hub.domain.enums import Permission, Role
from customers_hub.entrypoints import cli
from customers_hub.entrypoints.demo import default_permissions
from customers_hub.entrypoints.http.asgi import (
    JWT_SECRET_FILE,
    app_factory,
    freeze_heap,
    served_app_factory,
    stored_secret,
)

SECRET = "unit-test-secret-long-enough-for-hs256-signatures"
_P = Permission

# Rules §4: what each role may do at all (the token's permissions claim).
EXPECTED_PERMISSIONS = {
    Role.ADMIN: set(Permission),
    Role.SALES_MANAGER: {
        _P.CUSTOMERS_READ,
        _P.CUSTOMERS_WRITE,
        _P.CUSTOMERS_DELETE,
        _P.ACTIONS_READ,
        _P.ACTIONS_WRITE,
    },
    Role.SALES_AGENT: {
        _P.CUSTOMERS_READ,
        _P.CUSTOMERS_WRITE,
        _P.ACTIONS_READ,
        _P.ACTIONS_WRITE,
    },
    Role.VIEWER: {_P.CUSTOMERS_READ, _P.ACTIONS_READ},
}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: no configured keys or database, the data directory in tmp."""
    for name in (
        "CUSTOMERS_HUB_JWT_SECRET",
        "CUSTOMERS_HUB_JWT_PUBLIC_KEY",
        "CUSTOMERS_HUB_DATABASE_URL",
    ):
        # Set, then deleted: monkeypatch restores the variable (or its absence) afterwards,
        # also when the command under test sets it itself (serve does, for its workers).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    directory = tmp_path / "data"
    monkeypatch.setenv("CUSTOMERS_HUB_DATA_DIR", str(directory))
    return directory


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def decode(token: str, secret: str = SECRET) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"])
    return claims


# --- help and parsing ------------------------------------------------------------------------


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "token", "demo-data", "db"):
        assert command in out


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("serve", ["--host", "--port", "--workers", "--database-url", "--reload"]),
        ("token", ["--user-id", "--role", "--org", "--permission", "--ttl", "--name"]),
        ("demo-data", ["--org", "--customers", "--database-url", "--seed"]),
    ],
)
def test_each_command_documents_its_options(
    capsys: pytest.CaptureFixture[str], command: str, expected: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in expected:
        assert option in out


def test_no_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    assert "usage: customers-hub" in out


def test_serve_defaults() -> None:
    args = cli.build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.workers, args.reload) == ("127.0.0.1", 3000, 1, False)
    assert args.database_url is None


def test_serve_options() -> None:
    args = cli.build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "4", "--reload"]
    )
    assert (args.host, args.port, args.workers, args.reload) == ("0.0.0.0", 8080, 4, True)


def test_demo_data_defaults() -> None:
    args = cli.build_parser().parse_args(["demo-data"])
    assert (args.org, args.customers, args.seed) == ("org_demo", 60, 2024)


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "70000"],
        ["serve", "--port", "0"],
        ["serve", "--port", "http"],
        ["serve", "--workers", "0"],
        ["demo-data", "--customers", "0"],
        ["demo-data", "--customers", "many"],
        ["token", "--user-id", "u", "--org", "o"],  # no role
        ["token", "--user-id", "u", "--role", "owner", "--org", "o"],
        ["token", "--user-id", "u", "--role", "admin", "--org", "o", "--permission", "all"],
        ["token", "--user-id", "u", "--role", "admin", "--org", "o", "--ttl", "0"],
        ["teleport"],
    ],
)
def test_bad_arguments_exit_with_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


# --- token -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_default_permissions_follow_the_policy(role: Role) -> None:
    assert default_permissions(role) == EXPECTED_PERMISSIONS[role]


@pytest.mark.parametrize("role", list(Role))
def test_token_claims(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    role: Role,
) -> None:
    monkeypatch.setenv("CUSTOMERS_HUB_JWT_SECRET", SECRET)
    code, out, _ = run(
        capsys,
        "token",
        "--user-id",
        "emp_7",
        "--role",
        role.value,
        "--org",
        "org_42",
        "--ttl",
        "600",
        "--name",
        "نورة الشمري",
    )
    assert code == 0
    claims = decode(out.strip())
    assert claims["userId"] == "emp_7"
    assert claims["role"] == role.value
    assert claims["organizationId"] == "org_42"
    assert claims["name"] == "نورة الشمري"
    assert set(claims["permissions"]) == {p.value for p in EXPECTED_PERMISSIONS[role]}
    assert claims["exp"] - claims["iat"] == 600
    assert "email" not in claims
    assert not data_dir.exists()  # a configured secret needs no stored one


def test_token_with_explicit_permissions(
    capsys: pytest.CaptureFixture[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOMERS_HUB_JWT_SECRET", SECRET)
    code, out, _ = run(
        capsys,
        "token",
        "--user-id=emp_1",
        "--role=sales_agent",
        "--org=org_1",
        "--permission=customers.read",
        "--permission=actions.read",
        "--permission=customers.read",
        "--email=agent@example.sa",
    )
    assert code == 0
    claims = decode(out.strip())
    assert claims["permissions"] == ["customers.read", "actions.read"]
    assert claims["email"] == "agent@example.sa"
    assert claims["exp"] - claims["iat"] == cli.DEFAULT_TTL_SECONDS


def test_token_is_signed_with_the_configured_secret(
    capsys: pytest.CaptureFixture[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOMERS_HUB_JWT_SECRET", SECRET)
    _, out, _ = run(capsys, "token", "--user-id", "u", "--role", "viewer", "--org", "o")
    with pytest.raises(jwt.InvalidSignatureError):
        decode(out.strip(), "another-secret-that-is-long-enough-for-hs256")


def test_token_without_configuration_uses_one_stored_secret(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    argv = ("token", "--user-id", "demo-admin", "--role", "admin", "--org", "org_demo")
    code, first, _ = run(capsys, *argv)
    assert code == 0
    secret_file = data_dir / JWT_SECRET_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32
    _, second, _ = run(capsys, *argv)
    assert decode(first.strip(), secret)["userId"] == "demo-admin"
    assert decode(second.strip(), secret)["organizationId"] == "org_demo"
    assert secret_file.read_text().strip() == secret  # not regenerated


def test_token_refused_when_only_a_public_key_is_configured(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pem = tmp_path / "public.pem"
    pem.write_text("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n")
    monkeypatch.setenv("CUSTOMERS_HUB_JWT_PUBLIC_KEY", str(pem))
    code, out, err = run(capsys, "token", "--user-id", "u", "--role", "admin", "--org", "o")
    assert code == 2
    assert out == ""
    assert "public key" in err
    assert not data_dir.exists()


def test_token_reports_an_unreadable_key_file(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CUSTOMERS_HUB_JWT_PUBLIC_KEY", str(tmp_path / "missing.pem"))
    code, out, err = run(capsys, "token", "--user-id", "u", "--role", "admin", "--org", "o")
    assert code == 2
    assert out == ""
    assert "missing.pem" in err


# --- the stored secret -----------------------------------------------------------------------


def test_stored_secret_is_created_once(tmp_path: Path) -> None:
    directory = tmp_path / "nested" / "data"
    first = stored_secret(directory)
    assert stored_secret(directory) == first
    assert stat.S_IMODE((directory / JWT_SECRET_FILE).stat().st_mode) == 0o600
    assert [p.name for p in directory.iterdir()] == [JWT_SECRET_FILE]  # no leftover drafts


def test_stored_secret_refuses_an_empty_file(tmp_path: Path) -> None:
    (tmp_path / JWT_SECRET_FILE).write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        stored_secret(tmp_path)
    assert (tmp_path / JWT_SECRET_FILE).read_text() == "\n"


def test_app_factory_builds_an_app_from_the_environment(data_dir: Path) -> None:
    app = app_factory()
    assert isinstance(app, Litestar)
    assert (data_dir / JWT_SECRET_FILE).exists()
    assert app.state.auth.secret == stored_secret(data_dir)


def test_the_served_app_freezes_its_heap_once_started(data_dir: Path) -> None:
    """``served_app_factory``: after the start (the hub's included) every object alive is moved
    to the collector's permanent generation, so full collections stop walking them."""
    served = served_app_factory()
    inner = served.other_asgi_app  # socket.io's ASGI app wraps the Litestar app
    assert isinstance(inner, Litestar)
    assert inner.on_startup[-1] is freeze_heap  # after the hub's own start
    gc.unfreeze()
    try:
        with TestClient(app=inner) as client:
            assert gc.get_freeze_count() > 10_000  # the app, the hub, the libraries
            assert client.get("/health").status_code == 200
    finally:
        gc.unfreeze()  # this test process builds many apps: keep them collectable


# --- serve -----------------------------------------------------------------------------------


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    calls: list[tuple[Any, dict[str, Any]]] = []

    def fake_run(app: Any, **options: Any) -> None:
        calls.append((app, options))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def test_serve_one_worker_runs_the_app_on_the_embedded_default(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    uvicorn_calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    code, out, _ = run(capsys, "serve", "--port", "3456")
    assert code == 0
    [(served, options)] = uvicorn_calls
    # socket.io beside the Litestar app, which gets every other request.
    assert isinstance(served, socketio.ASGIApp)
    app = served.other_asgi_app
    assert isinstance(app, Litestar)
    assert (options["host"], options["port"]) == ("127.0.0.1", 3456)
    assert options["access_log"] is False  # query strings may hold phone numbers
    assert "http://127.0.0.1:3456/api/v1" in out
    assert str(data_dir / JWT_SECRET_FILE) in out  # where the token secret lives
    assert (data_dir / "hub.db").stat().st_size > 0  # migrated before serving
    assert app.state.auth.secret == (data_dir / JWT_SECRET_FILE).read_text().strip()


def test_serve_several_workers_use_the_factory(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    uvicorn_calls: list[tuple[Any, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    code, _, err = run(capsys, "serve", "--workers", "3", "--database-url", url)
    assert code == 0
    assert "SQLite" in err  # advice to use PostgreSQL for several workers
    assert "CUSTOMERS_HUB_REDIS_URL" in err  # separate caches per worker without Redis
    [(target, options)] = uvicorn_calls
    assert target == "customers_hub.entrypoints.http.asgi:served_app_factory"
    assert options["factory"] is True
    assert options["workers"] == 3
    assert options["access_log"] is False
    # The workers read the URL from the environment; the secret exists before they start.
    assert os.environ["CUSTOMERS_HUB_DATABASE_URL"] == url
    assert (data_dir / JWT_SECRET_FILE).exists()
    assert (tmp_path / "other.db").exists()


def test_serve_several_workers_with_redis_get_no_warning_about_it(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    uvicorn_calls: list[tuple[Any, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUSTOMERS_HUB_REDIS_URL", "redis://127.0.0.1:1/0")  # never connected
    code, _, err = run(capsys, "serve", "--workers", "2")
    assert code == 0
    assert len(uvicorn_calls) == 1
    assert "CUSTOMERS_HUB_REDIS_URL" not in err


def test_serve_refuses_an_unsupported_database(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    uvicorn_calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    code, _, err = run(capsys, "serve", "--database-url", "mysql://db/hub")
    assert code == 2
    assert "mysql" in err
    assert uvicorn_calls == []


def test_demo_data_refuses_an_unsupported_database(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, out, err = run(capsys, "demo-data", "--database-url", "mysql://db/hub")
    assert code == 2
    assert out == ""
    assert "mysql" in err
