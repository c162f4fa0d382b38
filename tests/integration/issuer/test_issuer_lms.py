"""The LMS completion hook on real Kafka and FerretDB: issue, replay, refusals, fuzzed bodies."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from issuer_support import IssuerHarness, consume, micro
from lms_samples import brightspace_award_issued, canvas_course_completed

from sceau_issuer.apikeys.service import Scope
from sceau_shared.events import CredentialIssuedV1
from sceau_shared.standard_webhooks import sign

pytestmark = pytest.mark.integration


class Hook:
    """An institution's hook as its LMS (or the LMS's forwarder) sees it."""

    def __init__(self, harness: IssuerHarness, institution: str, secret: str) -> None:
        self.harness = harness
        self.institution = institution
        self.secret = secret

    async def deliver(
        self,
        lms: str,
        event: Any,
        *,
        msg_id: str | None = None,
        at: int | None = None,
        secret: str | None = None,
        raw: bytes | None = None,
    ) -> httpx.Response:
        body = raw if raw is not None else json.dumps(event).encode()
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        at = at if at is not None else int(time.time())
        return await self.harness.http.post(
            f"/v1/lms/hooks/{self.institution}/{lms}",
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(at),
                "webhook-signature": sign(secret or self.secret, msg_id, at, body),
            },
        )


async def _hook(harness: IssuerHarness) -> tuple[Hook, dict[str, str]]:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    created = await harness.http.post("/v1/lms/secret", headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["hook_urls"]["canvas"] == f"http://issuer.test/v1/lms/hooks/{institution}/canvas"
    return Hook(harness, institution, body["secret"]), headers


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["detail_en"]
    assert body["detail_fr"]
    return body


async def _credentials(harness: IssuerHarness, headers: dict[str, str]) -> int:
    listed = await harness.http.get("/v1/credentials", headers=headers)
    return int(listed.json()["total"])


async def test_a_canvas_completion_issues_once_whatever_the_replays(harness: IssuerHarness) -> None:
    hook, headers = await _hook(harness)
    achievement = await harness.published(headers, micro())
    mapped = await harness.http.put(
        "/v1/lms/mappings/canvas/565", json={"achievement_id": achievement}, headers=headers
    )
    assert mapped.status_code == 200, mapped.text
    event = canvas_course_completed()
    first = await hook.deliver("canvas", event, msg_id="msg_canvas_1")
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["outcome"] == "issued"
    assert answer["course_id"] == "565"
    assert answer["achievement_id"] == achievement
    credential = await harness.http.get(
        f"/v1/credentials/{answer['credential_id']}", headers=headers
    )
    assert credential.json()["recipient"]["email"] == "ada@example.org"
    assert credential.json()["recipient"]["name"] == "Ada Tremblay"
    issued = await consume(harness.settings.kafka, CredentialIssuedV1, 1)
    assert issued[0].credential_id == f"urn:uuid:{answer['credential_id']}"

    # The same delivery again (the LMS retried): the earlier answer, nothing new.
    again = await hook.deliver("canvas", event, msg_id="msg_canvas_1")
    assert again.status_code == 200, again.text
    assert again.json() == {**answer, "replay": True}
    # The same completion under a new webhook-id (Canvas re-sends course_completed when a
    # module's completion time changes), even with another name: the credential issued first.
    renamed = canvas_course_completed(name="Ada T.")
    resent = await hook.deliver("canvas", renamed)
    assert resent.status_code == 200, resent.text
    assert resent.json()["outcome"] == "already-issued"
    assert resent.json()["credential_id"] == answer["credential_id"]
    assert await _credentials(harness, headers) == 1

    # A learner who already holds the achievement (issued through the API) gets nothing new.
    held = await harness.issue(headers, achievement, "bo@example.org")
    assert held.status_code == 201
    theirs = await hook.deliver("canvas", canvas_course_completed(email="bo@example.org", id="9"))
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["outcome"] == "already-held"
    assert theirs.json()["credential_id"] == held.json()["credential_id"]
    assert await _credentials(harness, headers) == 2

    # Not a completion: acknowledged, nothing issued.
    grade = {"metadata": {"event_name": "grade_change"}, "body": {"score": 9}}
    ignored = await hook.deliver("canvas", grade)
    assert ignored.status_code == 200
    assert ignored.json()["outcome"] == "ignored"
    listed = (await harness.http.get("/v1/lms/mappings", headers=headers)).json()
    assert listed["has_secret"] is True
    assert [(m["lms"], m["course_id"]) for m in listed["items"]] == [("canvas", "565")]


async def test_generic_and_brightspace_completions(harness: IssuerHarness) -> None:
    hook, headers = await _hook(harness)
    await harness.turn_on_suspension(headers)
    achievement = await harness.published(
        headers, micro(credit_status="credit", credits=3, default_language="en")
    )
    generic = {
        "type": "course.completed",
        "learner": {"email": "cy@example.org", "name": "Cy"},
        "achievement_id": achievement,
        "completed_at": "2026-11-30T16:20:00Z",
        "results": [{"assessment": 1, "value": "A", "status": "Completed"}],
        "credits_earned": 3,
    }
    issued = await hook.deliver("generic", generic)
    assert issued.status_code == 201, issued.text
    detail = (
        await harness.http.get(f"/v1/credentials/{issued.json()['credential_id']}", headers=headers)
    ).json()
    subject = detail["document"]["credentialSubject"]
    assert [r["value"] for r in subject["result"]] == ["A"]
    assert subject["creditsEarned"] == 3
    assert detail["recipient"]["language"] == "en"  # the achievement's default language
    too_many = await hook.deliver(
        "generic", {**generic, "credits_earned": 4, "learner": {"email": "dy@example.org"}}
    )
    assert _problem(too_many, 422)["errors"][0]["field"] == "credits_earned"

    mapped = await harness.http.put(
        "/v1/lms/mappings/brightspace/80",
        json={"achievement_id": achievement, "language": "fr"},
        headers=headers,
    )
    assert mapped.status_code == 200, mapped.text
    award = brightspace_award_issued(email="eve@example.org", name="Ève")
    from_brightspace = await hook.deliver("brightspace", award)
    assert from_brightspace.status_code == 201, from_brightspace.text
    eve = (
        await harness.http.get(
            f"/v1/credentials/{from_brightspace.json()['credential_id']}", headers=headers
        )
    ).json()
    assert eve["recipient"]["language"] == "fr"  # the mapping's language
    no_email = await hook.deliver("brightspace", brightspace_award_issued())
    body = _problem(no_email, 422)
    assert body["errors"][0]["field"] == "learner.email"
    assert "3107" in body["detail_en"]
    assert await _credentials(harness, headers) == 2


async def test_refusals_issue_nothing(harness: IssuerHarness) -> None:
    hook, headers = await _hook(harness)
    event = canvas_course_completed()
    unmapped = await hook.deliver("canvas", event)
    assert _problem(unmapped, 422)["course_id"] == "565"
    unknown = await hook.deliver(
        "generic", {"learner": {"email": "a@example.org"}, "achievement_id": "nope"}
    )
    assert _problem(unknown, 404)["achievement_id"] == "nope"
    draft = await harness.http.post("/v1/achievements", json=micro(), headers=headers)
    draft_id = draft.json()["achievement_id"]
    unpublished = await harness.http.put(
        "/v1/lms/mappings/canvas/565", json={"achievement_id": draft_id}, headers=headers
    )
    _problem(unpublished, 404)
    no_learner = await hook.deliver("generic", {"learner": {"name": "A"}, "achievement_id": "x"})
    assert _problem(no_learner, 422)["errors"][0]["field"] == "learner.email"

    # Signatures: another secret, an old or future timestamp, missing headers, a changed body.
    achievement = await harness.published(headers, micro())
    await harness.http.put(
        "/v1/lms/mappings/canvas/565", json={"achievement_id": achievement}, headers=headers
    )
    wrong = await hook.deliver("canvas", event, secret="whsec_" + "A" * 44)
    assert _problem(wrong, 401)["reason"] == "no-matching-signature"
    old = await hook.deliver("canvas", event, at=int(time.time()) - 301)
    assert _problem(old, 401)["reason"] == "timestamp-out-of-tolerance"
    future = await hook.deliver("canvas", event, at=int(time.time()) + 400)
    assert _problem(future, 401)["reason"] == "timestamp-out-of-tolerance"
    bare = await harness.http.post(f"/v1/lms/hooks/{hook.institution}/canvas", json=event)
    assert _problem(bare, 401)["reason"] == "missing-header"
    body = json.dumps(event).encode()
    at = int(time.time())
    tampered = await harness.http.post(
        f"/v1/lms/hooks/{hook.institution}/canvas",
        content=body.replace(b"ada@", b"eve@"),
        headers={
            "webhook-id": "msg_t",
            "webhook-timestamp": str(at),
            "webhook-signature": sign(hook.secret, "msg_t", at, body),
        },
    )
    _problem(tampered, 401)
    nobody = await harness.http.post(
        "/v1/lms/hooks/no-such-institution/canvas",
        content=body,
        headers={
            "webhook-id": "msg_n",
            "webhook-timestamp": str(at),
            "webhook-signature": sign(hook.secret, "msg_n", at, body),
        },
    )
    _problem(nobody, 401)
    malformed = await hook.deliver("canvas", None, raw=b"{not json")
    _problem(malformed, 400)
    assert await _credentials(harness, headers) == 0

    # Rotation: the previous secret is accepted for a day; after the hook is turned off, none.
    rotated = (await harness.http.post("/v1/lms/secret", headers=headers)).json()
    assert rotated["previous_valid_until"]
    by_old = await hook.deliver("canvas", event)
    assert by_old.status_code == 201, by_old.text
    by_new = await hook.deliver("canvas", event, secret=rotated["secret"])
    assert by_new.json()["outcome"] == "already-issued"
    # A day later the previous secret no longer opens the hook.
    await harness.db["lms_hooks"].update_one(
        {"_id": hook.institution},
        {"$set": {"previous_valid_until": datetime.now(UTC) - timedelta(seconds=1)}},
    )
    _problem(await hook.deliver("canvas", event), 401)
    assert (await hook.deliver("canvas", event, secret=rotated["secret"])).status_code == 200
    off = await harness.http.delete("/v1/lms/secret", headers=headers)
    assert off.status_code == 200
    assert off.json()["has_secret"] is False
    _problem(await hook.deliver("canvas", event, secret=rotated["secret"]), 401)
    removed = await harness.http.delete("/v1/lms/mappings/canvas/565", headers=headers)
    assert removed.status_code == 200
    assert removed.json()["achievement_id"] == achievement
    assert (
        await harness.http.delete("/v1/lms/mappings/canvas/565", headers=headers)
    ).status_code == 404
    reader = await harness.api_key(hook.institution, Scope.READ)
    assert (await harness.http.post("/v1/lms/secret", headers=reader)).status_code == 403


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner, max_size=5)
    ),
    max_leaves=25,
)


async def test_signed_fuzzed_events_never_cause_a_server_error(harness: IssuerHarness) -> None:
    """Past the signature, any JSON (and near-miss completions) is a 2xx or a problem, never 5xx."""
    hook, headers = await _hook(harness)
    achievement = await harness.published(headers, micro())
    for lms, course in (("canvas", "565"), ("brightspace", "80"), ("generic", "c1")):
        await harness.http.put(
            f"/v1/lms/mappings/{lms}/{course}",
            json={"achievement_id": achievement},
            headers=headers,
        )
    near_misses = st.sampled_from(
        [
            canvas_course_completed(),
            brightspace_award_issued(email="f@example.org"),
            {"learner": {"email": "g@example.org"}, "course": {"id": "c1"}},
        ]
    )
    events: list[tuple[str, Any]] = []

    @settings(
        max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        st.sampled_from(["generic", "canvas", "brightspace"]),
        st.one_of(JSON, near_misses.flatmap(lambda e: st.just(e) | _mutated(e))),
    )
    def collect(lms: str, event: Any) -> None:
        events.append((lms, event))

    collect()
    for lms, event in events:
        response = await hook.deliver(lms, event)
        assert response.status_code < 500, (lms, event, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")


def _mutated(event: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The event with one top-level or nested value replaced by arbitrary JSON."""

    def replace(value: Any, path: list[str]) -> Any:
        copy = json.loads(json.dumps(event))
        node = copy
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        return copy

    paths: list[list[str]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append([*path, key])
                walk(value, [*path, key])

    walk(event, [])
    return st.tuples(JSON, st.sampled_from(paths)).map(lambda pair: replace(*pair))
