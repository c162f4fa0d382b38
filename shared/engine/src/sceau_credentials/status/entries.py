"""Status entries (``credentialStatus``) and unsigned status list credentials.

Two status methods, one per data model:

* VCDM 2.0 (``ob3-v2``, ``jwt``): ``BitstringStatusListEntry`` pointing at a
  ``BitstringStatusListCredential`` (W3C Bitstring Status List v1.0, REC).
* VCDM 1.1 (``ob3-v1``, and ``jwt`` credentials issued before 2026-12): ``StatusList2021Entry``
  pointing at a ``StatusList2021Credential`` (W3C CCG StatusList2021, what didkit and the LCW
  understand).

Entries carry an ``id`` (``<list URL>#<index>``) because the Open Badges 3.0 JSON Schema requires
``credentialStatus.id``, even though Bitstring Status List makes it optional.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sceau_credentials.ob3.constants import (
    BITSTRING_STATUS_LIST,
    BITSTRING_STATUS_LIST_CREDENTIAL,
    BITSTRING_STATUS_LIST_ENTRY,
    ED25519_2020_CONTEXT,
    STATUS_LIST_2021,
    STATUS_LIST_2021_CONTEXT,
    STATUS_LIST_2021_CREDENTIAL,
    STATUS_LIST_2021_ENTRY,
    VC_V1_CONTEXT,
    VC_V2_CONTEXT,
    VCDM_1_1_PROFILES,
    VCDM_2_0_PROFILES,
    VERIFIABLE_CREDENTIAL,
)
from sceau_credentials.status.bitstring import (
    Bitstring,
    encode_bitstring_status_list,
    encode_status_list_2021,
)
from sceau_credentials.status.errors import StatusMalformedError

__all__ = [
    "StatusEntry",
    "StatusPurpose",
    "bitstring_status_list_credential",
    "parse_status_entries",
    "status_entry",
    "status_list_2021_credential",
]


class StatusPurpose(StrEnum):
    """Purposes Sceau issues. ``revocation`` is final; ``suspension`` can be lifted."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusEntry(BaseModel):
    """A parsed ``credentialStatus`` entry of either method (read side, lenient on extras).

    Entries of other status methods (``1EdTechRevocationList``...) are kept with their ``type``
    and ``id`` only, so a verifier can say "unsupported status method" instead of "malformed".

    Attributes:
        type: ``BitstringStatusListEntry`` or ``StatusList2021Entry``.
        purpose: ``statusPurpose`` (any string; the well-known ones have fixed meanings).
        index: ``statusListIndex`` as an integer.
        list_url: ``statusListCredential``.
        size: ``statusSize`` (bits per entry, 1 unless given).
        messages: ``statusMessage`` as ``{"0x1": "..."}``, for ``message`` purposes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | None = None
    type: str
    purpose: str = ""
    index: int = Field(default=0, ge=0)
    list_url: str = ""
    size: int = Field(default=1, ge=1, le=8)
    messages: dict[str, str] = Field(default_factory=dict)

    @property
    def is_bitstring(self) -> bool:
        """True for Bitstring Status List v1.0 entries."""
        return self.type == BITSTRING_STATUS_LIST_ENTRY


def status_entry(
    profile: str, purpose: StatusPurpose | str, list_url: str, index: int
) -> dict[str, Any]:
    """Build the ``credentialStatus`` entry a credential of ``profile`` carries.

    Args:
        profile: ``ob3-v2`` and ``jwt`` (VCDM 2.0) give a BitstringStatusListEntry; ``ob3-v1``
            a StatusList2021Entry.
        purpose: ``revocation`` or ``suspension``.
        list_url: URL of the status list credential (``statusListCredential``).
        index: the allocated index in that list.
    """
    if index < 0:
        raise ValueError("a status list index is never negative")
    if profile in VCDM_2_0_PROFILES:
        entry_type = BITSTRING_STATUS_LIST_ENTRY
    elif profile in VCDM_1_1_PROFILES:
        entry_type = STATUS_LIST_2021_ENTRY
    else:
        raise ValueError(f"unknown credential profile {profile!r}")
    return {
        "id": f"{list_url}#{index}",
        "type": entry_type,
        "statusPurpose": str(StatusPurpose(purpose)),
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def _parse_one(raw: object, position: int) -> StatusEntry:
    where = f"credentialStatus[{position}]"
    if not isinstance(raw, Mapping):
        raise StatusMalformedError(f"{where} must be an object")
    entry_type = raw.get("type")
    if isinstance(entry_type, list) and len(entry_type) == 1:
        entry_type = entry_type[0]
    if not isinstance(entry_type, str):
        raise StatusMalformedError(f"{where}.type must be a string")
    entry_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    if entry_type not in (BITSTRING_STATUS_LIST_ENTRY, STATUS_LIST_2021_ENTRY):
        return StatusEntry(id=entry_id, type=entry_type, list_url=entry_id or "")
    index_raw = raw.get("statusListIndex")
    # Both specifications make statusListIndex a string of digits; integers are tolerated.
    if isinstance(index_raw, bool) or not isinstance(index_raw, str | int):
        raise StatusMalformedError(f"{where}.statusListIndex must be a decimal string")
    index_text = str(index_raw)
    if not index_text.isascii() or not index_text.isdigit() or len(index_text) > 12:
        raise StatusMalformedError(f"{where}.statusListIndex {index_text!r} is not a decimal index")
    size_raw = raw.get("statusSize", 1)
    if isinstance(size_raw, bool) or not isinstance(size_raw, int | str):
        raise StatusMalformedError(f"{where}.statusSize must be an integer")
    messages: dict[str, str] = {}
    for message in raw.get("statusMessage") or []:
        if isinstance(message, Mapping) and isinstance(message.get("status"), str):
            messages[str(message["status"]).lower()] = str(message.get("message", ""))
    try:
        entry = StatusEntry(
            id=entry_id,
            type=entry_type,
            purpose=raw.get("statusPurpose"),
            index=int(index_text),
            list_url=raw.get("statusListCredential"),
            size=int(size_raw),
            messages=messages,
        )
    except (ValidationError, ValueError) as exc:
        raise StatusMalformedError(f"{where} is malformed: {_first_error(exc)}") from exc
    if not entry.purpose or not entry.list_url:
        missing = "statusPurpose" if not entry.purpose else "statusListCredential"
        raise StatusMalformedError(f"{where}.{missing} is required")
    return entry


_WIRE_NAMES = {"purpose": "statusPurpose", "list_url": "statusListCredential"}


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        return f"{_WIRE_NAMES.get(field, field)}: {err['msg']}"
    return str(exc)


def parse_status_entries(value: object) -> list[StatusEntry]:
    """Normalise a ``credentialStatus`` value (absent, one object, or an array) into entries.

    Raises:
        StatusMalformedError: an entry is not an object or misses a required property.
    """
    if value is None:
        return []
    raw_entries: Sequence[object] = value if isinstance(value, list) else [value]
    return [_parse_one(raw, i) for i, raw in enumerate(raw_entries)]


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("status list dates must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def bitstring_status_list_credential(
    *,
    list_url: str,
    issuer: str | Mapping[str, Any],
    purpose: StatusPurpose | str | Sequence[StatusPurpose | str],
    bitstring: Bitstring,
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """Build an unsigned ``BitstringStatusListCredential`` (VCDM 2.0) ready for signing.

    Args:
        list_url: the credential's ``id``; entries point at it with ``statusListCredential``.
        issuer: DID (or Profile object) of the issuer; verifiers require it to be the issuer of
            the credentials the list covers.
        purpose: one purpose, or several when one bitstring serves them all.
        bitstring: the status bits.
        valid_from: when this version of the list was produced.
        valid_until: optional end of validity of this version.
        ttl_ms: optional caching hint in milliseconds (``credentialSubject.ttl``).
    """
    purposes = [purpose] if isinstance(purpose, str) else list(purpose)
    if not purposes:
        raise ValueError("a status list needs at least one purpose")
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": BITSTRING_STATUS_LIST,
        "statusPurpose": str(purposes[0]) if len(purposes) == 1 else [str(p) for p in purposes],
        "encodedList": encode_bitstring_status_list(bitstring),
    }
    if ttl_ms is not None:
        if ttl_ms <= 0:
            raise ValueError("ttl must be a positive number of milliseconds")
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": [VERIFIABLE_CREDENTIAL, BITSTRING_STATUS_LIST_CREDENTIAL],
        "issuer": issuer if isinstance(issuer, str) else dict(issuer),
        "validFrom": _iso(valid_from),
        "credentialSubject": subject,
    }
    if valid_until is not None:
        credential["validUntil"] = _iso(valid_until)
    return credential


def status_list_2021_credential(
    *,
    list_url: str,
    issuer: str | Mapping[str, Any],
    purpose: StatusPurpose | str,
    bitstring: Bitstring,
    issuance_date: datetime,
    expiration_date: datetime | None = None,
    ed25519_context: bool = True,
) -> dict[str, Any]:
    """Build an unsigned ``StatusList2021Credential`` (VCDM 1.1) ready for signing.

    Args:
        list_url: the credential's ``id``.
        issuer: DID (or Profile object) of the issuer.
        purpose: ``revocation`` or ``suspension`` (StatusList2021 has one purpose per list).
        bitstring: the status bits.
        issuance_date: when this version of the list was produced.
        expiration_date: optional end of validity.
        ed25519_context: include the Ed25519Signature2020 suite context, which the proof
            needs when the list is signed with that suite (the ``ob3-v1`` profile).
    """
    contexts: list[str] = [VC_V1_CONTEXT, STATUS_LIST_2021_CONTEXT]
    if ed25519_context:
        contexts.append(ED25519_2020_CONTEXT)
    credential: dict[str, Any] = {
        "@context": contexts,
        "id": list_url,
        "type": [VERIFIABLE_CREDENTIAL, STATUS_LIST_2021_CREDENTIAL],
        "issuer": issuer if isinstance(issuer, str) else dict(issuer),
        "issuanceDate": _iso(issuance_date),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": STATUS_LIST_2021,
            "statusPurpose": str(StatusPurpose(purpose)),
            "encodedList": encode_status_list_2021(bitstring),
        },
    }
    if expiration_date is not None:
        credential["expirationDate"] = _iso(expiration_date)
    return credential
