"""An institution's verification method and its validity window, as of a date.

Nothing here touches a database or a web framework. A key's window only ever closes (rotation,
revocation), so whether it could sign at any past moment can be replayed — except after a
revocation: a key is revoked because it was compromised, and whoever holds it can write any
issuance date into what they sign. So a revoked key vouches for nothing, whatever the date a
credential claims; ``revoked_as_of`` only says since when it is known to be compromised. The
issuer re-signs what the key signed before (issue 18, item 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final


@dataclass(frozen=True)
class KeyRecord:
    """A verification method of an institution and its validity window."""

    verification_method: str
    did: str
    institution_id: str
    public_key_multibase: str
    active_from: datetime
    rotated_at: datetime | None = None
    revoked_as_of: datetime | None = None
    key_version: int = 1

    def valid_at(self, moment: datetime) -> bool:
        """Whether the key was allowed to sign at ``moment``.

        A key signs from ``active_from`` until it is rotated out. A rotated key still *verifies*
        what it signed before the rotation, which is why rotated keys stay in DID documents; a
        credential dated after the rotation but signed with the old key is not valid. A revoked
        key is valid at no moment: a thief holding it back-dates forgeries at will (see module).
        """
        if self.revoked_as_of is not None:
            return False
        # Credential dates have whole-second precision while key events carry milliseconds: a
        # credential dated second S may come from any instant of [S, S+1), so a key activated
        # during that second counts as active (otherwise a credential signed with a key created
        # in the same second as the rotation would look older than its own key).
        latest = moment + timedelta(seconds=1) if moment.microsecond == 0 else moment
        if latest <= self.active_from:
            return False
        return self.rotated_at is None or moment < self.rotated_at

    @property
    def fragment(self) -> str:
        """The fragment of the verification method id."""
        return self.verification_method.partition("#")[2]


ED25519_2020_SUFFIX: Final = "-2020"


def find_key(keys: Iterable[KeyRecord], verification_method: str) -> KeyRecord | None:
    """Find a key by method id (``#frag-2020``, the Ed25519Signature2020 twin, finds ``#frag``)."""
    by_id = {key.verification_method: key for key in keys}
    if verification_method in by_id:
        return by_id[verification_method]
    if verification_method.endswith(ED25519_2020_SUFFIX):
        return by_id.get(verification_method[: -len(ED25519_2020_SUFFIX)])
    return None
