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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the parser with the installed subcommand groups.

    With ``only``, just that group is loaded (the common case: ``sceau issuer …`` need not import
    the verifier). A group that fails to load is reported on stderr and left out, so one broken
    package cannot take every other command down with it.
    """
    parser = argparse.ArgumentParser(
        prog="sceau", description="Sceau — verifiable micro-credentials, operators' tool."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    version_parser = sub.add_parser("version", help="print the installed version")
    version_parser.set_defaults(func=_version)
    for ep in sorted(entry_points(group="sceau.cli"), key=lambda e: e.name):
        if only is not None and ep.name != only:
            continue
        try:
            register = cast(Register, ep.load())
            register(sub)
        except Exception as exc:  # noqa: BLE001 - isolate one broken group from the rest
            print(  # noqa: T201
                f"sceau: the '{ep.name}' commands are unavailable: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    names = {ep.name for ep in entry_points(group="sceau.cli")}
    first = arguments[0] if arguments else None
    parser = build_parser(only=first if first in names else None)
    args = parser.parse_args(arguments)
    func = cast(Callable[[argparse.Namespace], int], args.func)
    try:
        return func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # noqa: T201
        return 130


if __name__ == "__main__":
    sys.exit(main())
