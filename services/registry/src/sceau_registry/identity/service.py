"""The registry's own identity: its did:web DID, its signing key and its DID document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sceau_credentials.dids import KeyState, PublishedKey, institution_did_document
from sceau_credentials.keys import SigningKey
from sceau_registry.identity.crypto import KeyCipher, new_registry_key
from sceau_registry.identity.repository import REGISTRY_KEY_ID, RegistryKeys
from sceau_registry.keys.didhosting import registry_did


@dataclass(frozen=True)
class RegistryIdentity:
    """The registry's DID and the key it signs trust lists with."""

    did: str
    key: SigningKey
    document: dict[str, Any]

    def __repr__(self) -> str:  # the key must never end up in a log line
        return f"RegistryIdentity(did={self.did!r})"


async def load_identity(
    store: RegistryKeys, cipher: KeyCipher, *, public_base_url: str
) -> RegistryIdentity:
    """Load the registry key, generating and storing it (encrypted) at first start."""
    did = registry_did(public_base_url)
    sealed = await store.get(REGISTRY_KEY_ID)
    if sealed is None:
        key, fragment = new_registry_key(did)
        sealed = await store.create_or_get(
            cipher.seal(key, key_id=REGISTRY_KEY_ID, fragment=fragment)
        )
    key = cipher.open(sealed, controller=did)
    document = institution_did_document(
        did, [PublishedKey(sealed.fragment, sealed.public_key_multibase, KeyState.ACTIVE)]
    )
    return RegistryIdentity(did=did, key=key, document=document)
