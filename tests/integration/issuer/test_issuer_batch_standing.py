"""A batch follows the institution while it runs, and never loses a series award (issue 18, 6).

Before: a batch kept signing with the key and accreditation read at its start — through a key
revocation (credentials signed by a key already withdrawn) and a suspension (credentials issued
by a suspended institution); and a series' overall credential was lost when the award step
failed after the component was stored (a resumed batch skipped recorded chunks, a single issue's
retry was a replay).

Each test stops the app's own batch worker and drives one of its own, with an award hook that
changes the world after the first chunk.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from issuer_support import ALL_TYPES, IssuerHarness, micro, scope

from sceau_dev.testing.polling import eventually
from sceau_issuer.issuing.batches import BatchWorker
from sceau_issuer.issuing.repository import read_form
from sceau_shared.events import InstitutionStatus

pytestmark = pytest.mark.integration


def stored_credential(doc: dict[str, Any]) -> Any:
    """The signed credential of a credential read straight from the store (stored as text)."""
    restored = read_form(doc)
    assert restored is not None
    return restored["document"]


Hook = Callable[[str, str, list[dict[str, Any]]], Awaitable[None]]


def recipients(n: int, prefix: str) -> list[dict[str, str]]:
    return [{"email": f"{prefix}{i}@example.org", "name": f"Learner {i}"} for i in range(n)]


async def stop_app_worker() -> None:
    [task] = [t for t in asyncio.all_tasks() if t.get_name() == "batch-worker"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def worker(harness: IssuerHarness, hook: Hook) -> AsyncIterator[BatchWorker]:
    """A batch worker of our own (2-s lease) whose award step is ``hook``."""
    await stop_app_worker()
    running = BatchWorker(
        harness.svc.repositories.batches,
        harness.svc.issuing,
        lease_s=2.0,
        poll_s=0.1,
        after_chunk=hook,
    )
    task = asyncio.create_task(running.run())
    try:
        yield running
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def submit(harness: IssuerHarness, headers: dict[str, str], body: dict[str, Any]) -> str:
    accepted = await harness.http.post(
        "/v1/batches", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["batch_id"])


async def state(harness: IssuerHarness, headers: dict[str, str], batch_id: str) -> dict[str, Any]:
    answer = await harness.http.get(f"/v1/batches/{batch_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def in_state(
    harness: IssuerHarness, headers: dict[str, str], batch_id: str, wanted: str
) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        doc = await state(harness, headers, batch_id)
        return doc if doc["state"] == wanted else None

    found: dict[str, Any] = await eventually(reached, timeout_s=60, message=f"batch {wanted}")
    return found


async def per_recipient(harness: IssuerHarness, batch_id: str) -> Counter[str]:
    return Counter(
        [
            d["recipient"]["email_norm"]
            async for d in harness.db["credentials"].find({"batch_id": batch_id})
        ]
    )


async def one_module_series(harness: IssuerHarness) -> tuple[dict[str, str], str, str]:
    """A college with a one-module series: its API headers, the module and the overall one."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    module = await harness.published(headers, micro(name={"fr": "Module", "en": "Module"}))
    overall = await harness.published(headers, micro(name={"fr": "Parcours", "en": "Pathway"}))
    created = await harness.http.post(
        "/v1/series",
        json={
            "name": {"fr": "Parcours", "en": "Pathway"},
            "structure": "modular",
            "components": [{"achievement_id": module}],
            "overall_achievement_id": overall,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return headers, module, overall


async def test_a_suspension_pauses_the_batch_and_reinstatement_finishes_it(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    suspended_at: list[datetime] = []

    async def suspend_once(*_: Any) -> None:
        if not suspended_at:
            await harness.accredit(
                institution, scope(ALL_TYPES), status=InstitutionStatus.SUSPENDED
            )
            suspended_at.append(datetime.now(UTC))

    async with worker(harness, suspend_once):
        batch_id = await submit(
            harness, headers, {"achievement_id": achievement, "recipients": recipients(100, "s")}
        )
        paused = await in_state(harness, headers, batch_id, "paused")
        assert paused["paused_reason"] == "institution-not-active"
        issued = await per_recipient(harness, batch_id)
        # The chunk recorded before the suspension, and at most the one being stored then.
        assert 20 <= sum(issued.values()) <= 40, issued
        latest = max(
            [d["issued_at"] async for d in harness.db["credentials"].find({"batch_id": batch_id})]
        )
        assert latest.replace(tzinfo=UTC) < suspended_at[0] + timedelta(seconds=1)
        await asyncio.sleep(3)  # rechecked after a lease: still suspended, still paused
        assert (await state(harness, headers, batch_id))["state"] == "paused"
        assert sum((await per_recipient(harness, batch_id)).values()) == sum(issued.values())

        await harness.accredit(institution, scope(ALL_TYPES))  # reinstated
        done = await in_state(harness, headers, batch_id, "completed")
    assert done["counts"] == {"issued": 100, "duplicate": 0, "failed": 0}
    assert done["paused_reason"] is None
    final = await per_recipient(harness, batch_id)
    assert len(final) == 100
    assert set(final.values()) == {1}


async def test_a_key_revoked_mid_batch_signs_no_further_credential(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    revoked: list[str] = []

    async def revoke_once(*_: Any) -> None:
        if not revoked:
            tenant = await harness.svc.tenants.get(institution)
            await harness.svc.tenants.revoke(institution, tenant.active_key_id, datetime.now(UTC))
            revoked.append(tenant.active_key.verification_method)

    async with worker(harness, revoke_once) as running:
        batch_id = await submit(
            harness, headers, {"achievement_id": achievement, "recipients": recipients(100, "k")}
        )
        done = await in_state(harness, headers, batch_id, "completed")
    assert done["counts"] == {"issued": 100, "duplicate": 0, "failed": 0}
    methods = Counter(
        [
            stored_credential(d)["proof"][0]["verificationMethod"]
            async for d in harness.db["credentials"].find({"batch_id": batch_id})
        ]
    )
    # Only the first chunk (recorded before the revocation) carries the revoked key; the chunks
    # signed meanwhile (with the key read a moment before) were signed again.
    assert methods[revoked[0]] == 20, methods
    assert sum(methods.values()) == 100
    assert 1 <= running.resigned_chunks <= 2
    tenant = await harness.svc.tenants.get(institution)
    assert set(methods) - {revoked[0]} == {tenant.active_key.verification_method}


async def test_a_failed_award_step_is_done_again_by_the_resumed_batch(
    harness: IssuerHarness,
) -> None:
    headers, module, overall = await one_module_series(harness)
    failures: list[int] = []

    async def flaky_award(institution_id: str, achievement_id: str, issued: list[Any]) -> None:
        if len(failures) < 2:  # the first two award steps fail after their chunk was stored
            failures.append(len(issued))
            raise RuntimeError("award step failed")
        await harness.svc.series.after_issue(institution_id, achievement_id, issued, marked=False)

    async with worker(harness, flaky_award):
        batch_id = await submit(
            harness, headers, {"achievement_id": module, "recipients": recipients(50, "a")}
        )
        await in_state(harness, headers, batch_id, "completed")

    page = await harness.http.get(
        f"/v1/credentials?achievement_id={overall}&limit=100", headers=headers
    )
    emails = Counter(item["recipient"]["email"] for item in page.json()["items"])
    assert failures
    assert len(emails) == 50, emails
    assert set(emails.values()) == {1}
    assert not [c async for c in harness.db["batch_chunks"].find({"awards_due": True})]


async def test_a_single_issue_award_left_behind_is_retried(harness: IssuerHarness) -> None:
    headers, module, overall = await one_module_series(harness)
    series = harness.svc.series
    # The award step fails after its marker was written (here: the overall achievement cannot
    # be read for a moment).
    original = series._award

    async def failing(*_: Any) -> list[dict[str, Any]]:
        raise RuntimeError("database went away")

    series._award = failing  # type: ignore[method-assign]
    try:
        answer = await harness.issue(headers, module, "solo@example.org")
    except RuntimeError:
        answer = None
    finally:
        series._award = original  # type: ignore[method-assign]
    assert answer is None or answer.status_code >= 500
    assert await harness.db["series_awards"].count_documents({}) == 1
    none = await harness.http.get(f"/v1/credentials?achievement_id={overall}", headers=headers)
    assert none.json()["total"] == 0

    series._retry_after = timedelta(0)
    assert await series.retry_pending() == 1
    page = await harness.http.get(f"/v1/credentials?achievement_id={overall}", headers=headers)
    assert page.json()["total"] == 1
    assert await harness.db["series_awards"].count_documents({}) == 0
    assert await series.retry_pending() == 0


async def test_a_replayed_single_issue_runs_the_award_step_its_first_attempt_missed(
    harness: IssuerHarness,
) -> None:
    headers, module, overall = await one_module_series(harness)
    series = harness.svc.series
    pending = series._pending
    assert pending is not None
    # The component is stored, then the award marker's write fails (the database went away
    # between the two writes): no marker is left for the sweep to find.
    original = pending.add

    async def failing(*_: Any) -> None:
        raise RuntimeError("database went away")

    pending.add = failing  # type: ignore[method-assign]
    try:
        first = await harness.issue(headers, module, "replay@example.org", key="award-replay")
    except RuntimeError:
        first = None
    finally:
        pending.add = original  # type: ignore[method-assign]
    assert first is None or first.status_code >= 500
    assert await harness.db["series_awards"].count_documents({}) == 0
    stored = await harness.http.get(f"/v1/credentials?achievement_id={module}", headers=headers)
    assert stored.json()["total"] == 1  # the component landed

    # The institution retries with the same Idempotency-Key: a replay of the stored component,
    # which runs the award step too (before the fix, a replay skipped it: the overall
    # credential was never issued).
    replay = await harness.issue(headers, module, "replay@example.org", key="award-replay")
    assert replay.status_code == 200, replay.text
    page = await harness.http.get(f"/v1/credentials?achievement_id={overall}", headers=headers)
    assert page.json()["total"] == 1
    assert await harness.db["series_awards"].count_documents({}) == 0

    again = await harness.issue(headers, module, "replay@example.org", key="award-replay")
    assert again.status_code == 200, again.text
    page = await harness.http.get(f"/v1/credentials?achievement_id={overall}", headers=headers)
    assert page.json()["total"] == 1  # the step is idempotent: still one overall credential
