"""The ``customers-hub`` command line.

Subcommands are argparse subparsers; each registers a handler ``(args) -> exit code`` through
``set_defaults(handler=...)``, so new ones (``serve``, ``token``, ``demo-data``) plug in beside
``db upgrade``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from customers_hub import __version__

DATABASE_URL_ENV = "CUSTOMERS_HUB_DATABASE_URL"
DATA_DIR_ENV = "CUSTOMERS_HUB_DATA_DIR"
DEFAULT_DATA_DIR = ".customers-hub"

Handler = Callable[[argparse.Namespace], int]


def data_dir() -> Path:
    """Where the embedded defaults keep their files (``CUSTOMERS_HUB_DATA_DIR``)."""
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def default_database_url() -> str:
    """``CUSTOMERS_HUB_DATABASE_URL``, else the embedded SQLite file in the data directory."""
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    return f"sqlite:///{(data_dir() / 'hub.db').resolve()}"


def _db_upgrade(args: argparse.Namespace) -> int:
    from customers_hub.adapters.sql.migrate import upgrade

    url: str = args.database_url or default_database_url()
    try:
        upgrade(url, args.revision)
    except ValueError as error:  # an unsupported URL: say so without a traceback
        print(f"customers-hub: {error}", file=sys.stderr)
        return 2
    print(f"database at revision {args.revision}", file=sys.stdout)
    return 0


def _add_db(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="COMMAND")
    up = db_commands.add_parser("upgrade", help="apply the database migrations")
    up.add_argument(
        "--database-url",
        metavar="URL",
        help=f"sqlite:///path/hub.db or postgresql://user@host:port/db "
        f"(default: ${DATABASE_URL_ENV}, else sqlite in ${DATA_DIR_ENV} or ./{DEFAULT_DATA_DIR})",
    )
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(handler=_db_upgrade)
    db.set_defaults(handler=_usage(db, 2))


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
    _add_db(commands)
    parser.set_defaults(handler=_usage(parser, 0))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
