"""Recipient identifiers: the learner's email as a salted SHA-256 ``IdentityObject``.

Why hashed: the credential travels (wallets, employer inboxes, LinkedIn) and must not publish the
learner's address, yet an employer who already knows the address can confirm the badge is theirs
(OB 3.0 verification step 5). The salt is random per credential so that the same learner's
credentials cannot be linked by their hashes and the hash cannot be looked up in a precomputed
table of addresses.

Format (Open Badges convention since 2.0): ``identityHash = "sha256$" + hex(SHA-256(email +
salt))``. Sceau hashes the address trimmed and lower-cased: providers treat the local part
case-insensitively in practice, and a verifier typing ``Jane@College.ca`` must match.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Final

from sceau_credentials.ob3.models import IdentityObject

__all__ = ["email_identity", "hash_identity", "identity_matches", "new_salt", "normalize_email"]

_PREFIX: Final = "sha256$"
_HASH: Final = re.compile(r"^sha256\$[0-9a-f]{64}$")


def normalize_email(email: str) -> str:
    """Trim and lower-case an email address before hashing or comparing it."""
    return email.strip().lower()


def new_salt() -> str:
    """Return a fresh random salt (128 bits, hex)."""
    return secrets.token_hex(16)


def hash_identity(identity: str, salt: str) -> str:
    """Return ``"sha256$<hex>"`` of ``identity + salt``."""
    return _PREFIX + hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()


def email_identity(email: str, *, salt: str | None = None) -> IdentityObject:
    """Build the hashed ``emailAddress`` IdentityObject for ``email``."""
    if "@" not in email:
        raise ValueError("not an email address")
    salt = salt if salt is not None else new_salt()
    return IdentityObject(
        hashed=True,
        identity_hash=hash_identity(normalize_email(email), salt),
        identity_type="emailAddress",
        salt=salt,
    )


def identity_matches(identity: Mapping[str, object], email: str) -> bool:
    """True when an ``emailAddress`` IdentityObject designates ``email``.

    Accepts both hashed (``sha256$``, compared in constant time, against the normalised and the
    as-typed address) and plain identities, so that badges from other issuers can be checked too.
    """
    if identity.get("identityType") != "emailAddress":
        return False
    stored = identity.get("identityHash")
    if not isinstance(stored, str):
        return False
    if identity.get("hashed") is not True:
        return normalize_email(stored) == normalize_email(email)
    if not _HASH.match(stored.lower()):
        return False
    salt = identity.get("salt")
    salt_text = salt if isinstance(salt, str) else ""
    candidates = {normalize_email(email), email.strip()}
    return any(
        hmac.compare_digest(hash_identity(candidate, salt_text), stored.lower())
        for candidate in candidates
    )
