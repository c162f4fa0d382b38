"""Encryption at rest of endpoint signing secrets (AES-256-GCM with a key from settings).

Signing needs the secret itself, so it cannot be stored hashed; it is stored encrypted and bound to
its endpoint id (associated data), so a ciphertext copied onto another endpoint does not decrypt.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class SecretBoxError(Exception):
    """A stored secret could not be decrypted (wrong key or tampered record)."""


class SecretBox:
    """Encrypts and decrypts short secrets with AES-256-GCM."""

    def __init__(self, key_b64: str) -> None:
        key = base64.b64decode(key_b64, validate=True)
        if len(key) != 32:
            raise ValueError("the key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext`` bound to ``context``; return base64(nonce || ciphertext)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, token: str, *, context: str) -> str:
        """Decrypt a value made by :meth:`seal` with the same ``context``."""
        try:
            raw = base64.b64decode(token, validate=True)
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise SecretBoxError("stored secret cannot be decrypted") from exc
        return plain.decode()
