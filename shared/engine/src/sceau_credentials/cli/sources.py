"""Where ``verify`` and ``conformance`` get DID documents and status lists: files, or HTTPS.

Offline by default: did:key is resolved locally, did:web only from documents given with
``--did-document`` and status lists only from ``--status-list`` files; ``--online`` also fetches
did:web documents and status lists over HTTPS through the SSRF guards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from sceau_credentials.cli.common import load_json_objects, looks_like_jwt
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
from sceau_credentials.status.checker import StatusListFetcher
from sceau_shared.ssrf import FetchError, GuardedTransport, UrlPolicy, safe_fetch

__all__ = ["Sources", "add_source_arguments", "sources"]


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


class Sources:
    """The resolver and (when there is one) the status list fetcher a command works with."""

    def __init__(self, resolver: DidResolver, status_lists: StatusListFetcher | None) -> None:
        self.resolver = resolver
        self.status_lists = status_lists


@contextlib.asynccontextmanager
async def sources(args: argparse.Namespace) -> AsyncIterator[Sources]:
    """Open what ``--did-document``, ``--status-list`` and ``--online`` ask for.

    Raises:
        UnusableInputError: a file cannot be read or holds no JSON object.
    """
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
        fetcher: StatusListFetcher | None = None
        if client is not None:
            fetcher = _HttpStatusLists(client, web)
        elif status_lists:
            fetcher = _StaticStatusLists(status_lists)
        yield Sources(_resolver(did_documents, client, web), fetcher)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--did-document``, ``--status-list``, ``--online`` and ``--allow-private-hosts``."""
    parser.add_argument(
        "--did-document",
        action="append",
        default=[],
        metavar="FILE",
        help="a DID document to use instead of resolving its DID (repeatable)",
    )
    parser.add_argument(
        "--status-list",
        action="append",
        default=[],
        metavar="FILE",
        help="a status list credential to use for status checks (repeatable, offline)",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="fetch did:web documents and status lists over HTTPS (SSRF-guarded)",
    )
    parser.add_argument(
        "--allow-private-hosts",
        action="store_true",
        help="local development only: let --online reach localhost/private addresses",
    )
