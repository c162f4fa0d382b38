"""Which credentials must be signed by their own issuer.

Kept apart from the engine and the verifier so both can apply the same rule without importing
each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BOUND_TYPES = frozenset(
    {
        "OpenBadgeCredential",
        "AchievementCredential",
        "EndorsementCredential",
        "BitstringStatusListCredential",
        "StatusList2021Credential",
    }
)
"""Credential types whose signer must be their issuer (a key the issuer's DID controls)."""


def requires_issuer_binding(credential: Mapping[str, Any]) -> bool:
    """Whether a proof by a key the issuer does not control must fail verification.

    For Open Badges and status lists it must: a badge "issued" by a college but signed by someone
    else is a forgery. A generic VC (like the W3C test vectors, whose issuer is an https URL or a
    P-256 did:key while an Ed25519 key signs) is verified as published, and the mismatch is
    reported by :func:`sceau_credentials.verification.verify` as a warning.
    """
    types = credential.get("type")
    values = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    return any(isinstance(value, str) and value in BOUND_TYPES for value in values)
