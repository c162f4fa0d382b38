"""Status list families, ids and slots (pure; the ``status_lists`` collection is ``repository.py``).

One allocation (engine allocator) gives a credential one ``(list, index)`` slot used by *two*
published lists: the revocation list and the suspension list. Lists are per institution, per DID
(a status list must be issued by the credential's issuer, and a did:key rotation changes the DID)
and per format (Bitstring Status List for ``ob3-v2`` and ``jwt``, StatusList2021 for ``ob3-v1``;
``jwt`` credentials issued before 2026-12 point at StatusList2021 lists, which stay published).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sceau_shared.events import StatusPurpose

BITSTRING = "BitstringStatusList"
STATUS_LIST_2021 = "StatusList2021"
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def list_format(profile: str) -> str:
    """The status list format credentials of ``profile`` point at."""
    return BITSTRING if profile in ("ob3-v2", "jwt") else STATUS_LIST_2021


def family(institution_id: str, did: str, fmt: str) -> str:
    """The allocator family of an institution's DID and list format (URL-safe, no '/')."""
    tenant = institution_id if _SAFE.match(institution_id) else _digest(institution_id)
    short = "bsl" if fmt == BITSTRING else "sl21"
    return f"{tenant}.{_digest(did)}.{short}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def public_list_id(alloc_list_id: str, purpose: StatusPurpose) -> str:
    """The published id of one purpose's list (``<family>.<seq>.<purpose>``)."""
    return f"{alloc_list_id.replace('/', '.')}.{purpose.value}"


@dataclass(frozen=True)
class StatusSlot:
    """Where a credential's status lives, with both list URLs."""

    alloc_list_id: str
    index: int
    list_ids: dict[str, str]
    list_urls: dict[str, str]
