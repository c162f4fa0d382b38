"""``sceau`` — one command for operators and auditors.

Subcommand groups are contributed through the ``sceau.cli`` entry-point group: each entry point is
``register(subparsers)``, which adds an argparse parser whose ``func(args) -> int`` runs the
command.
This keeps services independent: the dispatcher lives in ``shared`` and never imports a service;
a service that is installed simply brings its own group (``sceau issuer …``, ``sceau registry …``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points, version
from typing import cast

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _version(_: argparse.Namespace) -> int:
    print(f"sceau {version('sceau-shared')}")  # noqa: T201 - CLI output
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every installed subcommand group."""
    parser = argparse.ArgumentParser(
        prog="sceau", description="Sceau — verifiable micro-credentials, operators' tool."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    version_parser = sub.add_parser("version", help="print the installed version")
    version_parser.set_defaults(func=_version)
    for ep in sorted(entry_points(group="sceau.cli"), key=lambda e: e.name):
        register = cast(Register, ep.load())
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = cast(Callable[[argparse.Namespace], int], args.func)
    try:
        return func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # noqa: T201
        return 130


if __name__ == "__main__":
    sys.exit(main())
