"""did:web identifiers the registry hosts, and the DID documents it serves for them.

The registry's host is taken from its public base URL, so a registry reached at
``http://127.0.0.1:8002`` hosts ``did:web:127.0.0.1%3A8002`` (its own DID, document at
``/.well-known/did.json``) and ``did:web:127.0.0.1%3A8002:institutions:<id>`` (an institution
without its own domain, document at ``/institutions/<id>/did.json``), as docs/contracts.md fixes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sceau_credentials.dids import (
    KeyState,
    PublishedKey,
    institution_did_document,
    url_to_did_web,
)
from sceau_registry.keys.models import KeyRecord

_CAPABILITIES = ("authentication", "capabilityInvocation", "capabilityDelegation")


def registry_did(public_base_url: str) -> str:
    """Return the registry's own did:web DID."""
    return url_to_did_web(public_base_url.rstrip("/") + "/.well-known/did.json")


def hosted_did(public_base_url: str, institution_id: str) -> str:
    """Return the did:web DID the registry hosts for an institution without its own domain."""
    return url_to_did_web(f"{public_base_url.rstrip('/')}/institutions/{institution_id}/did.json")


def own_domain_did(domain: str) -> str:
    """Return the did:web DID of an institution that hosts its document on its own domain."""
    return "did:web:" + domain.lower()


def key_state(key: KeyRecord, now: datetime) -> KeyState:
    """Where a key stands now: revoked keys vanish, rotated ones only verify."""
    if key.revoked_as_of is not None:
        return KeyState.REVOKED
    if key.rotated_at is not None and key.rotated_at <= now:
        return KeyState.ROTATED
    return KeyState.ACTIVE


def hosted_document(did: str, keys: Sequence[KeyRecord], *, now: datetime) -> dict[str, Any] | None:
    """Build the DID document of a hosted DID from its recorded keys; ``None`` if none verifies.

    Rotated keys stay (credentials they signed must still verify), revoked keys are left out. While
    an institution has only rotated keys (e.g. its new key's event has not arrived yet) the document
    still lists them for ``assertionMethod`` only, rather than breaking every old credential.
    """
    published: list[PublishedKey] = []
    seen: set[str] = set()
    for key in sorted(keys, key=lambda k: (k.active_from, k.verification_method)):
        if key.did != did or not key.fragment or key.fragment in seen:
            continue
        state = key_state(key, now)
        if state is KeyState.REVOKED:
            continue
        try:
            published.append(PublishedKey(key.fragment, key.public_key_multibase, state))
        except ValueError:
            continue  # not publishable (odd fragment or key); never break the whole document
        seen.add(key.fragment)
    if not published:
        return None
    if any(key.state is KeyState.ACTIVE for key in published):
        return institution_did_document(did, published)
    promoted = [
        PublishedKey(k.fragment, k.public_key_multibase, KeyState.ACTIVE) for k in published
    ]
    document = institution_did_document(did, promoted)
    for name in _CAPABILITIES:
        document[name] = []
    return document
