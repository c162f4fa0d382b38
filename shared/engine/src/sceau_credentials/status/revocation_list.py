"""Reading a ``1EdTechRevocationList`` (1EdTech Revocation List Status Method 1.0).

An Open Badges 3.0 / CLR 2.0 credential may carry ``credentialStatus: {"id": <URL>, "type":
"1EdTechRevocationList"}``. The URL serves a *revocation list*: an ``issuer``, the list's own
``id`` and ``revokedCredentials``, an array of ``{"id": <credential id>, "revocationReason"?}``.
A credential is revoked when its ``id`` is on the list.

Unlike a bitstring list, this one names the revoked credentials, so a verifier learns nothing
about *which* credential it is checking from the fetch (the whole list is fetched), but anyone
can read the ids on it; Sceau reads such lists and never publishes them.

The list may be served as plain JSON or as a signed credential (its ``revokedCredentials`` at
the top level or in ``credentialSubject``). The checker verifies the proof of a signed list;
a plain list is trusted as far as the channel that served it (the verifier fetches status
lists only from allowed hosts over HTTPS). Either way the list's ``issuer`` must be the
credential's issuer, and a list that names an ``id`` must name the URL it was fetched from (a
list copied to another address proves nothing about that address).

This module only parses; :class:`~sceau_credentials.status.checker.ListStatusChecker` fetches,
verifies and reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sceau_credentials.ob3.fields import as_list, id_of
from sceau_credentials.status.errors import StatusMalformedError

__all__ = ["REVOCATION_LIST_1EDTECH", "RevocationList", "is_signed", "read_revocation_list"]

#: The ``credentialStatus.type`` of the 1EdTech Revocation List Status Method.
REVOCATION_LIST_1EDTECH: Final = "1EdTechRevocationList"

_MAX_REASON: Final = 500
"""A reason longer than this is cut: it is shown to people, not parsed."""


@dataclass(frozen=True, slots=True)
class RevocationList:
    """A parsed revocation list.

    Attributes:
        list_id: the list's own ``id`` (``None`` when it names none).
        issuer: the list's ``issuer`` id.
        revoked: revoked credential id → its ``revocationReason`` (``None`` when not given).
    """

    list_id: str | None
    issuer: str | None
    revoked: Mapping[str, str | None]


def _revoked_entries(document: Mapping[str, Any]) -> object:
    if "revokedCredentials" in document:
        return document["revokedCredentials"]
    subject = document.get("credentialSubject")
    if isinstance(subject, Mapping) and "revokedCredentials" in subject:
        return subject["revokedCredentials"]
    raise StatusMalformedError("the revocation list has no revokedCredentials")


def read_revocation_list(document: Mapping[str, Any]) -> RevocationList:
    """Parse a revocation list (plain JSON, or the payload of a signed list credential).

    Raises:
        StatusMalformedError: ``revokedCredentials`` is missing, not an array, or holds an
            entry without a string ``id``.
    """
    entries = _revoked_entries(document)
    if not isinstance(entries, list):
        raise StatusMalformedError("revokedCredentials must be an array")
    revoked: dict[str, str | None] = {}
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            raise StatusMalformedError(f"revokedCredentials[{position}] has no string id")
        reason = entry.get("revocationReason")
        revoked[entry["id"]] = reason[:_MAX_REASON] if isinstance(reason, str) else None
    subject = document.get("credentialSubject")
    issuer = id_of(document.get("issuer"))
    if issuer is None and isinstance(subject, Mapping):
        issuer = id_of(subject.get("issuer"))
    list_id = document.get("id")
    return RevocationList(
        list_id=list_id if isinstance(list_id, str) else None,
        issuer=issuer,
        revoked=revoked,
    )


def is_signed(document: Mapping[str, Any] | str) -> bool:
    """Whether a fetched list carries a proof (a VC-JWT, or an object with ``proof``)."""
    return isinstance(document, str) or bool(as_list(document.get("proof")))
