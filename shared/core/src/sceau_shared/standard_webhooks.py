"""Standard Webhooks signatures (symmetric ``v1``: HMAC-SHA256 over ``{id}.{timestamp}.{body}``).

The secret is shown to the institution as ``whsec_`` followed by the base64 of random bytes; the
HMAC key is those decoded bytes. See https://www.standardwebhooks.com (spec version 1.0.0).

Shared by both directions: the notifier signs the webhooks it sends to institutions, the issuer
verifies the completion events institutions' LMSs send to it (``sceau_issuer.lms.signatures``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
SECRET_BYTES = 32  # the spec asks for at least 24 bytes


def generate_secret() -> str:
    """Return a new endpoint secret in the ``whsec_<base64>`` form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key_bytes(secret: str) -> bytes:
    """Return the HMAC key of a ``whsec_`` secret (the prefix is optional, as in the spec)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded, validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value ``v1,<base64 HMAC-SHA256>`` for one attempt."""
    if "." in msg_id:
        # The id is part of the signed content delimited by dots; a dot would make it ambiguous.
        raise ValueError("webhook ids must not contain '.'")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, signature_header: str) -> bool:
    """Return whether any ``v1`` signature in the (space-separated) header matches.

    The receiver's side: the issuer's LMS hook, tests, and a reference for integrators.
    """
    expected = sign(secret, msg_id, timestamp, body)
    return any(
        hmac.compare_digest(candidate, expected)
        for candidate in signature_header.split()
        if candidate.startswith("v1,")
    )
