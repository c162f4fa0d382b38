"""The verification webhook names a credential by a keyed pseudonym the institution cannot reverse.

An institution knows every credential id it issued: a plain sha256 of an id is reversed by hashing
them all (R56, R69). The notifier sends an HMAC under a per-deployment key instead.
"""

from __future__ import annotations

import base64
import hashlib
import os

from sceau_notifier.webhooks.pseudonyms import CredentialPseudonyms

KEY = base64.b64encode(b"k" * 32).decode()
ID_HASH = hashlib.sha256(b"urn:uuid:6f3c2f64-0e58-4a43-9d52-3f2d4b5a6c7d").hexdigest()


def test_stable_per_credential_and_institution() -> None:
    names = CredentialPseudonyms(KEY)
    first = names.of("cegep-a", ID_HASH)
    assert first == CredentialPseudonyms(KEY).of("cegep-a", ID_HASH)  # counts stay possible
    assert len(first) == 64
    assert first != names.of("cegep-a", "00" * 32)


def test_not_the_plain_hash_and_depends_on_the_key_and_institution() -> None:
    names = CredentialPseudonyms(KEY)
    value = names.of("cegep-a", ID_HASH)
    assert value != ID_HASH
    assert value != hashlib.sha256(ID_HASH.encode()).hexdigest()
    assert value != names.of("cegep-b", ID_HASH)
    other = CredentialPseudonyms(base64.b64encode(os.urandom(32)).decode())
    assert value != other.of("cegep-a", ID_HASH)
