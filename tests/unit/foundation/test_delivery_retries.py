"""Which failures a consumer waits out and which it dead-letters (issue 18, item 2).

The delivery rule is driven directly with a stand-in record and publisher: no broker, and the
pauses are recorded instead of slept.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from pymongo.errors import AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError

from sceau_shared.errors import ServiceError
from sceau_shared.events import InstitutionRegisteredV1
from sceau_shared.kafka import _Delivery, backoff_s
from sceau_shared.transient import is_transient

EVENT = InstitutionRegisteredV1.model_validate(
    {
        "producer": "test",
        "institution_id": "inst-1",
        "legal_name": {"fr": "École", "en": "School"},
        "category": "university",
        "jurisdiction": "CA-QC",
        "did_method": "key",
    }
)


@dataclass
class Record:
    topic: str = "sceau.registry.institution-registered.v1"
    partition: int = 0
    offset: int = 7
    key: bytes = b"inst-1"


@dataclass
class Message:
    body: bytes
    raw_message: Record = field(default_factory=Record)


@dataclass
class Letters:
    sent: list[dict[str, Any]] = field(default_factory=list)
    producer: str = "test"

    async def publish_physical(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def delivery(pauses: list[float]) -> _Delivery:
    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    return _Delivery(
        InstitutionRegisteredV1,
        topic="sceau.registry.institution-registered.v1",
        group_id="sceau.issuer.test",
        max_attempts=5,
        retry_delay_s=0.5,
        max_backoff_s=30.0,
        sleep=sleep,
    )


def failing(errors: list[BaseException]) -> Any:
    async def call(event: Any) -> None:
        if errors:
            raise errors.pop(0)

    return call


@pytest.mark.parametrize(
    "error",
    [
        AutoReconnect("connection closed"),
        ServerSelectionTimeoutError("no server"),
        NetworkTimeout("timed out"),
        KafkaTimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_an_outage_is_waited_out_however_long_and_never_dead_lettered(
    error: BaseException,
) -> None:
    pauses: list[float] = []
    letters = Letters()
    rule = delivery(pauses)
    message = Message(EVENT.to_bytes())
    call = failing([error] * 40)
    for _ in range(40):  # far more than max_attempts: a 90-s database pause
        with pytest.raises(type(error)):  # raised: the message is not acknowledged (NACK)
            await rule.deliver(message, letters, call)  # type: ignore[arg-type]
    await rule.deliver(message, letters, call)  # type: ignore[arg-type]
    assert letters.sent == []
    assert max(pauses) <= 30.0
    assert sum(pauses) > 60.0  # it waited, with growing pauses, rather than spinning


async def test_a_poison_message_still_goes_to_the_dlq_after_max_attempts() -> None:
    pauses: list[float] = []
    letters = Letters()
    rule = delivery(pauses)
    message = Message(EVENT.to_bytes())
    call = failing([ValueError("bad data")] * 10)
    for _ in range(4):
        with pytest.raises(ValueError, match="bad data"):
            await rule.deliver(message, letters, call)  # type: ignore[arg-type]
    await rule.deliver(message, letters, call)  # type: ignore[arg-type]
    assert len(letters.sent) == 1
    assert letters.sent[0]["topic"] == "sceau.registry.institution-registered.v1.dlq"


async def test_an_unparsable_message_goes_to_the_dlq_at_once() -> None:
    letters = Letters()
    await delivery([]).deliver(Message(b"{not json"), letters, failing([]))  # type: ignore[arg-type]
    assert len(letters.sent) == 1


async def test_outage_failures_do_not_count_towards_the_poison_limit() -> None:
    letters = Letters()
    rule = delivery([])
    message = Message(EVENT.to_bytes())
    call = failing([AutoReconnect("down")] * 20 + [ValueError("bad")] * 4)
    for _ in range(24):
        with pytest.raises((AutoReconnect, ValueError)):
            await rule.deliver(message, letters, call)  # type: ignore[arg-type]
    assert letters.sent == []  # 4 real failures so far: one more before the DLQ
    await rule.deliver(message, letters, call)  # type: ignore[arg-type]
    assert letters.sent == []  # and it then succeeded


def test_backoff_doubles_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    pauses = [backoff_s(n, base_s=0.5, cap_s=30.0, rng=rng) for n in range(1, 12)]
    assert 0.25 <= pauses[0] <= 0.5
    assert all(p <= 30.0 for p in pauses)
    assert pauses[-1] >= 15.0
    assert len(set(pauses)) == len(pauses)


def test_a_domain_error_raised_from_an_outage_is_transient() -> None:
    wrapped = ServiceError("could not store")
    wrapped.__cause__ = AutoReconnect("down")
    assert is_transient(wrapped)
    assert not is_transient(ValueError("bad"))
