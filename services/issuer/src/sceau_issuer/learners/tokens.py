"""Share identifiers and the key a share is stored under (its token's hash)."""

from __future__ import annotations

import hashlib
import secrets

SHARE_TOKEN_MAX = 128


def new_share_id() -> str:
    """A random public id for a share (names it on the learner's page and in events)."""
    return secrets.token_urlsafe(12)


def share_key(token: str) -> str:
    """The stored ``_id`` of the share a token opens: its SHA-256 (tokens are never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def plausible_share_token(token: str) -> bool:
    """Cheap shape check before any lookup (URL-safe base64 of reasonable length)."""
    return 16 <= len(token) <= SHARE_TOKEN_MAX and all(c.isalnum() or c in "-_" for c in token)
