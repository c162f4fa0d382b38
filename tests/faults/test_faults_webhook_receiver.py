"""An institution's webhook receiver down, then up: each delivery arrives once (issue 18).

A college registers a webhook endpoint (a real HTTP receiver on loopback) and its receiver goes
down (socket closed: connections refused). A batch is issued; the notifier's deliveries of
``credential.issued`` fail and are retried (1, 2, 4, ... s in the suite) while it is down. The
receiver comes back on the same port: every delivery then arrives exactly once, correctly
signed, and the notifier's delivery log shows each as sent — none dead-lettered, none sent
twice (a second request with the same ``webhook-id`` would be a duplicate here).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fault_support import (
    WebhookReceiver,
    figures,
    listed,
    peak_memory_mb,
    submit_batch,
)

from sceau_dev.testing.journeys import onboard
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack
from sceau_shared import standard_webhooks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COHORT = 20
DOWN_AT_LEAST_S = 12.0


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """The college's receiver (down until the scenario brings it up)."""
    hooks = WebhookReceiver()
    try:
        yield hooks
    finally:
        hooks.down()


async def test_a_receiver_down_then_up_gets_each_delivery_once(
    fault_stack: Stack, receiver: WebhookReceiver
) -> None:
    stack = fault_stack
    run = uuid.uuid4().hex[:6]
    issuer, notifier = stack.url("issuer"), stack.url("notifier")
    async with httpx.AsyncClient(timeout=60) as http:
        college = await onboard(http, stack, f"Crochet {run}")
        endpoint = await http.post(
            f"{notifier}/v1/institutions/{college.institution_id}/webhooks",
            headers=stack.operator_headers(),
            json={"url": receiver.url, "event_types": ["credential.issued"]},
        )
        assert endpoint.status_code == 201, endpoint.text
        secret = endpoint.json()["secret"]

        async def deliveries() -> list[dict[str, Any]]:
            answer = await http.get(
                f"{notifier}/v1/deliveries",
                headers=stack.operator_headers(),
                params={"institution_id": college.institution_id, "limit": 100},
            )
            answer.raise_for_status()
            found: list[dict[str, Any]] = answer.json()
            return [d for d in found if d["event_type"] == "credential.issued"]

        went_down = time.monotonic()
        cohort = [f"w{n}.{run}@example.org" for n in range(COHORT)]
        batch_id = await submit_batch(
            http, issuer, college.auth, college.achievement_id, cohort, f"hooks-{run}"
        )

        async def all_failing() -> list[dict[str, Any]] | None:
            found = await deliveries()
            retried = [d for d in found if d["attempts"] >= 2 and d["status"] != "sent"]
            return found if len(retried) == COHORT else None

        await eventually(
            all_failing, timeout_s=60, message="every delivery refused and retried while down"
        )
        await asyncio.sleep(max(0.0, DOWN_AT_LEAST_S - (time.monotonic() - went_down)))
        refused = await deliveries()
        attempts_while_down = sum(d["attempts"] for d in refused)
        assert all(d["status"] != "failed" for d in refused), refused  # not given up on
        receiver.up()
        came_up = time.monotonic()
        down_s = came_up - went_down

        issued = await listed(http, issuer, college.auth, batch_id=batch_id)
        ids = {c["credential_id"].removeprefix("urn:uuid:") for c in issued}
        assert len(ids) == COHORT

        def arrived() -> Counter[str]:
            return Counter(
                str(h.payload["data"].get("credential_id")).removeprefix("urn:uuid:")
                for h in receiver.snapshot()
                if h.payload.get("type") == "credential.issued"
            )

        await eventually(
            lambda: set(arrived()) >= ids,
            timeout_s=60,
            message=f"{COHORT} deliveries after the receiver came back",
            details=stack.logs,
        )
        delivered_s = time.monotonic() - came_up

        async def all_sent() -> list[dict[str, Any]] | None:
            found = await deliveries()
            return found if [d["status"] for d in found] == ["sent"] * COHORT else None

        log = await eventually(all_sent, timeout_s=30, message="every delivery logged as sent")
        await asyncio.sleep(5.0)  # a delivery sent twice would show up now
    counts = arrived()
    hooks = receiver.snapshot()
    lost = len(ids - set(counts))
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    same_id_twice = len(hooks) - len({h.webhook_id for h in hooks})
    assert lost == 0, counts
    assert duplicated == 0, counts.most_common(3)
    assert same_id_twice == 0
    assert set(counts) == ids  # nothing but this college's credentials
    for hook in hooks:
        assert standard_webhooks.verify(
            secret, hook.webhook_id, int(hook.timestamp), hook.body, hook.signature
        ), hook.webhook_id
    assert {d["webhook_id"] for d in log} == {h.webhook_id for h in hooks}
    figures(
        "webhook receiver down then up",
        requests=2 + COHORT,
        faults="receiver refusing connections",
        receiver_down_s=round(down_s, 1),
        deliveries=COHORT,
        attempts_while_down=attempts_while_down,
        all_delivered_after_up_s=round(delivered_s, 1),
        lost=lost,
        duplicated=duplicated + same_id_twice,
        dead_lettered=0,
        peak_memory_mb=peak_memory_mb(stack),
    )
