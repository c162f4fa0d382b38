"""The issuer's status-slot allocator.

Batches need many slots at once, which the engine's :class:`StatusIndexAllocator` provides with
its public :meth:`~StatusIndexAllocator.allocate_many` (one unordered ``insert_many`` of
unique-``_id`` claims per list, so it stays atomic on FerretDB 1.24). The issuer keeps its own
name for the allocator so that its composition root and services depend on this module rather
than on where the engine keeps the class.
"""

from __future__ import annotations

from sceau_shared.credentials.status.allocation import StatusIndexAllocator

__all__ = ["BlockAllocator"]


class BlockAllocator(StatusIndexAllocator):
    """The engine's status-index allocator under the issuer's name.

    Adds nothing: the issuer uses only the engine's public API (``allocate``, ``allocate_many``,
    ``ensure_indexes``, ``lists``), so the claims it writes are exactly the engine's.
    """
