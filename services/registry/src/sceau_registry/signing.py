"""How the registry signs its trust list: the credential engine's ``sign_credential``, ``ob3-v2``.

``ob3-v2`` is a VC Data Model 2.0 credential secured with a ``DataIntegrityProof`` using the
``eddsa-rdfc-2022`` cryptosuite — what the Digital Bazaar stack in the wallets verifies.
Canonicalization is CPU-bound, so signing runs in a worker thread with its own event loop instead
of blocking the service's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey


def _sign_blocking(credential: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    signed = asyncio.run(sign_credential(credential, key, Profile.OB3_V2))
    if not isinstance(signed, dict):  # pragma: no cover - ob3-v2 always returns an object
        raise TypeError("ob3-v2 signing returned a JWT")
    return signed


async def sign_trust_list(credential: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """Sign the trust list credential with the registry key (off the event loop)."""
    return await asyncio.to_thread(_sign_blocking, dict(credential), key)
