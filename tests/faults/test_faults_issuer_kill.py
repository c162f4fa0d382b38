"""The issuer killed (SIGKILL) in the middle of a batch, then restarted: the batch finishes, once.

A batch is accepted, the issuer process is killed without warning once part of it is issued,
and started again. The restarted issuer takes the batch over when the dead run's lease (5 s in
the suite) runs out, skips the chunks already recorded, and issues the rest: every recipient
holds exactly one credential, each announced once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from fault_support import (
    announcements,
    figures,
    holders,
    listed,
    peak_memory_mb,
    submit_batch,
)

from sceau_dev.testing.infrastructure import Endpoints
from sceau_dev.testing.journeys import onboard
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack
from sceau_shared.events import CredentialIssuedV1

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COHORT = 400


async def test_an_issuer_killed_mid_batch_finishes_it_with_each_credential_once(
    fault_stack: Stack, real_endpoints: Endpoints
) -> None:
    stack = fault_stack
    run = uuid.uuid4().hex[:6]
    issuer = stack.url("issuer")
    cohort = [f"k{n}-{run}@example.org" for n in range(COHORT)]
    async with httpx.AsyncClient(timeout=60) as http:
        college = await onboard(http, stack, f"Arrêt {run}")
        batch_id = await submit_batch(
            http, issuer, college.auth, college.achievement_id, cohort, f"kill-{run}"
        )

        async def view() -> dict[str, Any]:
            answer = await http.get(f"{issuer}/v1/batches/{batch_id}", headers=college.auth)
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            return body

        async def under_way() -> dict[str, Any] | None:
            current = await view()
            return current if current["counts"].get("issued", 0) >= 40 else None

        before = await eventually(
            under_way, timeout_s=60, interval_s=0.05, message="batch under way"
        )
        peak_before = peak_memory_mb(stack)
        stack["issuer"].kill()
        killed = time.monotonic()
        assert before["state"] != "completed", "the batch finished before the kill"
        stack["issuer"].start()
        await asyncio.to_thread(stack["issuer"].wait_ready, 90)
        ready_s = time.monotonic() - killed

        async def completed() -> dict[str, Any] | None:
            current = await view()
            return current if current["state"] == "completed" else None

        done = await eventually(completed, timeout_s=90, message="batch completed after restart")
        completed_s = time.monotonic() - killed
        assert done["counts"] == {"issued": COHORT, "duplicate": 0, "failed": 0}, done
        held = await holders(http, issuer, college.auth, college.achievement_id)
        batch = await listed(http, issuer, college.auth, batch_id=batch_id)
        ids = {c["credential_id"] for c in batch}
    lost = len(set(cohort) - set(held))
    doubled = sum(n - 1 for n in held.values() if n > 1)
    assert lost == 0, held
    assert doubled == 0, held.most_common(3)
    topic = stack.config.topic_prefix + CredentialIssuedV1.TOPIC
    announced = await announcements(real_endpoints.kafka_bootstrap, topic, ids)
    announced_twice = sum(n - 1 for n in announced.values() if n > 1)
    assert announced_twice == 0, announced.most_common(3)
    figures(
        "issuer killed mid-batch",
        requests=1,
        faults="1 SIGKILL + restart",
        issued_before_kill=before["counts"].get("issued", 0),
        credentials=COHORT,
        lost=lost,
        duplicated=doubled,
        announced_twice=announced_twice,
        issuer_ready_after_s=round(ready_s, 1),
        batch_completed_after_kill_s=round(completed_s, 1),
        peak_memory_mb={**peak_before, **peak_memory_mb(stack)},
    )
