"""``sceau-credentials conformance FILE...``: what 1EdTech's OB 3.0 validator would say, offline.

Prints each file's findings (code, JSON pointer, reason) and a one-line verdict per file.
Exit codes: ``0`` every file conforms; ``1`` at least one finding; ``2`` unusable input (a file
that cannot be read, wrong options).

Offline by default: did:key keys are resolved locally; did:web keys only from ``--did-document``
files, and status list sizes are checked only from ``--status-list`` files — or over HTTPS with
``--online``. The clock is now unless ``--at`` gives another moment (to judge a credential as
of when it was issued).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

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

__all__ = ["register_conformance"]


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UnusableInputError(f"--at {text!r} is not an ISO 8601 date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _run(args: argparse.Namespace) -> dict[str, list[Any]]:
    from sceau_credentials.conformance import inspect_credential

    now = _moment(args.at)
    documents = {name: load_document(name) for name in args.files}
    report: dict[str, list[Any]] = {}
    async with sources(args) as found:
        for name, document in documents.items():
            report[name] = await inspect_credential(
                document,
                resolver=found.resolver,
                now=now,
                status_lists=found.status_lists,
                verify_signatures=not args.no_signatures,
            )
    return report


def _conformance(args: argparse.Namespace) -> int:
    try:
        report = asyncio.run(_run(args))
    except (UnusableInputError, DidResolutionError) as exc:
        error(str(exc))
        return EXIT_UNUSABLE
    if args.json:
        print_json({name: [f.model_dump(mode="json") for f in fs] for name, fs in report.items()})
    else:
        lines = []
        for name, findings in report.items():
            verdict = "conforms" if not findings else f"{len(findings)} finding(s)"
            if args.lang == "fr":
                verdict = "conforme" if not findings else f"{len(findings)} écart(s)"
            lines.append(f"{name}: {verdict}")
            lines += [f"  [{f.code}] {f.pointer or '/'}: {f.message(args.lang)}" for f in findings]
        sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_NOT_VERIFIED if any(report.values()) else EXIT_OK


def register_conformance(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``conformance``."""
    parser = subparsers.add_parser(
        "conformance",
        help="check credentials against 1EdTech's OB 3.0 validator rules (exit 0 all conform)",
        description=__doc__.split("\n\n", 1)[1].replace("``", "") if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="signed credentials (JSON or VC-JWT); - for stdin"
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument(
        "--at", metavar="DATETIME", help="judge validity dates at this moment (default: now)"
    )
    parser.add_argument(
        "--no-signatures",
        action="store_true",
        help="check that keys resolve but do not verify the signatures",
    )
    add_source_arguments(parser)
    parser.add_argument("--lang", choices=["en", "fr"], default="en", help="language of reasons")
    parser.set_defaults(func=_conformance)
