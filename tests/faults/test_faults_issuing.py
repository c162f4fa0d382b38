"""The database paused (SIGSTOP) while a college issues, then while it revokes: nothing lost.

Issuing: a batch accepted just before the pause runs into it, and single issues sent during it
answer 503 + ``Retry-After``; the college retries each with its ``Idempotency-Key`` after the
resume. Every recipient then holds exactly one credential, each announced once.

Revoking: revocations sent during the pause answer 503; retried after the resume (200, or 409
when the first attempt had landed), every one of them reaches the status list the registry
serves — checked with the engine's status checker on the registry's lists — and no other
credential is touched.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from fault_support import (
    PAUSE_S,
    FaultDatabase,
    all_valid,
    announcements,
    bare,
    event_ids,
    figures,
    holders,
    listed,
    peak_memory_mb,
    revocations_served,
    submit_batch,
)

from sceau_dev.testing.infrastructure import Endpoints
from sceau_dev.testing.journeys import College, issue, onboard
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack
from sceau_shared.events import CredentialIssuedV1, CredentialStatusChangedV1

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BATCH = 200
SINGLES = 10
REVOKED = 6


async def until_accepted(
    http: httpx.AsyncClient, send: Any, *, accepted: tuple[int, ...], timeout_s: float = 60.0
) -> httpx.Response:
    """Send again (same body, same key) until the answer is one of ``accepted``."""
    last: list[httpx.Response] = []

    async def attempt() -> httpx.Response | None:
        try:
            answer: httpx.Response = await send()
        except httpx.TransportError:
            return None
        last.append(answer)
        return answer if answer.status_code in accepted else None

    try:
        found: httpx.Response = await eventually(
            attempt, timeout_s=timeout_s, interval_s=0.5, message="accepted after the resume"
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}: last {last[-1].status_code} {last[-1].text}") from exc
    return found


async def batch_view(
    http: httpx.AsyncClient, stack: Stack, college: College, batch_id: str
) -> dict[str, Any]:
    answer = await http.get(f"{stack.url('issuer')}/v1/batches/{batch_id}", headers=college.auth)
    answer.raise_for_status()
    view: dict[str, Any] = answer.json()
    return view


async def test_a_paused_database_during_issuing_loses_and_doubles_nothing(
    fault_stack: Stack, fault_database: FaultDatabase, real_endpoints: Endpoints
) -> None:
    stack = fault_stack
    run = uuid.uuid4().hex[:6]
    issuer = stack.url("issuer")
    async with httpx.AsyncClient(timeout=60) as http:
        college = await onboard(http, stack, f"Panne {run}")
        cohort = [f"b{n}-{run}@example.org" for n in range(BATCH)]
        singles = [f"s{n}-{run}@example.org" for n in range(SINGLES)]
        batch_id = await submit_batch(
            http, issuer, college.auth, college.achievement_id, cohort, f"pause-{run}"
        )

        def single(email: str) -> Any:
            key = f"single-{email}"
            body = {
                "achievement_id": college.achievement_id,
                "recipient": {"email": email, "name": "Apprenant"},
            }
            return lambda: http.post(
                f"{issuer}/v1/credentials",
                headers=college.auth | {"Idempotency-Key": key},
                json=body,
            )

        async with fault_database.paused(PAUSE_S):
            during = await asyncio.gather(*(single(e)() for e in singles), return_exceptions=True)
        resumed = time.monotonic()
        statuses = Counter(
            a.status_code if isinstance(a, httpx.Response) else type(a).__name__ for a in during
        )
        assert set(statuses) <= {201, 503}, statuses
        for answer in during:
            if isinstance(answer, httpx.Response) and answer.status_code == 503:
                assert int(answer.headers["retry-after"]) > 0
        retried = [await until_accepted(http, single(e), accepted=(200, 201)) for e in singles]
        assert all(r.status_code in (200, 201) for r in retried)

        async def completed() -> dict[str, Any] | None:
            view = await batch_view(http, stack, college, batch_id)
            return view if view["state"] == "completed" else None

        view = await eventually(completed, timeout_s=90, message="batch completed after resume")
        batch_after_s = time.monotonic() - resumed
        assert view["counts"] == {"issued": BATCH, "duplicate": 0, "failed": 0}, view
        held = await holders(http, issuer, college.auth, college.achievement_id)
        expected = set(cohort) | set(singles)
        lost = len(expected - set(held))
        doubled = sum(n - 1 for n in held.values() if n > 1)
        assert lost == 0, held
        assert doubled == 0, held

        # Each credential announced once (distinct events per credential).
        ids = {
            c["credential_id"]
            for c in await listed(http, issuer, college.auth, achievement_id=college.achievement_id)
        }
        topic = stack.config.topic_prefix + CredentialIssuedV1.TOPIC
        announced = await announcements(real_endpoints.kafka_bootstrap, topic, ids)
    announced_twice = sum(n - 1 for n in announced.values() if n > 1)
    assert announced_twice == 0, announced.most_common(3)
    figures(
        "database paused during issuing",
        pause_s=PAUSE_S,
        requests=1 + SINGLES + sum(1 for _ in retried),
        answers_during_pause=dict(statuses),
        faults=1,
        credentials=len(expected),
        lost=lost,
        duplicated=doubled,
        announced_twice=announced_twice,
        batch_completed_after_resume_s=round(batch_after_s, 1),
        peak_memory_mb=peak_memory_mb(stack),
    )


async def test_a_paused_database_during_revoking_loses_no_revocation(
    fault_stack: Stack, fault_database: FaultDatabase, real_endpoints: Endpoints
) -> None:
    stack = fault_stack
    run = uuid.uuid4().hex[:6]
    issuer = stack.url("issuer")
    async with httpx.AsyncClient(timeout=60) as http:
        college = await onboard(http, stack, f"Retrait {run}")
        issued = [
            await issue(http, stack, college, f"r{n}-{run}@example.org") for n in range(2 * REVOKED)
        ]
        await all_valid(http, issued)
        to_revoke, kept = issued[:REVOKED], issued[REVOKED:]

        def revoke(detail: dict[str, Any]) -> Any:
            return lambda: http.post(
                f"{issuer}/v1/credentials/{detail['credential_id']}/revoke",
                headers=college.auth,
                json={"reason_code": "issued-in-error"},
            )

        async with fault_database.paused(PAUSE_S):
            during = await asyncio.gather(*(revoke(d)() for d in to_revoke), return_exceptions=True)
        resumed = time.monotonic()
        statuses = Counter(
            a.status_code if isinstance(a, httpx.Response) else type(a).__name__ for a in during
        )
        assert set(statuses) <= {200, 503}, statuses
        for detail in to_revoke:
            await until_accepted(http, revoke(detail), accepted=(200, 409))
        await revocations_served(http, to_revoke, kept)
        visible_s = time.monotonic() - resumed

        topic = stack.config.topic_prefix + CredentialStatusChangedV1.TOPIC
        revoked_ids = {d["credential_id"] for d in to_revoke}
        mine = await announcements(real_endpoints.kafka_bootstrap, topic, revoked_ids)
        changes = await event_ids(real_endpoints.kafka_bootstrap, topic)
    doubled = sum(n - 1 for n in mine.values())
    assert doubled == 0, mine
    assert not {bare(d["credential_id"]) for d in kept} & {bare(c) for c in changes}
    figures(
        "database paused during revoking",
        pause_s=PAUSE_S,
        requests=len(issued) + 2 * REVOKED,
        answers_during_pause=dict(statuses),
        faults=1,
        revoked=REVOKED,
        lost=0,
        duplicated=doubled,
        all_revocations_served_after_resume_s=round(visible_s, 1),
        peak_memory_mb=peak_memory_mb(stack),
    )
