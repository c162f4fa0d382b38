"""``sceau credential verify``: the per-check result of ``credentials.verification.verify``.

Offline by default: did:key is resolved locally, did:web only from documents given with
``--did-document`` (an auditor's saved copy) and status lists only from ``--status-list`` files;
``--online`` also fetches did:web documents and status lists over HTTPS through the SSRF guards.
Exit 0 verified, 1 not verified or inconclusive, 2 unusable input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from sceau_credentials.cli.common import (
    EXIT_NOT_VERIFIED,
    EXIT_OK,
    EXIT_UNUSABLE,
    UnusableInputError,
    error,
    load_document,
    print_json,
)
from sceau_credentials.cli.sources import add_source_arguments, sources
from sceau_credentials.dids import DidResolutionError

if TYPE_CHECKING:
    from sceau_credentials.results import VerificationResult

__all__ = ["add_verify_parser"]


async def _run_verify(args: argparse.Namespace) -> VerificationResult:
    from sceau_credentials.status import ListStatusChecker
    from sceau_credentials.verification import verify

    document = load_document(args.file)
    async with sources(args) as found:
        checker = (
            ListStatusChecker(found.status_lists, found.resolver)
            if found.status_lists is not None
            else None
        )
        return await verify(document, resolver=found.resolver, status=checker)


def _print_result(result: VerificationResult, lang: str) -> None:
    outcome = result.outcome.value.upper()
    lines = [f"{outcome}"]
    if result.credential is not None and result.credential.issuer_id:
        lines.append(f"  issuer: {result.credential.issuer_id}")
    for nested in (result, *result.credentials):
        for check in nested.checks:
            optional = "" if check.required else " (informative)"
            lines.append(f"  [{check.status.value:>12}] {check.name.value}{optional}: "
                         f"{check.reason(lang)}")  # fmt: skip
            if check.problem_type:
                lines.append(f"{'':17}problem: {check.problem_type}")
    for warning in result.warnings:
        lines.append(f"  warning: {warning.message_fr if lang == 'fr' else warning.message_en}")
    sys.stdout.write("\n".join(lines) + "\n")


def _credential_verify(args: argparse.Namespace) -> int:
    try:
        result = asyncio.run(_run_verify(args))
    except UnusableInputError as exc:
        if args.json:
            print_json({"verified": False, "outcome": "unusable-input", "error": str(exc)})
        error(str(exc))
        return EXIT_UNUSABLE
    except DidResolutionError as exc:  # a --did-document without a usable id
        error(str(exc))
        return EXIT_UNUSABLE
    if args.json:
        print_json(result.model_dump(mode="json"))
    else:
        _print_result(result, args.lang)
    return EXIT_OK if result.verified else EXIT_NOT_VERIFIED


def add_verify_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``verify`` to the ``sceau credential`` commands."""
    verify = commands.add_parser(
        "verify",
        help="verify a credential or presentation (exit 0 verified, 1 not verified, 2 unusable)",
        description=__doc__.split("\n\n", 1)[1].replace("``", "") if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "file", metavar="FILE", help="JSON credential/presentation or VC-JWT; - for stdin"
    )
    verify.add_argument("--json", action="store_true", help="print the full result as JSON")
    add_source_arguments(verify)
    verify.add_argument("--lang", choices=["en", "fr"], default="en", help="language of reasons")
    verify.set_defaults(func=_credential_verify)
