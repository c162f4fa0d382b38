"""``sceau credential verify|sign`` and ``sceau did create``: offline operator/auditor tools.

Registered in ``shared/engine/pyproject.toml`` under the ``sceau.cli`` entry-point group.

Exit codes of ``sceau credential verify`` — scripts rely on them:

* ``0`` — verified: every required check passed;
* ``1`` — not verified: a check failed, or something could not be determined (an unreachable
  status list, an issuer DID that cannot be resolved offline): "inconclusive" is never success;
* ``2`` — unusable input: the file cannot be read or is neither JSON nor a compact JWT, or the
  options are wrong (argparse also exits with 2).

``verify`` is offline by default: did:key is resolved locally, did:web only from documents
given with ``--did-document`` (an auditor's saved copy); ``--online`` also fetches did:web
documents and status lists over HTTPS through the SSRF guards.
"""

from __future__ import annotations

import argparse

from sceau_credentials.cli.common import UnusableInputError, load_document
from sceau_credentials.cli.conformance import register_conformance
from sceau_credentials.cli.did import register_did
from sceau_credentials.cli.sign import add_sign_parser
from sceau_credentials.cli.verify import add_verify_parser

__all__ = ["UnusableInputError", "load_document", "register_credential", "register_did"]


def register_credential(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sceau credential verify`` and ``sceau credential sign``."""
    parser = subparsers.add_parser("credential", help="verify and sign credentials offline")
    commands = parser.add_subparsers(dest="credential_command", metavar="COMMAND")
    commands.required = True
    add_verify_parser(commands)
    add_sign_parser(commands)


def main(argv: list[str] | None = None) -> int:
    """Run ``sceau-credentials``: the engine's own command, for installs without the services.

    The same groups as ``sceau credential …`` and ``sceau did …``, so the engine is usable as a
    library and a tool on its own (``pip install sceau-credentials``), plus ``conformance``
    (1EdTech's OB 3.0 validator rules, offline).
    """
    parser = argparse.ArgumentParser(
        prog="sceau-credentials",
        description="Sign and verify Open Badges 3.0 / W3C credentials offline; create DIDs.",
    )
    groups = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups.required = True
    register_credential(groups)
    register_did(groups)
    register_conformance(groups)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code
