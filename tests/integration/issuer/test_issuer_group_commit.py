"""Group commit of single issues: concurrent requests share writes, never answers or errors.

``POST /v1/credentials`` goes through the issuer's ``IssueCollector`` (issuing/group_commit.py):
requests in flight together are written as one group. Each must still get its own answer
(201, replay 200, 409, 422, 404, 403...), nothing may be issued twice, and a group that fails
half-way must leave nothing a retry cannot finish.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from issuer_support import ALL_TYPES, IssuerHarness, consume, micro, scope

from sceau_dev.testing.polling import eventually
from sceau_issuer.issuing.group_commit import RECENT_S, IssueCollector, SignGroup
from sceau_issuer.issuing.schemas import IssueRequest, RecipientInput
from sceau_issuer.issuing.sign_jobs import Signed, SignJob
from sceau_shared.events import AccreditationScope, NotificationRequestedV1

pytestmark = pytest.mark.integration


async def _setup(harness: IssuerHarness) -> tuple[str, dict[str, str], str]:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    return institution, headers, await harness.published(headers, micro())


async def _together(
    harness: IssuerHarness, headers: dict[str, str], calls: list[tuple[str, str, str]]
) -> list[httpx.Response]:
    """Send ``(achievement, email, key)`` issues at once (they land in the same groups)."""
    return list(
        await asyncio.gather(
            *(harness.issue(headers, a, email, key=key) for a, email, key in calls)
        )
    )


async def test_concurrent_issues_are_written_in_groups(harness: IssuerHarness) -> None:
    _, headers, achievement = await _setup(harness)
    before = harness.svc.collector.groups
    answers = await _together(
        harness, headers, [(achievement, f"l{n}@example.org", f"k{n}") for n in range(24)]
    )
    assert [a.status_code for a in answers] == [201] * 24, [a.text for a in answers]
    ids = {a.json()["credential_id"] for a in answers}
    assert len(ids) == 24
    assert harness.svc.collector.groups - before < 24  # shared, not one group each
    entries = [a.json()["document"]["credentialStatus"] for a in answers]
    assert all(isinstance(e, dict) for e in entries)  # one status entry by default (issue 15)
    indexes = {(e["statusListCredential"], e["statusListIndex"]) for e in entries}
    assert len(indexes) == 24  # a slot each
    assert await harness.db["credentials"].count_documents({}) == 24
    notified = await consume(harness.settings.kafka, NotificationRequestedV1, 24)
    assert {f"urn:uuid:{i}" for i in ids} == {e.credential_id for e in notified}
    # Each credential had its pending-outbox marker before it was stored (found by a sweep had
    # the process died); the relay deleted them once the events were published.
    pending = harness.db["outbox_pending"]

    async def cleared() -> bool:
        return await pending.count_documents({"collection": "credentials"}) == 0

    await eventually(cleared, timeout_s=10, message="pending markers of published credentials")


async def test_duplicates_inside_one_group(harness: IssuerHarness) -> None:
    _, headers, achievement = await _setup(harness)
    calls = [
        (achievement, "twin@example.org", "same-key"),
        (achievement, "twin@example.org", "same-key"),
        (achievement, "twin@example.org", "same-key"),
        (achievement, "held@example.org", "held-1"),
        (achievement, "HELD@example.org", "held-2"),
        *((achievement, f"ok{n}@example.org", f"ok{n}") for n in range(6)),
    ]
    answers = await _together(harness, headers, calls)
    twins = answers[:3]
    assert sorted(a.status_code for a in twins) == [200, 200, 201], [a.text for a in twins]
    assert len({a.json()["credential_id"] for a in twins}) == 1
    held = answers[3:5]
    assert sorted(a.status_code for a in held) == [201, 409], [a.text for a in held]
    issued = next(a for a in held if a.status_code == 201).json()["credential_id"]
    assert next(a for a in held if a.status_code == 409).json()["credential_id"] == issued
    assert [a.status_code for a in answers[5:]] == [201] * 6
    assert await harness.db["credentials"].count_documents({}) == 8
    # The refused key changed nothing: it can be used again for another recipient.
    loser = "held-1" if held[0].status_code == 409 else "held-2"
    reuse = await harness.issue(headers, achievement, "new@example.org", key=loser)
    assert reuse.status_code == 201, reuse.text
    mismatch = await harness.issue(headers, achievement, "other@example.org", key="same-key")
    assert mismatch.status_code == 422


async def test_one_failing_request_does_not_fail_the_others(harness: IssuerHarness) -> None:
    institution, headers, achievement = await _setup(harness)
    participation = await harness.published(
        headers, micro(name={"fr": "Présence", "en": "Presence"}, achievement_type="Badge")
    )
    await harness.accredit(institution, *_scopes_without_badge())
    calls = [
        *((achievement, f"g{n}@example.org", f"g{n}") for n in range(5)),
        ("no-such-achievement", "x@example.org", "missing"),
        (participation, "y@example.org", "not-accredited"),
    ]
    answers = await _together(harness, headers, calls)
    assert [a.status_code for a in answers[:5]] == [201] * 5, [a.text for a in answers]
    assert answers[5].status_code == 404, answers[5].text
    assert answers[6].status_code == 403, answers[6].text
    assert await harness.db["credentials"].count_documents({}) == 5
    # Refused requests reserved nothing.
    assert await harness.db["idempotency"].count_documents({}) == 5


def _scopes_without_badge() -> list[AccreditationScope]:
    return [scope([t for t in ALL_TYPES if t != "Badge"])]


def _collector(
    graph: Any, sign_group: SignGroup, *, window_s: float = 0.05, recent_s: float = RECENT_S
) -> IssueCollector:
    """A collector of its own on the harness's issuing service, signing with ``sign_group``."""
    return IssueCollector(
        graph.issuing,
        sign_group=sign_group,
        on_written=graph.relays.credentials.notify_written_together,
        window_s=window_s,
        recent_s=recent_s,
    )


def _requests(prefix: str, count: int, achievement: str) -> list[IssueRequest]:
    return [
        IssueRequest(
            achievement_id=achievement,
            recipient=RecipientInput(email=f"{prefix}{n}@example.org"),
        )
        for n in range(count)
    ]


async def test_a_group_failing_at_the_insert_is_finished_by_the_retries(
    harness: IssuerHarness,
) -> None:
    """The store fails after the reservations and the signatures: retries issue each once."""
    institution, _, achievement = await _setup(harness)
    graph = harness.svc
    tenant = await graph.tenants.get(institution)
    credentials = graph.repositories.credentials
    real_insert = credentials.insert_many
    failures = {"left": 1}

    async def failing_insert(docs: list[dict[str, Any]], *, marked: bool = False) -> set[int]:
        if failures["left"]:
            failures["left"] -= 1
            # Half stored, then the store fails.
            await real_insert(docs[: len(docs) // 2], marked=marked)
            raise ConnectionError("store went away")
        return await real_insert(docs, marked=marked)

    credentials.insert_many = failing_insert  # type: ignore[method-assign]
    requests = _requests("crash", 6, achievement)
    first = await asyncio.gather(
        *(
            graph.collector.issue(tenant, r, idempotency_key=f"c{n}")
            for n, r in enumerate(requests)
        ),
        return_exceptions=True,
    )
    assert any(isinstance(o, ConnectionError) for o in first), first
    retried = await asyncio.gather(
        *(graph.collector.issue(tenant, r, idempotency_key=f"c{n}") for n, r in enumerate(requests))
    )
    ids = [doc["_id"] for doc, _ in retried]
    assert len(set(ids)) == 6
    for (doc, replayed), outcome in zip(retried, first, strict=True):
        if not isinstance(outcome, BaseException):
            assert replayed
            assert outcome[0]["_id"] == doc["_id"]
    assert await harness.db["credentials"].count_documents({}) == 6
    # Every credential's events reach Kafka, the half stored before the failure included.
    notified = await consume(harness.settings.kafka, NotificationRequestedV1, 6)
    assert {e.credential_id for e in notified} == {f"urn:uuid:{i}" for i in ids}


async def test_a_caller_giving_up_does_not_stop_its_group(harness: IssuerHarness) -> None:
    institution, _, achievement = await _setup(harness)
    graph = harness.svc
    tenant = await graph.tenants.get(institution)
    [request] = _requests("gone", 1, achievement)
    abandoned = asyncio.create_task(graph.collector.issue(tenant, request, idempotency_key="gone"))
    await asyncio.sleep(0)  # the request is queued for its group ...
    abandoned.cancel()  # ... and its caller gives up (a timeout, a closed connection)
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    # The abandoned call's group stores the credential; the retry is its replay.
    doc, replayed = await graph.collector.issue(tenant, request, idempotency_key="gone")
    assert replayed
    assert await harness.db["credentials"].count_documents({}) == 1
    assert doc["idem"] == f"{institution}|gone"


async def test_a_signature_failing_fails_only_its_request(harness: IssuerHarness) -> None:
    institution, _, achievement = await _setup(harness)
    graph = harness.svc
    tenant = await graph.tenants.get(institution)

    async def sign_or_fail(jobs: list[SignJob]) -> list[Signed]:
        if any(str(job.spec.recipient.email).startswith("bad") for job in jobs):
            raise ValueError("cannot sign this one")
        return await graph.signer.sign_apart(jobs)

    collector = _collector(graph, sign_or_fail)
    requests = [*_requests("good", 4, achievement), *_requests("bad", 1, achievement)]
    try:
        outcomes = await asyncio.gather(
            *(collector.issue(tenant, r, idempotency_key=f"s{n}") for n, r in enumerate(requests)),
            return_exceptions=True,
        )
    finally:
        await collector.close()
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == Counter({"tuple": 4, "ValueError": 1}), outcomes
    assert collector.groups == 1
    # The failed request's reservation lets its retry issue it, once.
    doc, replayed = await graph.collector.issue(tenant, requests[4], idempotency_key="s4")
    assert not replayed
    assert await harness.db["credentials"].count_documents({}) == 5
    assert uuid.UUID(doc["_id"])


async def test_later_groups_do_not_inherit_the_first_requests_deadline(
    settings: Any, mongo_client: Any
) -> None:
    """The collector starts from the first request but must not keep its database deadline.

    Each request's MongoDB calls share one deadline (MONGO__REQUEST_TIMEOUT_S). A collector task
    created in the first request's context carried that deadline into every later group: once it
    had passed, every issue answered 503 (ExecutionTimeout) until the process restarted.
    """
    from asgi_lifespan import LifespanManager

    from sceau_issuer.app import create_api

    short = settings.model_copy(
        update={"mongo": settings.mongo.model_copy(update={"request_timeout_s": 1.0})}
    )
    app = create_api(short)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://issuer.test") as http:
            harness = IssuerHarness(app, http, short)
            _, headers, achievement = await _setup(harness)
            first = await harness.issue(headers, achievement, "first@example.org", key="d1")
            assert first.status_code == 201, first.text
            await asyncio.sleep(1.5)  # past the first request's deadline
            later = await harness.issue(headers, achievement, "later@example.org", key="d2")
            assert later.status_code == 201, later.text


async def test_a_window_closes_once_as_many_wait_as_were_in_flight_lately(
    harness: IssuerHarness,
) -> None:
    """Clients answered together come back together: the group goes once they are all back.

    A lone request still waits the whole window (others may be on their way).
    """
    institution, _, achievement = await _setup(harness)
    graph = harness.svc
    tenant = await graph.tenants.get(institution)
    # recent_s: the first group still counts however slow the machine.
    collector = _collector(graph, graph.signer.sign_apart, window_s=2.0, recent_s=600.0)
    requests = _requests("w", 7, achievement)

    def issue(n: int) -> asyncio.Task[Any]:
        return asyncio.ensure_future(collector.issue(tenant, requests[n], idempotency_key=f"w{n}"))

    try:
        # Three at once: they wait already when the first group forms.
        await asyncio.gather(*(issue(n) for n in range(3)))
        assert collector.groups == 1
        # Three more, 50 ms apart: the third closes the window (2 s) at once.
        second = [issue(3)]
        await asyncio.sleep(0.05)
        second.append(issue(4))
        await asyncio.sleep(0.05)
        assert collector.groups == 1  # two of three: still gathering
        second.append(issue(5))
        await eventually(
            lambda: collector.groups == 2, timeout_s=1.0, message="the second group formed"
        )
        await asyncio.gather(*second)
        # A lone request waits the window.
        lone = issue(6)
        await asyncio.sleep(0.5)
        assert collector.groups == 2
        await lone
        assert collector.groups == 3
    finally:
        await collector.close()
    assert await harness.db["credentials"].count_documents({}) == 7


async def test_a_lone_clients_requests_are_written_at_once(harness: IssuerHarness) -> None:
    """One request in flight at a time: after the first, nobody else is coming, no window waits.

    The first request after a quiet second still waits the window (5 s here): a burst may be
    starting. The next ones, each alone in flight, must not: each has 2.5 s.
    """
    institution, _, achievement = await _setup(harness)
    graph = harness.svc
    tenant = await graph.tenants.get(institution)
    collector = _collector(graph, graph.signer.sign_apart, window_s=5.0, recent_s=600.0)
    requests = _requests("l", 3, achievement)
    try:
        started = time.monotonic()
        await collector.issue(tenant, requests[0], idempotency_key="l0")
        assert time.monotonic() - started >= 5.0  # the first waited for company
        for n in (1, 2):
            await asyncio.wait_for(
                collector.issue(tenant, requests[n], idempotency_key=f"l{n}"), 2.5
            )
        assert collector.groups == 3
    finally:
        await collector.close()
    assert await harness.db["credentials"].count_documents({}) == 3


async def test_the_rules_that_read_and_the_reservations_run_while_the_group_is_signed(
    harness: IssuerHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signing starts before the accreditation is read and the keys reserved (issue 19).

    A key used before still only replays: its signature is dropped, nothing of it is stored,
    and no pending marker is left behind.
    """
    institution, _, achievement = await _setup(harness)
    graph = harness.svc
    tenant = await graph.tenants.get(institution)
    requests = _requests("c", 4, achievement)
    first, replayed_before = await graph.collector.issue(tenant, requests[0], idempotency_key="c0")
    assert not replayed_before
    signing = asyncio.Event()
    read = graph.tenants.accreditation
    signing_when_read: list[bool] = []

    async def noted(institution_id: str) -> Any:
        signing_when_read.append(signing.is_set())
        return await read(institution_id)

    monkeypatch.setattr(graph.tenants, "accreditation", noted)

    async def sign(jobs: list[SignJob]) -> list[Signed]:
        signing.set()
        return await graph.signer.sign_apart(jobs)

    collector = _collector(graph, sign)
    try:
        outcomes = await asyncio.gather(
            *(collector.issue(tenant, r, idempotency_key=f"c{n}") for n, r in enumerate(requests))
        )
    finally:
        await collector.close()
    # The group's read (and the replay's, answered one by one after it) came once signing had
    # started.
    assert signing_when_read
    assert all(signing_when_read), signing_when_read
    assert [replayed for _, replayed in outcomes] == [True, False, False, False]
    assert outcomes[0][0]["_id"] == first["_id"]
    assert collector.groups == 1
    assert await harness.db["credentials"].count_documents({}) == 4
    pending = harness.db["outbox_pending"]

    async def cleared() -> bool:
        return await pending.count_documents({"collection": "credentials"}) == 0

    await eventually(cleared, timeout_s=10, message="no pending marker left behind")
