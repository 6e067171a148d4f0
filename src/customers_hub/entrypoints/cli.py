"""The ``customers-hub`` command line."""

from __future__ import annotations

import argparse
import sys

from customers_hub import __version__


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="customers-hub", description=__doc__)
    parser.add_argument("--version", action="version", version=f"customers-hub {__version__}")
    parser.parse_args(argv)
    parser.print_help(sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
