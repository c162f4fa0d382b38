"""DID documents that an institution publishes for its did:web DID, across key rotations.

Each published Ed25519 key appears twice, once per representation that verifiers expect:

* ``<did>#<fragment>`` as ``Multikey`` — used by ``eddsa-rdfc-2022`` (profile ``ob3-v2``);
* ``<did>#<fragment>-2020`` as ``Ed25519VerificationKey2020`` — used by ``Ed25519Signature2020``
  (profile ``ob3-v1``), whose verifiers check the method type.

A P-256 key (``zDn…``, the ES256 VC-JWTs and ``ecdsa-sd-2023`` key) appears once, as
``<did>#<fragment>`` ``Multikey``: no suite needs another representation of it.

Key states drive the verification relationships:

* ``active`` — signs new credentials: in ``assertionMethod``, ``authentication``,
  ``capabilityInvocation`` and ``capabilityDelegation``;
* ``rotated`` — no longer signs but credentials signed earlier must still verify: only in
  ``assertionMethod``;
* ``revoked`` — compromised or withdrawn: not published at all, so every credential it signed
  stops verifying. That is the point of revoking a key.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sceau_credentials.dids.did_key import (
    DID_CONTEXT,
    ED25519_2020_CONTEXT,
    MULTIKEY_CONTEXT,
)
from sceau_credentials.dids.did_web import did_web_to_url
from sceau_credentials.dids.resolver import DidResolutionError
from sceau_credentials.keys import InvalidKeyError
from sceau_credentials.keys_p256 import decode_p256_public_multikey
from sceau_credentials.multiformats import (
    MultiformatError,
    decode_ed25519_public_multikey,
)

__all__ = [
    "ED25519_2020_SUFFIX",
    "KeyState",
    "PublishedKey",
    "institution_did_document",
    "verification_method_ids",
]

ED25519_2020_SUFFIX: Final = "-2020"
_FRAGMENT_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)


class KeyState(enum.StrEnum):
    """Life-cycle state of an institution key (see module docstring)."""

    ACTIVE = "active"
    ROTATED = "rotated"
    REVOKED = "revoked"


@dataclass(frozen=True)
class PublishedKey:
    """A public key the institution controls, as stored by the registry.

    Attributes:
        fragment: Stable fragment of the Multikey method id (e.g. ``key-2025-01``).
        public_key_multibase: The Ed25519 (``z6Mk…``) or P-256 (``zDn…``) ``publicKeyMultibase``.
        state: Whether it signs, only verifies, or is withdrawn.
    """

    fragment: str
    public_key_multibase: str
    state: KeyState = KeyState.ACTIVE

    def __post_init__(self) -> None:
        if not self.fragment or not set(self.fragment) <= _FRAGMENT_CHARS:
            raise ValueError(
                f"key fragment {self.fragment!r} must be non-empty and use only A-Z a-z 0-9 - . _ ~"
            )
        if self.is_p256:
            try:
                decode_p256_public_multikey(self.public_key_multibase)
            except InvalidKeyError as exc:
                raise ValueError(f"key {self.fragment!r}: {exc}") from exc
            return
        try:
            decode_ed25519_public_multikey(self.public_key_multibase)
        except MultiformatError as exc:
            raise ValueError(f"key {self.fragment!r}: {exc}") from exc

    @property
    def is_p256(self) -> bool:
        """Whether this is a P-256 key (``zDn…``: published once, as Multikey)."""
        return self.public_key_multibase.startswith("zDn")


def verification_method_ids(did: str, fragment: str) -> tuple[str, str]:
    """Return the ``(Multikey id, Ed25519VerificationKey2020 id)`` of a published key."""
    return f"{did}#{fragment}", f"{did}#{fragment}{ED25519_2020_SUFFIX}"


def institution_did_document(
    did: str,
    keys: Sequence[PublishedKey],
    *,
    also_known_as: Sequence[str] = (),
    services: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Build the did:web DID document an institution serves at its ``did.json`` URL.

    Args:
        did: The institution's did:web DID.
        keys: Its keys in any state; revoked ones are left out.
        also_known_as: Other identifiers of the institution (e.g. its web site).
        services: DID document ``service`` entries to publish as given.

    Raises:
        ValueError: if ``did`` is not a valid did:web DID, fragments repeat, or no key is active.
    """
    try:
        did_web_to_url(did, allow_local=True)
    except DidResolutionError as exc:
        raise ValueError(str(exc)) from exc
    if "#" in did:
        raise ValueError(f"{did!r} must be a DID, not a DID URL")
    fragments = [key.fragment for key in keys]
    duplicates = sorted({f for f in fragments if fragments.count(f) > 1})
    if duplicates:
        raise ValueError(f"duplicate key fragment(s): {', '.join(duplicates)}")
    if any(f.endswith(ED25519_2020_SUFFIX) and f[: -len(ED25519_2020_SUFFIX)] in fragments
           for f in fragments):  # fmt: skip
        raise ValueError(f"a key fragment collides with another key's '{ED25519_2020_SUFFIX}' id")
    if not any(key.state is KeyState.ACTIVE for key in keys):
        raise ValueError("an institution DID document needs at least one active key")

    methods: list[dict[str, Any]] = []
    relationships: dict[str, list[str]] = {
        "authentication": [],
        "assertionMethod": [],
        "capabilityInvocation": [],
        "capabilityDelegation": [],
    }
    for key in keys:
        if key.state is KeyState.REVOKED:
            continue
        multikey_id, ed2020_id = verification_method_ids(did, key.fragment)
        ids = [multikey_id] if key.is_p256 else [multikey_id, ed2020_id]
        methods.append(
            {
                "id": multikey_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public_key_multibase,
            }
        )
        if not key.is_p256:
            methods.append(
                {
                    "id": ed2020_id,
                    "type": "Ed25519VerificationKey2020",
                    "controller": did,
                    "publicKeyMultibase": key.public_key_multibase,
                }
            )
        relationships["assertionMethod"] += ids
        if key.state is KeyState.ACTIVE:
            for name in ("authentication", "capabilityInvocation", "capabilityDelegation"):
                relationships[name] += ids

    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT, ED25519_2020_CONTEXT],
        "id": did,
    }
    if also_known_as:
        document["alsoKnownAs"] = list(also_known_as)
    document["verificationMethod"] = methods
    document.update(relationships)
    if services:
        document["service"] = [dict(service) for service in services]
    return document
