"""Status list families, ids and URLs, and the ``status_lists`` collection.

One allocation (engine allocator) gives a credential one ``(list, index)`` slot used by *two*
published lists: the revocation list and the suspension list. Lists are per institution, per DID
(a status list must be issued by the credential's issuer, and a did:key rotation changes the DID)
and per format (Bitstring Status List for ``ob3-v2``, StatusList2021 for ``ob3-v1``/``jwt``).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_issuer.status.allocation import Allocation
from sceau_shared.events import StatusPurpose, utcnow

BITSTRING = "BitstringStatusList"
STATUS_LIST_2021 = "StatusList2021"
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def list_format(profile: str) -> str:
    """The status list format credentials of ``profile`` point at."""
    return BITSTRING if profile == "ob3-v2" else STATUS_LIST_2021


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


class StatusListRepository:
    """One document per allocated list (both purposes), carrying its publication outbox."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        *,
        registry_url: str,
        on_new_list: Callable[[], None] = lambda: None,
    ) -> None:
        self.collection = collection
        self._on_new_list = on_new_list
        self._registry_url = registry_url.rstrip("/")
        self._known: set[str] = set()

    def url(self, list_id: str) -> str:
        """The public URL of a list at the registry (contract: ``/v1/status-lists/{id}``)."""
        return f"{self._registry_url}/v1/status-lists/{list_id}"

    async def ensure_indexes(self) -> None:
        """Index the publisher's lookup of lists waiting for their first publication."""
        await self.collection.create_index("needs_publish")

    def slot(self, allocation: Allocation) -> StatusSlot:
        """Describe an allocation as list ids and URLs."""
        ids = {p.value: public_list_id(allocation.list_id, p) for p in StatusPurpose}
        return StatusSlot(
            alloc_list_id=allocation.list_id,
            index=allocation.index,
            list_ids=ids,
            list_urls={p: self.url(i) for p, i in ids.items()},
        )

    async def ensure(
        self, allocation: Allocation, *, institution_id: str, did: str, fmt: str
    ) -> None:
        """Create the list's document once, flagged for its first (all-clear) publication.

        Verifiers must find a list before any credential pointing at it can be checked, so a new
        list is published as soon as its first credential is issued.
        """
        if allocation.list_id in self._known:
            return
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.insert_one(
                {
                    "_id": allocation.list_id,
                    "institution_id": institution_id,
                    "did": did,
                    "format": fmt,
                    "size": allocation.size,
                    "list_ids": {
                        p.value: public_list_id(allocation.list_id, p) for p in StatusPurpose
                    },
                    "version": 0,
                    "needs_publish": True,
                    "created_at": utcnow(),
                }
            )
            self._on_new_list()
        self._known.add(allocation.list_id)
