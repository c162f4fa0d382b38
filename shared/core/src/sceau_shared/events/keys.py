"""Events about institutions' signing keys (produced by the issuer, consumed by the registry)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime

from sceau_shared.events.envelope import Event


class KeyAction(StrEnum):
    """What changed about a verification method."""

    ADDED = "added"
    ROTATED = "rotated"
    REVOKED = "revoked"


class IssuerKeyPublishedV1(Event):
    """A verification method was added, rotated out (still verifies old credentials) or revoked.

    Only public material travels here; private keys never leave the issuer's database.
    """

    TOPIC: ClassVar[str] = "issuer.key-published.v1"
    KEY_FIELD: ClassVar[str] = "institution_id"

    institution_id: str
    did: str
    verification_method: str
    public_key_multibase: str
    action: KeyAction
    active_from: AwareDatetime
    rotated_at: AwareDatetime | None = None
    revoked_as_of: AwareDatetime | None = None
    key_version: int = 1
