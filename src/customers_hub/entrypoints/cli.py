"""The ``customers-hub`` command line.

Subcommands are argparse subparsers; each registers a handler ``(args) -> exit code`` through
``set_defaults(handler=...)``:

* ``serve [--host 127.0.0.1] [--port 3000] [--workers 1] [--database-url URL] [--reload]`` —
  the HTTP service (uvicorn). With no configuration: SQLite in the data directory
  (``CUSTOMERS_HUB_DATA_DIR``, default ``./.customers-hub``), migrated on start, and a token
  secret generated once into ``<data dir>/jwt-secret`` (see
  :mod:`customers_hub.entrypoints.http.asgi`).
* ``token --user-id U --role R --org O [--permission P ...] [--ttl 3600] [--name N]`` — prints
  an HS256 token signed with ``CUSTOMERS_HUB_JWT_SECRET`` or the stored secret; without
  ``--permission``, every permission the role can use (``domain.access.POLICY``).
* ``demo-data [--org org_demo] [--customers 60] [--seed 2024] [--database-url URL]`` — the demo
  organization (:mod:`customers_hub.entrypoints.demo`); a second run changes nothing.
* ``db upgrade [--database-url URL] [--revision head]`` — the database migrations.
* ``db sweep-idempotency [--database-url URL]`` — delete expired idempotency keys
  (``docs/idempotency.md``; the service also sweeps them by itself).
* ``export --org O [--format csv|xlsx] [--output FILE] [filters…]`` — the customers export
  (:mod:`customers_hub.entrypoints.cli_export`).
* ``import FILE --org O [--mapping JSON] [--dry-run] [--on-duplicate skip|update|create]`` —
  the customers import with a progress bar (:mod:`customers_hub.entrypoints.cli_import`).

Heavy imports (Litestar, uvicorn, SQLAlchemy) happen inside the handlers, so ``--help`` and
``token`` stay fast.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from customers_hub import __version__
from customers_hub.domain.enums import Permission, Role
from customers_hub.entrypoints.cli_errors import database_failure, fail
from customers_hub.entrypoints.cli_export import add_export
from customers_hub.entrypoints.cli_import import add_import

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
DEFAULT_TTL_SECONDS = 3600
DEMO_ORGANIZATION = "org_demo"  # = customers_hub.entrypoints.demo.DEFAULT_ORGANIZATION
DEMO_CUSTOMERS = 60
DEMO_SEED = 2024

Handler = Callable[[argparse.Namespace], int]


def _database_url(args: argparse.Namespace) -> str:
    """``--database-url``, else the configured one (``CUSTOMERS_HUB_DATABASE_URL``), else the
    embedded SQLite file in the data directory."""
    from customers_hub.entrypoints.settings import HubConfig

    return HubConfig.from_env(database_url=args.database_url).database_url


def _db_upgrade(args: argparse.Namespace) -> int:
    from customers_hub.adapters.sql.migrate import upgrade

    try:
        upgrade(_database_url(args), args.revision)
    except ValueError as error:  # an unsupported URL or setting: say so without a traceback
        return fail(str(error))
    print(f"database at revision {args.revision}", file=sys.stdout)
    return 0


def _db_sweep_idempotency(args: argparse.Namespace) -> int:
    from customers_hub.entrypoints.bootstrap import build_hub

    async def sweep() -> int:
        async with build_hub(args.database_url) as hub:
            total = batch = await hub.idempotency.sweep()
            while batch:  # bounded batches until none is left
                batch = await hub.idempotency.sweep()
                total += batch
        return total

    print(f"{asyncio.run(sweep())} expired idempotency keys deleted", file=sys.stdout)
    return 0


def _db_recount(args: argparse.Namespace) -> int:
    from customers_hub.adapters.sql.counters import recount_all
    from customers_hub.adapters.sql.engine import create_engine

    async def recount() -> list[str]:
        engine = create_engine(_database_url(args))
        try:
            return await recount_all(engine, args.org)
        finally:
            await engine.dispose()

    done = asyncio.run(recount())
    if args.org and not done:
        print(
            f"organization {args.org!r} has no employees, customers or counters: nothing rebuilt "
            "(is the id right?)",
            file=sys.stderr,
        )
        return 1
    print(f"counters rebuilt for {len(done)} organization(s)", file=sys.stdout)
    return 0


def _add_db(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="COMMAND")
    up = db_commands.add_parser("upgrade", help="apply the database migrations")
    _database_url_option(up)
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(handler=_db_upgrade)
    sweep = db_commands.add_parser("sweep-idempotency", help="delete expired idempotency keys")
    _database_url_option(sweep)
    sweep.set_defaults(handler=_db_sweep_idempotency)
    recount = db_commands.add_parser(
        "recount", help="rebuild the statistics counters from the rows (docs/statistics.md)"
    )
    _database_url_option(recount)
    recount.add_argument("--org", metavar="ID", help="one organization (default: every one)")
    recount.set_defaults(handler=_db_recount)
    db.set_defaults(handler=_usage(db, 2))


def _database_url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="sqlite:///path/hub.db or postgresql://user@host:port/db "
        "(default: $CUSTOMERS_HUB_DATABASE_URL, else sqlite in $CUSTOMERS_HUB_DATA_DIR or "
        "./.customers-hub)",
    )


# --- token ---------------------------------------------------------------------------------------


def _token(args: argparse.Namespace) -> int:
    from customers_hub.domain.access import default_permissions
    from customers_hub.entrypoints.http.asgi import auth_settings
    from customers_hub.entrypoints.http.auth import issue_token
    from customers_hub.entrypoints.settings import HubConfig

    role = Role(args.role)
    permissions: Sequence[Permission] = (
        [Permission(p) for p in dict.fromkeys(args.permission)]
        if args.permission
        else sorted(default_permissions(role), key=list(Permission).index)
    )
    try:
        settings = auth_settings(HubConfig.from_env())
    except (ValueError, OSError) as error:
        return fail(str(error))
    if not settings.secret:
        return fail(
            "the service verifies tokens with a public key (CUSTOMERS_HUB_JWT_PUBLIC_KEY): "
            "tokens come from your identity service; set CUSTOMERS_HUB_JWT_SECRET to sign here"
        )
    token = issue_token(
        settings,
        args.user_id,
        role,
        args.org,
        permissions,
        args.ttl,
        name=args.name,
        email=args.email,
    )
    print(token)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number (1-65535), not {value}")
    return value


def _add_token(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser(
        "token",
        help="print a signed access token (HS256)",
        description="Print a JWT for the API, signed with $CUSTOMERS_HUB_JWT_SECRET, else with "
        "the secret stored in the data directory (created on first use, shared with `serve`).",
    )
    token.add_argument("--user-id", required=True, help="the employee id (claim userId)")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--org", required=True, help="the organization id (claim organizationId)")
    token.add_argument(
        "--permission",
        action="append",
        default=[],
        choices=[p.value for p in Permission],
        metavar="PERMISSION",
        help="a permission claim, repeatable (default: every permission the role can use; "
        f"one of {', '.join(p.value for p in Permission)})",
    )
    token.add_argument(
        "--ttl",
        type=_positive,
        default=DEFAULT_TTL_SECONDS,
        metavar="SECONDS",
        help=f"lifetime in seconds (default: {DEFAULT_TTL_SECONDS})",
    )
    token.add_argument("--name", help="display name (claim name)")
    token.add_argument("--email", help="e-mail (claim email)")
    token.set_defaults(handler=_token)


# --- demo-data -----------------------------------------------------------------------------------


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def _demo_data(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from customers_hub.entrypoints.bootstrap import build_hub
    from customers_hub.entrypoints.demo import DemoDataIncomplete, DemoSummary, load_demo_data

    async def load() -> DemoSummary:
        async with build_hub(args.database_url) as hub:
            return await load_demo_data(hub, org=args.org, customers=args.customers, seed=args.seed)

    try:
        summary = asyncio.run(load())
    except DemoDataIncomplete as error:
        return fail(str(error), 1)
    except (SQLAlchemyError, OSError) as error:
        return database_failure(error)
    except ValueError as error:  # an unsupported database URL
        return fail(str(error))
    if summary.already_loaded:
        print(
            f"demo data already loaded in organization {summary.organization_id} "
            f"({summary.customers} customers); nothing changed"
        )
        return 0
    print(f"demo data loaded into organization {summary.organization_id}:")
    print(
        f"  employees   {summary.employees} (admin {summary.admin_id}, a sales manager, "
        "4 agents, a viewer)"
    )
    print(f"  properties  {summary.properties}")
    print(f"  customers   {summary.customers} ({_counts(summary.cities)})")
    print(f"  stages      {_counts(summary.stages)}")
    print(
        f"  relations   interactions {summary.interactions}, appointments "
        f"{summary.appointments}, reminders {summary.reminders}, property interests "
        f"{summary.property_interests}"
    )
    print(f"  actions     {_counts(summary.actions)}")
    print(
        f"an admin token: customers-hub token --user-id {summary.admin_id} --role admin "
        f"--org {summary.organization_id}"
    )
    return 0


def _add_demo_data(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo-data",
        help="load a realistic Saudi demo organization (once)",
        description="Load a sales team, a property catalog in Riyadh, Jeddah and Dammam, and "
        "customers at every stage with their interactions, appointments, reminders and "
        "actions, through the use cases. Running it again on the same organization changes "
        "nothing.",
    )
    demo.add_argument(
        "--org",
        default=DEMO_ORGANIZATION,
        help=f"organization id (default: {DEMO_ORGANIZATION})",
    )
    demo.add_argument(
        "--customers",
        type=_positive,
        default=DEMO_CUSTOMERS,
        metavar="N",
        help=f"how many customers (default: {DEMO_CUSTOMERS})",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=DEMO_SEED,
        help=f"random seed: the same seed gives the same data (default: {DEMO_SEED})",
    )
    _database_url_option(demo)
    demo.set_defaults(handler=_demo_data)


# --- serve ---------------------------------------------------------------------------------------

FACTORY = "customers_hub.entrypoints.http.asgi:served_app_factory"
"""The import string of the application factory (several workers, reload)."""

GRACEFUL_SHUTDOWN_TIMEOUT = 30
"""Longest wait for the requests in flight after SIGTERM before they are cancelled (seconds)."""


def _stopped(_signal: int, _frame: object) -> None:
    """SIGTERM after uvicorn's graceful shutdown: uvicorn hands the signal it handled back to
    the handler found before it; this one lets ``serve`` return and exit 0 (a clean stop, as
    process managers expect) instead of dying of the signal."""


_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Replaces the value of a ``token`` query parameter in log lines with ``…``: uvicorn logs
    every WebSocket handshake with its query string, and real-time clients may send their JWT
    as ``?token=`` (``/api/v1/ws``, ``/socket.io/``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record, with any token redacted."""
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = _TOKEN_IN_QUERY.sub(r"\1…", message), None
        return True


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus the service's own loggers (``customers_hub.*``):
    their records are already one JSON object per line, written as they are to stderr. Tokens
    in query strings are redacted from uvicorn's lines (:class:`RedactTokens`)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {
        "()": "customers_hub.entrypoints.cli.RedactTokens"
    }
    for handler in ("default", "access"):
        config["handlers"][handler]["filters"] = ["redact_tokens"]
    config["formatters"]["customers_hub"] = {"format": "%(message)s"}
    config["handlers"]["customers_hub"] = {
        "class": "logging.StreamHandler",
        "formatter": "customers_hub",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["customers_hub"] = {
        "handlers": ["customers_hub"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from attrs import evolve

    from customers_hub.adapters.sql.engine import async_url, is_sqlite
    from customers_hub.adapters.sql.migrate import upgrade
    from customers_hub.entrypoints.http.app import create_app
    from customers_hub.entrypoints.http.asgi import JWT_SECRET_FILE, auth_settings, served_hub
    from customers_hub.entrypoints.http.socketio_server import with_socketio
    from customers_hub.entrypoints.settings import DATABASE_URL_ENV, WORKERS_ENV, HubConfig

    if args.database_url:
        # Worker processes read their configuration from the environment.
        os.environ[DATABASE_URL_ENV] = args.database_url
    try:
        config = evolve(HubConfig.from_env(), workers=args.workers)
        async_url(config.database_url)  # a supported URL, or a message instead of a traceback
        auth = auth_settings(config)  # creates the stored secret once, before any worker
        if is_sqlite(config.database_url):
            # Once here, not concurrently in every worker.
            upgrade(config.database_url)
    except (ValueError, OSError) as error:
        return fail(str(error))
    if args.workers > 1 and is_sqlite(config.database_url):
        print(
            "customers-hub: note: several workers share one SQLite file and take turns to "
            "write; use PostgreSQL (--database-url) to scale out",
            file=sys.stderr,
        )
    if args.workers > 1 and not config.redis_url:
        # Each worker would keep its own cache, limits and event bus: reads could be stale, so
        # the workers cache nothing (asgi.served_hub); limits and events stay per worker.
        print(
            "customers-hub: warning: several workers without CUSTOMERS_HUB_REDIS_URL: the "
            "response cache is off, rate limits and WebSocket events are per worker; set it to "
            "run them as one",
            file=sys.stderr,
        )
    base = f"http://{args.host}:{args.port}"
    print(f"Customers Hub {__version__}: API {base}/api/v1 · docs {base}/api/v1/docs", flush=True)
    if config.uses_stored_secret:
        print(
            f"tokens: HS256 with the secret in {config.data_dir / JWT_SECRET_FILE} "
            "(`customers-hub token --help`)",
            flush=True,
        )
    # uvicorn's access log would print query strings (a searched phone number, say): the app
    # logs one structured line per request itself, without personal data.
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "access_log": False,
        "log_config": log_config(args.log_level),
        "proxy_headers": True,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_TIMEOUT,
    }
    signal.signal(signal.SIGTERM, _stopped)  # docs/operations.md: graceful shutdown
    if args.workers > 1 or args.reload:
        # The worker processes inherit the environment: they learn how many they are (which
        # decides their cache); this process's environment is restored afterwards.
        previous = os.environ.get(WORKERS_ENV)
        os.environ[WORKERS_ENV] = str(args.workers)
        try:
            uvicorn.run(
                FACTORY,
                factory=True,
                workers=args.workers,
                reload=args.reload,
                reload_dirs=[str(Path(__file__).resolve().parents[1])] if args.reload else None,
                **options,
            )
        finally:
            if previous is None:
                os.environ.pop(WORKERS_ENV, None)
            else:
                os.environ[WORKERS_ENV] = previous
    else:
        app = create_app(served_hub(config), auth=auth)
        uvicorn.run(with_socketio(app), **options)
    return 0


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the HTTP service",
        description="Run the HTTP API with uvicorn. With no configuration it serves the "
        "embedded default: SQLite in $CUSTOMERS_HUB_DATA_DIR (./.customers-hub), migrated on "
        "start, and a token secret generated once into <data dir>/jwt-secret unless "
        "$CUSTOMERS_HUB_JWT_SECRET or $CUSTOMERS_HUB_JWT_PUBLIC_KEY is set.",
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"(default: {DEFAULT_HOST})")
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"(default: {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes (default: 1; use PostgreSQL for more than one)",
    )
    _database_url_option(serve)
    serve.add_argument(
        "--reload", action="store_true", help="restart on code changes (development)"
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (default: info)",
    )
    serve.set_defaults(handler=_serve)


def _usage(parser: argparse.ArgumentParser, code: int) -> Handler:
    """A handler printing ``parser``'s help (a command given without its subcommand)."""

    def handler(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stdout)
        return code

    return handler


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="customers-hub", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"customers-hub {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_serve(commands)
    _add_token(commands)
    _add_demo_data(commands)
    _add_db(commands)
    add_export(commands)
    add_import(commands)
    parser.set_defaults(handler=_usage(parser, 0))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
