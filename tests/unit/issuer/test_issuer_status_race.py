"""A status-list re-sign that loses the version race is done again, not dropped (item 3).

With several issuer replicas, two may rebuild the same list at once; the store keeps only one
publication per version. The loser used to drop its work: if the winner had read the credentials
before the loser's change was visible, that change stayed unpublished (and the sweep, comparing
times, could take it for published). The publisher is driven here with in-memory stand-ins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sceau_issuer.status.changes_repository import LoggedChange
from sceau_issuer.status.publisher import StatusPublisher
from sceau_issuer.status.status_lists import BITSTRING
from sceau_issuer.tenants.models import KeyState, KeyType


async def _nothing() -> AsyncIterator[Any]:
    return
    yield


class Lists:
    def __init__(self) -> None:
        self.doc: dict[str, Any] = {
            "_id": "list-1",
            "institution_id": "inst",
            "did": "did:key:z",
            "format": BITSTRING,
            "size": 1024,
            "version": 3,
            "list_ids": {"revocation": "l-r", "suspension": "l-s"},
            "log_next": 0,
            "flags": {},
        }
        self.races_lost = 1
        self.published: list[int] = []
        self.published_at: list[datetime] = []
        self.flags: list[dict[str, list[int]]] = []

    async def get(self, alloc_id: str) -> dict[str, Any] | None:
        return dict(self.doc) if alloc_id == "list-1" else None

    def awaiting_first_publication(self) -> AsyncIterator[str]:
        return _nothing()

    def positions(self) -> AsyncIterator[Any]:
        return _nothing()

    def url(self, list_id: str) -> str:
        return f"https://issuer.example/status/{list_id}"

    async def record_publication(self, alloc_id: str, **kwargs: Any) -> bool:
        if self.races_lost:
            # Another replica stored version 4 first.
            self.races_lost -= 1
            self.doc["version"] = kwargs["previous_version"] + 1
            return False
        self.published.append(kwargs["version"])
        self.published_at.append(kwargs["published_at"])
        self.flags.append(kwargs["flags"])
        self.doc.update(
            version=kwargs["version"], log_next=kwargs["log_next"], flags=kwargs["flags"]
        )
        return True


def _logged() -> datetime:
    """When the change was logged: a second ago, as seen by the test that runs now.

    Not a module constant: taken at import, it would be minutes old by the time a long session
    runs the test, past the publisher's grace for changes still in flight.
    """
    return datetime.now(UTC) - timedelta(seconds=1)


class Changes:
    """One logged change (number 0) of ``cred-1`` on ``list-1``."""

    def __init__(self, logged: datetime) -> None:
        self.logged = logged

    async def since(self, alloc_id: str, number: int) -> list[LoggedChange]:
        return [LoggedChange(0, "cred-1", self.logged)][number:]

    async def has_since(self, alloc_id: str, number: int) -> bool:
        return number == 0


class Credentials:
    def __init__(self, logged: datetime, written: bool = True) -> None:
        self.logged = logged
        self.written = written

    async def status_of(self, credential_id: str) -> dict[str, Any]:
        if not self.written:  # logged, not yet written: still active
            return {"status_alloc": "list-1", "status": "active", "status_index": 7}
        return {
            "status_alloc": "list-1",
            "status": "revoked",
            "status_index": 7,
            "status_changed_at": self.logged,
        }


class Tenants:
    async def get(self, institution_id: str) -> Any:
        key = SimpleNamespace(
            did="did:key:z", state=KeyState.ACTIVE, key_id="k1", key_type=KeyType.ED25519
        )
        return SimpleNamespace(institution_id=institution_id, keys=[key])

    def signing_key(self, tenant: Any, key_id: str, profile: str) -> Any:
        return object()


async def sign(unsigned: dict[str, Any], key: Any, profile: str) -> dict[str, Any]:
    return {**unsigned, "proof": {}}


def publisher_for(lists: Lists, credentials: Credentials) -> StatusPublisher:
    return StatusPublisher(
        lists,  # type: ignore[arg-type]
        credentials,  # type: ignore[arg-type]
        Changes(credentials.logged),  # type: ignore[arg-type]
        Tenants(),  # type: ignore[arg-type]
        sign,
        producer="test",
        debounce_s=0.0,
        ttl_ms=0,
        poll_s=3600,
    )


async def test_a_lost_version_race_is_published_again_on_top_of_the_winner() -> None:
    lists = Lists()
    publisher = publisher_for(lists, Credentials(_logged()))
    publisher.mark("list-1")
    assert await publisher.publish_pending() == 0  # lost the race to another replica
    assert await publisher.publish_pending() == 1  # done again, over the winner's version
    assert lists.published == [5]


async def test_a_change_in_flight_elsewhere_is_read_again() -> None:
    # Another replica logged a revocation and has not written the credential yet: a re-sign now
    # cannot include it, so the list's position stays on that change for the next re-sign.
    lists = Lists()
    lists.races_lost = 0
    credentials = Credentials(_logged(), written=False)
    publisher = publisher_for(lists, credentials)
    publisher.mark("list-1")
    assert await publisher.publish_pending() == 1
    assert lists.doc["log_next"] == 0
    assert lists.flags[0]["revocation"] == []
    publisher.mark("list-1")
    credentials.written = True
    assert await publisher.publish_pending() == 1
    assert lists.doc["log_next"] == 1
    assert lists.flags[1]["revocation"] == [7]
