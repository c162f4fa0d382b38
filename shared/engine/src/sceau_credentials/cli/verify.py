"""``sceau credential verify``: the per-check result of ``credentials.verification.verify``.

Offline by default: did:key is resolved locally, did:web only from documents given with
``--did-document`` (an auditor's saved copy) and status lists only from ``--status-list`` files;
``--online`` also fetches did:web documents and status lists over HTTPS through the SSRF guards.
Exit 0 verified, 1 not verified or inconclusive, 2 unusable input.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from sceau_credentials.cli.common import (
    EXIT_NOT_VERIFIED,
    EXIT_OK,
    EXIT_UNUSABLE,
    UnusableInputError,
    error,
    load_document,
    load_json_objects,
    looks_like_jwt,
    print_json,
)
from sceau_credentials.dids import (
    CompositeResolver,
    DidKeyResolver,
    DidResolutionError,
    DidResolver,
    DidWebResolver,
    DidWebSettings,
    ResolutionErrorCode,
    StaticResolver,
)
from sceau_shared.ssrf import FetchError, GuardedTransport, UrlPolicy, safe_fetch

if TYPE_CHECKING:
    from sceau_credentials.results import VerificationResult

__all__ = ["add_verify_parser"]


class _StaticStatusLists:
    """Status list credentials given on the command line, looked up by their ``id`` (URL)."""

    def __init__(self, documents: Sequence[dict[str, Any]]) -> None:
        self._lists = {str(doc.get("id")): doc for doc in documents}

    async def fetch(self, url: str) -> Mapping[str, Any] | str:
        if url not in self._lists:
            raise LookupError(f"no status list was provided for {url}")
        return self._lists[url]


class _HttpStatusLists:
    """Fetch status list credentials over HTTPS through the SSRF guards (``--online``)."""

    def __init__(self, client: httpx.AsyncClient, settings: DidWebSettings) -> None:
        self._client = client
        self._settings = settings
        schemes = {"https", "http"} if settings.allow_private_hosts else {"https"}
        self._policy = UrlPolicy(
            allowed_schemes=frozenset(schemes), allow_private=settings.allow_private_hosts
        )

    async def fetch(self, url: str) -> Mapping[str, Any] | str:
        result = await safe_fetch(
            self._client,
            url,
            policy=self._policy,
            timeout_s=self._settings.timeout_s,
            max_bytes=_MAX_STATUS_LIST_BYTES,
            headers={"Accept": "application/vc+ld+json, application/ld+json, application/json"},
        )
        if result.status_code != 200:
            raise FetchError(f"HTTP {result.status_code} from {url}")
        text = result.content.decode("utf-8").strip()
        if looks_like_jwt(text):
            return text
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("a status list credential is a JSON object")
        return value


_MAX_STATUS_LIST_BYTES = 2 * 1024 * 1024
"""A 131,072-entry list is ~16 KiB gzipped; 2 MiB leaves room for huge lists, not for abuse."""


def _resolver(
    did_documents: Sequence[dict[str, Any]], client: httpx.AsyncClient | None, web: DidWebSettings
) -> DidResolver:
    static = StaticResolver(did_documents)
    resolvers: dict[str, DidResolver] = {"key": DidKeyResolver()}
    if client is None:
        resolvers["web"] = static
    else:
        resolvers["web"] = _FirstOf(static, DidWebResolver(client, web))
    others = {d["id"].split(":", 2)[1] for d in did_documents} - set(resolvers)
    for method in others:
        resolvers[method] = static
    return CompositeResolver(resolvers)


class _FirstOf:
    """Use a document given on the command line before fetching one."""

    def __init__(self, first: DidResolver, second: DidResolver) -> None:
        self._first, self._second = first, second

    async def resolve(self, did: str) -> dict[str, Any]:
        try:
            return await self._first.resolve(did)
        except DidResolutionError as exc:
            if exc.code is not ResolutionErrorCode.NOT_FOUND:
                raise
            return await self._second.resolve(did)


async def _run_verify(args: argparse.Namespace) -> VerificationResult:
    from sceau_credentials.status import ListStatusChecker
    from sceau_credentials.verification import verify

    document = load_document(args.file)
    did_documents = load_json_objects(args.did_document, "a DID document")
    status_lists = load_json_objects(args.status_list, "a status list credential")
    web = DidWebSettings(allow_private_hosts=args.allow_private_hosts)
    async with contextlib.AsyncExitStack() as stack:
        client: httpx.AsyncClient | None = None
        if args.online:
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=GuardedTransport(allow_private=web.allow_private_hosts),
                    timeout=web.timeout_s,
                )
            )
        resolver = _resolver(did_documents, client, web)
        fetcher: _StaticStatusLists | _HttpStatusLists | None = None
        if client is not None:
            fetcher = _HttpStatusLists(client, web)
        elif status_lists:
            fetcher = _StaticStatusLists(status_lists)
        checker = ListStatusChecker(fetcher, resolver) if fetcher is not None else None
        return await verify(document, resolver=resolver, status=checker)


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
    verify.add_argument(
        "--did-document",
        action="append",
        default=[],
        metavar="FILE",
        help="a DID document to use instead of resolving its DID (repeatable)",
    )
    verify.add_argument(
        "--status-list",
        action="append",
        default=[],
        metavar="FILE",
        help="a status list credential to use for status checks (repeatable, offline)",
    )
    verify.add_argument(
        "--online",
        action="store_true",
        help="fetch did:web documents and status lists over HTTPS (SSRF-guarded)",
    )
    verify.add_argument(
        "--allow-private-hosts",
        action="store_true",
        help="local development only: let --online reach localhost/private addresses",
    )
    verify.add_argument("--lang", choices=["en", "fr"], default="en", help="language of reasons")
    verify.set_defaults(func=_credential_verify)
