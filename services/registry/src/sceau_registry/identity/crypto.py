"""The registry's own Ed25519 key, encrypted at rest with AES-256-GCM under the master key.

The key is generated at first start and stored as ciphertext only; the master key (a setting) is
expanded with HKDF into the key-encryption key, so the raw master key never encrypts anything
directly and can later derive other, independent secrets. The record id and public key are bound as
associated data: a ciphertext copied onto another record fails to decrypt instead of being used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sceau_credentials.keys import SigningKey

NONCE_BYTES: Final = 12
ALGORITHM: Final = "A256GCM"
_KEK_INFO: Final = b"sceau-registry/key-encryption/v1"


class KeyDecryptionError(Exception):
    """The stored key does not decrypt under the master key (wrong key or tampered record)."""


@dataclass(frozen=True)
class SealedKey:
    """The stored form of the registry's signing key (public parts in clear, seed encrypted)."""

    key_id: str
    fragment: str
    public_key_multibase: str
    nonce: bytes
    ciphertext: bytes

    def __repr__(self) -> str:  # never print ciphertext material in logs or tracebacks
        return (
            f"SealedKey(key_id={self.key_id!r}, public_key_multibase={self.public_key_multibase!r})"
        )


class KeyCipher:
    """Seal and open the registry's private key with a key derived from the master key."""

    def __init__(self, master_key: bytes) -> None:
        kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEK_INFO).derive(
            master_key
        )
        self._aead = AESGCM(kek)

    @staticmethod
    def _aad(key_id: str, public_key_multibase: str) -> bytes:
        return f"{key_id}|{public_key_multibase}".encode()

    def seal(self, key: SigningKey, *, key_id: str, fragment: str) -> SealedKey:
        """Encrypt ``key``'s seed for storage."""
        nonce = os.urandom(NONCE_BYTES)
        aad = self._aad(key_id, key.public_key_multibase)
        return SealedKey(
            key_id=key_id,
            fragment=fragment,
            public_key_multibase=key.public_key_multibase,
            nonce=nonce,
            ciphertext=self._aead.encrypt(nonce, key.seed, aad),
        )

    def open(self, sealed: SealedKey, *, controller: str) -> SigningKey:
        """Decrypt a sealed key and bind it to ``controller`` (the registry's current DID)."""
        aad = self._aad(sealed.key_id, sealed.public_key_multibase)
        try:
            seed = self._aead.decrypt(sealed.nonce, sealed.ciphertext, aad)
        except InvalidTag as exc:
            raise KeyDecryptionError(
                "the registry signing key does not decrypt under REGISTRY_MASTER_KEY"
            ) from exc
        key = SigningKey.from_seed(seed, controller, sealed.fragment)
        if key.public_key_multibase != sealed.public_key_multibase:
            raise KeyDecryptionError("the registry signing key does not match its public key")
        return key


def new_registry_key(controller: str) -> tuple[SigningKey, str]:
    """Generate a fresh registry key; return it and its fragment (stable across DID moves)."""
    key = SigningKey.generate(controller)
    return key, key.verification_method.partition("#")[2]
