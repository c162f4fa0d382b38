"""API key creation, verification and revocation."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sceau_issuer.apikeys.repository import ApiKeyRepository
from sceau_issuer.coalesced import GATHER_S, CoalescedReads
from sceau_issuer.errors import InvalidApiKey, MissingScope
from sceau_issuer.vault import Vault
from sceau_shared.errors import NotFound
from sceau_shared.events import utcnow

TOKEN_PREFIX = "sceau"  # noqa: S105 - a label, not a secret
MAX_REMEMBERED_KEYS = 10_000
"""Keys whose institution a replica remembers (:meth:`ApiKeyService.institution_hint`)."""


class Scope(StrEnum):
    """What an API key may do."""

    ISSUE = "issue"
    REVOKE = "revoke"
    READ = "read"
    MANAGE = "manage"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: one institution, one key, some scopes."""

    institution_id: str
    key_id: str
    scopes: frozenset[Scope]

    def require(self, scope: Scope) -> None:
        """Raise 403 unless the key has ``scope``."""
        if scope not in self.scopes:
            raise MissingScope(f"this API key lacks the {scope.value!r} scope")


@dataclass(frozen=True)
class CreatedKey:
    """A new key: ``token`` is shown once and never stored."""

    key_id: str
    institution_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    token: str


def parse_token(token: str) -> tuple[str, str] | None:
    """Split ``sceau.<key id>.<secret>`` into its parts, or None if it is not shaped so."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    if len(token) > 200:
        return None
    return parts[1], parts[2]


class ApiKeyService:
    """Creates, lists, revokes and checks keys; only a hash of each secret is stored."""

    def __init__(self, repository: ApiKeyRepository, vault: Vault) -> None:
        self._repo = repository
        self._vault = vault
        # Concurrent requests with one key share a lookup started after they arrived.
        self._lookups = CoalescedReads(repository.get, gather_s=GATHER_S)
        # The institution of each key seen valid: a key never moves to another institution.
        self._institutions: dict[str, str] = {}

    async def create(self, institution_id: str, name: str, scopes: list[Scope]) -> CreatedKey:
        """Create a key; the returned token is the only copy of the secret."""
        if not scopes:
            raise ValueError("an API key needs at least one scope")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        now = utcnow()
        ordered = sorted({s.value for s in scopes})
        await self._repo.insert(
            {
                "_id": key_id,
                "institution_id": institution_id,
                "name": name,
                "scopes": ordered,
                "hash": self._vault.hash_api_key(secret),
                "created_at": now,
                "revoked_at": None,
            }
        )
        token = f"{TOKEN_PREFIX}.{key_id}.{secret}"
        return CreatedKey(key_id, institution_id, name, ordered, now, token)

    async def all(self, institution_id: str | None = None) -> list[dict[str, Any]]:
        """List keys (never their hashes), optionally for one institution."""
        return [{**d, "key_id": d.pop("_id")} for d in await self._repo.listing(institution_id)]

    async def revoke(self, key_id: str) -> None:
        """Revoke a key at once; the next request with it is refused."""
        if not await self._repo.revoke(key_id, utcnow()):
            raise NotFound(f"no active API key {key_id!r}")

    async def authenticate(self, token: str) -> Principal:
        """Return the caller for a bearer token or raise 401 (same answer for every failure)."""
        parsed = parse_token(token)
        if parsed is None:
            raise InvalidApiKey("invalid API key")
        key_id, secret = parsed
        doc = await self._lookups.get(key_id)
        expected = doc.get("hash", "") if doc else "0" * 64
        valid = hmac.compare_digest(str(expected), self._vault.hash_api_key(secret))
        if doc is None or not valid or doc.get("revoked_at") is not None:
            raise InvalidApiKey("invalid API key")
        scopes = frozenset(Scope(s) for s in doc.get("scopes", []) if s in Scope._value2member_map_)
        institution_id = str(doc["institution_id"])
        if len(self._institutions) < MAX_REMEMBERED_KEYS:
            self._institutions[key_id] = institution_id
        return Principal(institution_id, key_id, scopes)

    def institution_hint(self, token: str) -> str | None:
        """The institution of ``token``'s key, if that key was seen valid here before.

        A hint, not an answer: it proves nothing about the token (only :meth:`authenticate`
        does). It lets a request read its institution while its key is being checked, instead
        of after: a key belongs to one institution for its whole life, so the hint is right
        whenever the key turns out valid.
        """
        parsed = parse_token(token)
        return None if parsed is None else self._institutions.get(parsed[0])
