"""``POST /v1/verify``: the same question within seconds gets the answer computed the first time.

The gate (``api/kept_gate.py``) is tested apart too: a real graph behind it, a recording app in
the route's place.

Real routes, middleware and graph (:func:`verifier_support.build_app`) against the loopback
registry stand-in; credentials signed by :mod:`sceau_dev.testing.credentials`. What keeps a
kept answer true is :mod:`sceau_verifier.kept_answers`: invalidation events, every outside
read (status lists, DID documents; trust answers that are new or changed), never an
inconclusive answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send
from verifier_support import (
    Built,
    Issuer,
    RegistryStandIn,
    build_app,
    serve,
    served,
    settings_for,
)

from sceau_dev.testing.credentials import StatusList
from sceau_shared.events import (
    AccreditationChangedV1,
    InstitutionStatus,
    VerificationCompletedV1,
)
from sceau_shared.events.envelope import Event
from sceau_shared.settings import HttpSettings
from sceau_verifier.api.kept_gate import KeptAnswerGate
from sceau_verifier.consumers import accreditation_changed, status_list_published
from sceau_verifier.graph import VerifierGraph, assemble
from sceau_verifier.kept_answers import (
    KeptAnswers,
    KeptVerification,
    question_key,
    weigh_verification,
)
from sceau_verifier.settings import AnswerSettings, LimitSettings


@dataclass
class World:
    client: httpx.AsyncClient
    issuer: Issuer
    revocation: StatusList
    built: Built
    registry: RegistryStandIn = field(default_factory=RegistryStandIn)

    @property
    def graph(self) -> VerifierGraph:
        return self.built.graphs[0]

    async def post(self, body: Any, **kwargs: Any) -> httpx.Response:
        response = await self.client.post("/v1/verify", json=body, **kwargs)
        assert response.status_code == 200, response.text
        return response

    async def reports(self) -> list[VerificationCompletedV1]:
        await self.graph.service.drain()
        return [e for e in self.built.events if isinstance(e, VerificationCompletedV1)]


async def _world(
    answers: AnswerSettings,
    *,
    rate_limit: int = 6000,
    burst: int | None = None,
    trust_ttl_s: float | None = None,
    list_ttl_s: float | None = None,
) -> AsyncIterator[World]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        settings = settings_for(
            base,
            http=HttpSettings(rate_limit_per_minute=rate_limit),
            limits=LimitSettings(rate_limit_burst=burst),
            answers=answers,
        )
        # Shorter cache times where a test asks (the rest as settings_for made them).
        trust = {} if trust_ttl_s is None else {"cache_ttl_s": trust_ttl_s}
        lists = {} if list_ttl_s is None else {"default_ttl_s": list_ttl_s}
        settings = settings.model_copy(
            update={
                "trust": settings.trust.model_copy(update=trust),
                "status": settings.status.model_copy(update=lists),
            }
        )
        built = build_app(settings)
        async with served(built) as client:
            yield World(client, issuer, revocation, built, registry)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async for made in _world(AnswerSettings()):
        yield made


async def _credential(world: World) -> tuple[dict[str, Any], int]:
    """A new credential, checked once: its first check reads the list and the trust answer
    (outside reads), so that answer is not kept; the verifier's caches now hold them."""
    credential, index = await world.issuer.issue(lists=[world.revocation])
    assert isinstance(credential, dict)
    await world.post(credential)
    assert len(world.graph.answers) == 0
    return credential, index


async def test_the_same_question_is_answered_from_the_kept_answer(world: World) -> None:
    credential, _ = await _credential(world)
    first = await world.post(credential, params={"lang": "en"})
    assert first.json()["verified"] is True
    assert len(world.graph.answers) == 1
    again = await world.post(credential, params={"lang": "en"})
    assert world.graph.answers.hits == 1
    assert again.content == first.content  # verified_at: when it was computed
    assert again.headers["content-type"] == "application/json"
    # Another language is another question: verified and kept on its own.
    french = await world.post(credential, params={"lang": "fr"})
    assert french.json()["lang"] == "fr"
    assert world.graph.answers.hits == 1
    assert len(world.graph.answers) == 2


async def test_every_request_is_reported_even_from_a_kept_answer(world: World) -> None:
    credential, _ = await _credential(world)
    for _ in range(3):
        await world.post(credential)
    assert world.graph.answers.hits == 2
    reports = (await world.reports())[1:]  # the first check's report aside
    assert len(reports) == 3
    assert len({r.event_id for r in reports}) == 3  # each a verification of its own
    assert len({r.verified_at for r in reports}) == 1  # the moment the answer was computed
    assert {r.outcome for r in reports} == {reports[0].outcome}


async def test_a_status_list_event_drops_kept_answers_and_revocation_shows(world: World) -> None:
    credential, index = await _credential(world)
    assert (await world.post(credential)).json()["verified"] is True
    await world.post(credential)
    assert world.graph.answers.hits == 1
    await world.issuer.set_status(world.revocation, index, True)
    await status_list_published(world.issuer.published(world.revocation), world.graph)
    assert len(world.graph.answers) == 0
    revoked = (await world.post(credential)).json()
    assert revoked["verified"] is False
    assert world.graph.answers.hits == 1


async def test_an_accreditation_change_drops_kept_answers(world: World) -> None:
    credential, _ = await _credential(world)
    await world.post(credential)
    assert len(world.graph.answers) == 1
    await accreditation_changed(
        AccreditationChangedV1(
            producer="sceau-registry",
            institution_id="inst",
            status=InstitutionStatus.SUSPENDED,
            effective_at=datetime.now(UTC),
        ),
        world.graph,
    )
    assert len(world.graph.answers) == 0


async def test_an_outside_read_stops_earlier_answers_from_being_sent_again(world: World) -> None:
    credential, _ = await _credential(world)
    await world.post(credential)
    # The status list cache forgets the list (its time is over): the next verification reads it
    # again, and no answer computed before that read is sent again.
    world.graph.status_lists.invalidate(world.revocation.url)
    fetched = world.graph.status_lists.fetches
    await world.post(credential)
    assert world.graph.answers.hits == 0
    assert world.graph.status_lists.fetches == fetched + 1
    # That answer was computed while the list was read: kept only from the next one on.
    await world.post(credential)
    await world.post(credential)
    assert world.graph.answers.hits == 1


async def test_a_trust_answer_read_again_unchanged_keeps_earlier_answers() -> None:
    # At the field's scale (60 institutions) some trust answer expires every fraction of a
    # second; when each refresh stopped every kept answer, few were ever sent again.
    async for world in _world(AnswerSettings(), trust_ttl_s=0.2):
        # Three credentials of one issuance second: one trust question.
        moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
        credential, other, third = [
            (await world.issuer.issue(lists=[world.revocation], issued_at=moment))[0]
            for _ in range(3)
        ]
        await world.post(credential)  # reads the list and the trust answers: not kept
        await world.post(credential)
        assert len(world.graph.answers) == 1
        await asyncio.sleep(0.3)  # the trust answers' cache time is over
        asked = world.graph.registry.requests
        await world.post(other)  # reads the trust answers again (the date's, now's): the same
        assert world.graph.registry.requests == asked + 2
        await world.post(credential)
        assert world.graph.answers.hits == 1
        # Suspended since before their issuance: the same question, read again after its
        # cache time, now has another answer, and no answer computed before is sent again.
        standing = world.registry.standings[world.issuer.did]
        standing.timeline.append((moment - timedelta(hours=1), "suspended"))
        await asyncio.sleep(0.3)
        refused = await world.post(third)
        assert refused.json()["verified"] is False
        again = await world.post(credential)
        assert world.graph.answers.hits == 1
        assert again.json()["verified"] is False


async def test_a_status_list_read_again_unchanged_keeps_earlier_answers() -> None:
    # 60 institutions' lists, each revalidated every 5 minutes: one every few seconds.
    async for world in _world(AnswerSettings(), list_ttl_s=0.2):
        world.registry.windows = True  # one trust answer for every date: no trust read below
        credential, _ = await _credential(world)
        await world.post(credential)
        assert len(world.graph.answers) == 1
        await asyncio.sleep(0.3)  # the list's freshness is over
        other, _ = await world.issuer.issue(lists=[world.revocation])
        fetched = world.graph.status_lists.fetches
        await world.post(other)  # revalidates the list: 304, the same list
        assert world.graph.status_lists.fetches == fetched + 1
        await world.post(credential)
        assert world.graph.answers.hits == 1
        # The list changes (another credential revoked): read again, it stops earlier answers.
        third, index = await world.issuer.issue(lists=[world.revocation])
        await world.issuer.set_status(world.revocation, index, True)
        await asyncio.sleep(0.3)
        refused = await world.post(third)
        assert refused.json()["verified"] is False
        await world.post(credential)
        assert world.graph.answers.hits == 1
        assert world.graph.status_lists.fetches == fetched + 2


async def test_a_different_body_is_a_different_question(world: World) -> None:
    credential, _ = await _credential(world)
    await world.post(credential)
    await world.post({"credential": credential})  # same credential, other bytes
    spaced = json.dumps(credential, indent=1)
    response = await world.client.post(
        "/v1/verify", content=spaced, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert world.graph.answers.hits == 0
    assert len(world.graph.answers) == 3


async def test_bad_input_is_never_kept_and_stays_a_problem(world: World) -> None:
    for _ in range(2):
        response = await world.client.post(
            "/v1/verify", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
    assert len(world.graph.answers) == 0


async def test_a_kept_answer_still_counts_against_the_rate_limit() -> None:
    async for world in _world(AnswerSettings(), rate_limit=60, burst=3):
        credential, _ = await _credential(world)  # the first request
        await world.post(credential)
        await world.post(credential)
        assert world.graph.answers.hits == 1
        fourth = await world.client.post("/v1/verify", json=credential)
        assert fourth.status_code == 429
        assert fourth.headers["content-type"].startswith("application/problem+json")


async def test_nothing_is_kept_when_turned_off() -> None:
    async for world in _world(AnswerSettings(ttl_s=0)):
        credential, _ = await _credential(world)
        await world.post(credential)
        await world.post(credential)
        assert world.graph.answers.hits == 0
        assert len(world.graph.answers) == 0


def test_an_answer_computed_under_another_stamp_is_refused_and_expires() -> None:
    now = [0.0]
    reads = [0]
    kept: KeptAnswers[str, str] = KeptAnswers(
        ttl_s=2, max_entries=8, clock=lambda: now[0], stamp=lambda: reads[0]
    )
    before = kept.generation
    reads[0] += 1  # read during the verification
    assert kept.put("q", "answer", generation=before) is False
    assert kept.put("q", "answer", generation=kept.generation) is True
    assert kept.get("q") == "answer"
    reads[0] += 1  # a later read: the kept answer is not sent again
    assert kept.get("q") is None
    assert kept.put("q", "answer", generation=kept.generation) is True
    kept.invalidate()
    assert kept.get("q") is None
    assert kept.put("q", "answer", generation=kept.generation) is True
    now[0] = 2.5
    assert kept.get("q") is None
    assert kept.hits == 1


class Downstream:
    """The route's place behind the gate: records what reached it and the body it could read."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


@dataclass
class Gate:
    graph: VerifierGraph
    downstream: Downstream
    events: list[Event]
    gate: KeptAnswerGate
    routes: list[str | None] = field(default_factory=list)

    async def post(
        self,
        body: bytes,
        *,
        query: bytes = b"",
        headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", b"application/json"),),
        path: str = "/v1/verify",
    ) -> tuple[int, bytes]:
        sent: list[Message] = []
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope: Scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "query_string": query,
            "headers": list(headers),
            "client": ("203.0.113.9", 4000),
            "state": {"graph": self.graph},
        }
        await self.gate(scope, receive, send)
        self.routes.append(getattr(scope.get("route"), "path", None))
        return int(sent[0]["status"]), b"".join(m.get("body", b"") for m in sent[1:])

    def keep(self, body: bytes, *, lang: str = "fr", media: str = "application/json") -> bytes:
        key = question_key(hashlib.sha256(body).hexdigest(), media, lang, None, None)
        if key is None:
            return b""  # uploads and images: never kept
        answer = b'{"kept": "%s"}' % lang.encode()
        report = VerificationCompletedV1(
            producer="sceau-verifier",
            credential_id_hash="0" * 64,
            outcome="verified",
            verified_at=datetime.now(UTC),
        )
        kept = KeptVerification(answer, (report,))
        assert self.graph.answers.put(key, kept, generation=self.graph.answers.generation)
        return answer


@pytest.fixture
async def gate() -> AsyncIterator[Gate]:
    events: list[Event] = []

    async def publish(event: Event) -> None:
        events.append(event)

    settings = settings_for(
        "http://127.0.0.1:9",
        http=HttpSettings(rate_limit_per_minute=60),
        limits=LimitSettings(rate_limit_burst=3),
    )
    graph = assemble(
        settings,
        guarded=httpx.AsyncClient(),
        registry_http=httpx.AsyncClient(),
        publish=publish,
    )
    downstream = Downstream()
    loops = [asyncio.create_task(loop(), name=name) for name, loop in graph.background()]
    try:
        yield Gate(graph, downstream, events, KeptAnswerGate(downstream))
    finally:
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await graph.close()


async def test_the_gate_sends_a_kept_answer_without_the_route(gate: Gate) -> None:
    body = b'{"id": "urn:uuid:1"}'
    answer = gate.keep(body)
    assert await gate.post(body) == (200, answer)
    assert await gate.post(body, query=b"lang=fr&challenge=c1") == (299, b"route")
    assert gate.keep(body, lang="en") != answer
    assert await gate.post(
        body,
        headers=((b"content-type", b"application/json"), (b"accept-language", b"en-CA,en;q=0.9")),
    ) == (200, b'{"kept": "en"}')
    assert gate.downstream.bodies == [body]  # the one let through could read its body
    assert gate.graph.answers.hits == 2
    # A kept answer's SERVER span and duration are named by the route, as a routed one's.
    assert gate.routes == ["/v1/verify", None, "/v1/verify"]
    await gate.graph.service.drain()
    reported = [e for e in gate.events if isinstance(e, VerificationCompletedV1)]
    assert len(reported) == 2
    assert len({e.event_id for e in reported}) == 2


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        (b"lang=de", None),  # the route validates and negotiates it
        (b"lang=FR", None),
        (b"lang=fr&lang=en", None),
        (b"unknown=1", None),
        (b"challenge=", None),
        (b"challenge=" + b"c" * 513, None),  # over the route's bound: its 422, not an answer
        (b"%ff=1", None),
        (b"", ((b"content-type", b"image/png"),)),
        (b"", ((b"content-type", b"application/json"), (b"accept-language", b"e" * 513))),
        (b"", ((b"content-type", b"image/png"), (b"content-type", b"application/json"))),
    ],
)
async def test_anything_unusual_goes_to_the_route(
    gate: Gate, query: bytes, headers: tuple[tuple[bytes, bytes], ...] | None
) -> None:
    body = b'{"id": "urn:uuid:2"}'
    gate.keep(body)
    gate.keep(body, media="image/png")  # refused by question_key: never found either
    if headers is None:
        status, _ = await gate.post(body, query=query)
    else:
        status, _ = await gate.post(body, query=query, headers=headers)
    assert status == 299
    assert gate.downstream.bodies == [body]
    assert gate.graph.answers.hits == 0


async def test_the_gate_lets_other_questions_and_paths_through(gate: Gate) -> None:
    body = b'{"id": "urn:uuid:3"}'
    gate.keep(body)
    assert await gate.post(b'{"id": "urn:uuid:4"}') == (299, b"route")
    assert await gate.post(body, path="/v1/verify/batch") == (299, b"route")
    assert gate.downstream.bodies == [b'{"id": "urn:uuid:4"}', body]


async def test_a_client_over_its_limit_is_answered_by_the_route(gate: Gate) -> None:
    body = b'{"id": "urn:uuid:5"}'
    answer = gate.keep(body)
    for _ in range(3):
        assert await gate.post(body) == (200, answer)
    assert await gate.post(body) == (299, b"route")  # the route answers its 429 problem
    assert gate.downstream.bodies == [body]


def test_kept_answers_stay_within_their_weight() -> None:
    kept: KeptAnswers[str, bytes] = KeptAnswers(ttl_s=60, max_entries=100, max_bytes=10, weigh=len)
    assert kept.put("a", b"x" * 6, generation=kept.generation) is True
    assert kept.put("b", b"x" * 6, generation=kept.generation) is True  # "a" goes: 12 > 10
    assert kept.get("a") is None
    assert kept.get("b") == b"x" * 6
    assert kept.put("huge", b"x" * 11, generation=kept.generation) is False
    assert len(kept) == 1
    report = VerificationCompletedV1(
        producer="sceau-verifier",
        credential_id_hash="0" * 64,
        outcome="verified",
        verified_at=datetime.now(UTC),
    )
    assert weigh_verification(KeptVerification(b"{}", (report, report))) == 2 + 2 * 1024
