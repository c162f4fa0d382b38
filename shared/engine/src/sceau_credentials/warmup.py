"""Warm a process's credential engine before it serves: contexts, schemas, canonicalizer.

The first signature or verification of a process loads and processes the JSON-LD contexts and
compiles the schemas, which takes far longer than the following ones. A service does it once at
start-up with a throwaway key, so the first institution or employer does not pay for it — and
so the long-lived structures exist before the verifier freezes its start-up objects out of the
garbage collector's reach (``gc.freeze``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import IssuerProfile, Recipient, build_credential
from sceau_credentials.ob3.authoring import AchievementVersion
from sceau_credentials.verification import verify

__all__ = ["throwaway_credential", "warm_up_signing", "warm_up_verification"]

_TEXT = {"fr": "Préchauffage", "en": "Warm-up"}


def throwaway_credential(key: SigningKey) -> dict[str, Any]:
    """An unsigned OB 3.0 (VCDM 2.0) Badge credential issued by ``key``'s controller."""
    achievement = AchievementVersion(
        id="urn:uuid:00000000-0000-4000-8000-000000000000",
        version="1",
        achievement_type="Badge",
        default_language="fr",
        name=_TEXT,
        description=_TEXT,
        criteria=_TEXT,
    )
    return build_credential(
        achievement,
        Recipient(email="warm-up@example.org"),
        IssuerProfile(id=key.controller, name=_TEXT),
        "ob3-v2",
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        issued_at=datetime.now(UTC),
    )


async def warm_up_signing() -> dict[str, Any]:
    """Sign one throwaway credential (``ob3-v2``); return it signed."""
    key = SigningKey.generate()
    signed = await sign_credential(throwaway_credential(key), key, Profile.OB3_V2)
    assert isinstance(signed, dict)  # noqa: S101 - ob3-v2 is always a JSON document
    return signed


async def warm_up_verification() -> bool:
    """Sign and fully verify one throwaway credential; return whether it verified."""
    result = await verify(await warm_up_signing(), resolver=DidKeyResolver())
    return result.verified
