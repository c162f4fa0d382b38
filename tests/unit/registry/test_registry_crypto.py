"""The registry key is sealed with AES-256-GCM under the master key and never shown."""

from __future__ import annotations

import os

import pytest

from sceau_registry.identity.crypto import KeyCipher, KeyDecryptionError, new_registry_key

DID = "did:web:registry.example"


def test_seal_and_open_round_trip() -> None:
    cipher = KeyCipher(os.urandom(32))
    key, fragment = new_registry_key(DID)
    sealed = cipher.seal(key, key_id="k", fragment=fragment)
    assert key.seed not in sealed.ciphertext
    opened = cipher.open(sealed, controller=DID)
    assert opened.seed == key.seed
    assert opened.verification_method == f"{DID}#{fragment}"
    # The DID may move (new public URL); the key and fragment stay.
    moved = cipher.open(sealed, controller="did:web:other.example")
    assert moved.verification_method == f"did:web:other.example#{fragment}"


def test_wrong_master_key_or_tampering_fails() -> None:
    key, fragment = new_registry_key(DID)
    sealed = KeyCipher(os.urandom(32)).seal(key, key_id="k", fragment=fragment)
    with pytest.raises(KeyDecryptionError):
        KeyCipher(os.urandom(32)).open(sealed, controller=DID)
    cipher = KeyCipher(b"\x01" * 32)
    sealed = cipher.seal(key, key_id="k", fragment=fragment)
    from dataclasses import replace

    with pytest.raises(KeyDecryptionError):
        cipher.open(replace(sealed, key_id="other"), controller=DID)
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(KeyDecryptionError):
        cipher.open(replace(sealed, ciphertext=flipped), controller=DID)


def test_repr_shows_no_secret_material() -> None:
    key, fragment = new_registry_key(DID)
    sealed = KeyCipher(os.urandom(32)).seal(key, key_id="k", fragment=fragment)
    assert sealed.ciphertext.hex() not in repr(sealed)
    assert "ciphertext" not in repr(sealed)
