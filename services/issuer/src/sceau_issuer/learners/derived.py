"""Derived credentials: the same credential minus the fields a learner chose to withhold.

Selective disclosure with ecdsa-sd-2023 needs a P-256 base proof made at issuance: credentials of
institutions that chose it are shared as a disclosure of that base copy
(``issuing/selective.py``). For every other credential (issued before the choice, ``ob3-v1`` or
``jwt``, did:key institutions) the issuer signs, at share creation, a *derived credential*:
the original's content without the hidden fields, under a new ``urn:uuid`` id, with the same
status entries (revoking the original revokes every derived copy) and the same validity, secured
with the institution's current key in the original's profile. The original is named in the
credential's ``description`` (a plain OB 3.0 property every verifier shows) so a reader can tell
the two apart; docs/credentials.md explains.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterable
from typing import Any

#: What a learner may withhold, and where it sits in an OpenBadgeCredential.
HIDEABLE = ("result", "evidence")


def hidden_fields(*, hide_result: bool, hide_evidence: bool) -> list[str]:
    """The fields a share withholds, in a stable order."""
    return [name for name, hide in zip(HIDEABLE, (hide_result, hide_evidence), strict=True) if hide]


def unsigned_content(document: dict[str, Any] | str) -> dict[str, Any]:
    """The credential inside a signed document, without its proof.

    A compact VC-JWT is the credential itself (VC-JOSE-COSE, what the ``jwt`` profile signs since
    2026-12) or carries it in its ``vc`` claim (VCDM 1.1, before); a JSON-LD document carries it
    beside its ``proof``.
    """
    if isinstance(document, str):
        payload_part = document.split(".")[1]
        payload = json.loads(
            base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4))
        )
        credential = payload.get("vc", payload if "@context" in payload else None)
        if not isinstance(credential, dict):
            raise ValueError("the JWT carries no credential")
        return copy.deepcopy(credential)
    return {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}


def derive(
    original: dict[str, Any] | str,
    *,
    hidden: Iterable[str],
    new_id: str,
    issuer_did: str,
) -> dict[str, Any]:
    """Return the unsigned derived credential (sign it with the institution's current key).

    Args:
        original: the signed credential as issued (JSON-LD object or compact VC-JWT).
        hidden: names from :data:`HIDEABLE` to leave out.
        new_id: the derived credential's own id (``urn:uuid:...``).
        issuer_did: the controller of the key that will sign (the institution's current DID).
    """
    credential = unsigned_content(original)
    original_id = str(credential.get("id", ""))
    withheld = [name for name in HIDEABLE if name in set(hidden)]
    subject = credential.get("credentialSubject")
    if "result" in withheld and isinstance(subject, dict):
        subject.pop("result", None)
    if "evidence" in withheld:
        credential.pop("evidence", None)
    credential["id"] = new_id
    set_issuer(credential, issuer_did)
    note = f"Copie partagée de / shared copy of {original_id}"
    if withheld:
        note += f" (retiré / withheld: {', '.join(withheld)})"
    credential["description"] = note
    return credential


def original_id_of(derived_credential: dict[str, Any]) -> str | None:
    """The original credential's id named in a derived credential's description, if any."""
    description = derived_credential.get("description")
    if not isinstance(description, str) or "urn:uuid:" not in description:
        return None
    return "urn:uuid:" + description.split("urn:uuid:", 1)[1].split()[0]


def set_issuer(credential: dict[str, Any], issuer_did: str) -> None:
    """Name ``issuer_did`` as the issuer, keeping an issuer profile object if there is one.

    A copy re-signed now (a share's derived credential, a wallet's holder-bound copy) is signed
    by the institution's current key, whose DID must be the issuer's.
    """
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer["id"] = issuer_did
    else:
        credential["issuer"] = issuer_did
