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
from fault_support import BatchWatch, figures, landed_once, peak_memory_mb, submit_batch

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

        watch = BatchWatch(http, issuer, college.auth, batch_id)

        async def under_way() -> dict[str, Any] | None:
            return await watch.issued_at_least(40)

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

        done = await watch.completed()
        completed_s = time.monotonic() - killed
        assert done["counts"] == {"issued": COHORT, "duplicate": 0, "failed": 0}, done
        landed = await landed_once(
            watch,
            college.achievement_id,
            cohort,
            bootstrap_servers=real_endpoints.kafka_bootstrap,
            topic=stack.config.topic_prefix + CredentialIssuedV1.TOPIC,
        )
    figures(
        "issuer killed mid-batch",
        requests=1,
        faults="1 SIGKILL + restart",
        issued_before_kill=before["counts"].get("issued", 0),
        credentials=COHORT,
        lost=landed.lost,
        duplicated=landed.doubled,
        announced_twice=landed.announced_twice,
        issuer_ready_after_s=round(ready_s, 1),
        batch_completed_after_kill_s=round(completed_s, 1),
        peak_memory_mb={**peak_before, **peak_memory_mb(stack)},
    )
