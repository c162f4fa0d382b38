"""POST /v1/verify and /v1/verify/batch against real signed credentials and a loopback registry."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from verifier_support import (
    Built,
    Issuer,
    RegistryStandIn,
    StatusList,
    build_app,
    hosted_web_issuer,
    serve,
    settings_for,
)

from sceau_credentials.dids import DidWebSettings
from sceau_credentials.results import (
    CREDENTIAL_EXPIRED,
    CREDENTIAL_NOT_YET_VALID,
    CREDENTIAL_REVOKED,
    CREDENTIAL_SUSPENDED,
    ISSUER_NOT_TRUSTED,
    STATUS_RETRIEVAL_ERROR,
    STATUS_VERIFICATION_ERROR,
)
from sceau_shared.settings import HttpSettings


@dataclass
class World:
    client: httpx.AsyncClient
    registry: RegistryStandIn
    issuer: Issuer
    revocation: StatusList
    suspension: StatusList
    built: Built
    base: str

    async def verify(self, body: Any, **kwargs: Any) -> dict[str, Any]:
        response = await self.client.post("/v1/verify", json=body, **kwargs)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def checks(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["checks"]}


@pytest.fixture
async def world() -> AsyncIterator[World]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        suspension = issuer.add_list(base, "suspension")
        await issuer.sign_list(revocation)
        await issuer.sign_list(suspension)
        registry.register(issuer)
        built = build_app(
            settings_for(
                base,
                http=HttpSettings(rate_limit_per_minute=6000, max_body_bytes=400_000),
            )
        )
        async with (
            LifespanManager(built.app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
            ) as client,
        ):
            yield World(client, registry, issuer, revocation, suspension, built, base)


class TestVerifyCredential:
    async def test_valid_ob3_v2_credential_is_verified_and_explained(self, world: World) -> None:
        # One status entry, as Sceau issues by default: valid against the official schema.
        credential, _ = await world.issuer.issue(lists=[world.revocation])
        result = await world.verify(credential, params={"lang": "en"})
        assert result["verified"] is True
        assert result["outcome"] == "verified"
        found = checks(result)
        assert set(found) == {"structure", "proof", "validity", "status", "issuer"}
        assert all(c["status"] == "passed" for c in found.values())
        assert found["issuer"]["required"] is True
        assert found["proof"]["reason_fr"]
        summary = result["summary"]
        assert summary["issuer"] == {
            "did": world.issuer.did,
            "name": "Boreal College",
            "name_source": "registry",
            "registered": True,
            "status": "active",
            "qa_body": None,  # the stand-in registry records no QA facts
            "approvals": [],
        }
        assert summary["achievement_name"] == "Teaching with AI"
        assert summary["hours"] == 15
        assert summary["competencies"][0]["framework"] == "DigCompEdu"
        assert summary["level"]["name"] == "Level 2"
        assert summary["level"]["url"] == "https://boreal.example/levels/2"
        assert summary["assessments"][0]["method"] == "project"
        # recognizedBy is not translated in Related entries: shown as written (French here)
        assert summary["quality_assurance"] == ["Conseil d'assurance qualité"]
        assert result["warnings"] == []

    async def test_language_from_accept_language_and_query(self, world: World) -> None:
        credential, _ = await world.issuer.issue(lists=[world.revocation], language="en")
        fr = await world.verify(credential, headers={"Accept-Language": "fr-CA,fr;q=0.9"})
        assert fr["lang"] == "fr"
        assert fr["summary"]["achievement_name"] == "Enseigner avec l'IA"
        assert fr["summary"]["issuer"]["name"] == "Collège Boréal"
        assert fr["checks"][0]["reason"] == fr["checks"][0]["reason_fr"]
        en = await world.verify(
            credential, params={"lang": "en"}, headers={"Accept-Language": "fr"}
        )
        assert en["summary"]["achievement_name"] == "Teaching with AI"

    @pytest.mark.parametrize("profile", ["ob3-v1", "jwt-1.1"])  # jwt-1.1: issued before 2026-12
    async def test_vcdm_1_1_profiles_with_status_list_2021(
        self, world: World, profile: str
    ) -> None:
        status_list = world.issuer.add_list(world.base, "revocation", fmt="StatusList2021")
        await world.issuer.sign_list(status_list)
        credential, index = await world.issuer.issue(profile, lists=[status_list])
        body = {"credential": credential}
        result = await world.verify(body)
        assert result["verified"] is True, result["checks"]
        await world.issuer.set_status(status_list, index, True)
        world.built.graphs[0].status_lists.invalidate(status_list.url)
        revoked = await world.verify(body)
        assert checks(revoked)["status"]["problem_type"] == CREDENTIAL_REVOKED

    @pytest.mark.parametrize(
        ("profile", "fmt"), [("jwt", "BitstringStatusList"), ("jwt-1.1", "StatusList2021")]
    )
    async def test_jwt_as_application_jwt(self, world: World, profile: str, fmt: str) -> None:
        status_list = world.issuer.add_list(world.base, "revocation", fmt=fmt)
        await world.issuer.sign_list(status_list)
        token, index = await world.issuer.issue(profile, lists=[status_list])
        assert isinstance(token, str)
        response = await world.client.post(
            "/v1/verify", content=token, headers={"Content-Type": "application/jwt"}
        )
        assert response.status_code == 200
        assert response.json()["verified"] is True
        assert response.json()["summary"]["format"] == "jwt"
        await world.issuer.set_status(status_list, index, True)
        world.built.graphs[0].status_lists.invalidate(status_list.url)
        revoked = await world.verify({"credential": token})
        assert checks(revoked)["status"]["problem_type"] == CREDENTIAL_REVOKED

    async def test_revoked_then_suspended(self, world: World) -> None:
        credential, index = await world.issuer.issue(lists=[world.revocation, world.suspension])
        await world.issuer.set_status(world.suspension, index, True)
        world.built.graphs[0].status_lists.invalidate(world.suspension.url)
        suspended = await world.verify(credential)
        assert suspended["verified"] is False
        assert checks(suspended)["status"]["problem_type"] == CREDENTIAL_SUSPENDED
        await world.issuer.set_status(world.suspension, index, False)
        world.built.graphs[0].status_lists.clear()
        reinstated = await world.verify(credential)
        assert reinstated["verified"] is True
        # Two status entries (an institution that turned suspension on): the official schema's
        # single-entry rule is not met, and the answer says so in a warning.
        [warning] = reinstated["warnings"]
        assert "single status entry" in warning["message"]
        await world.issuer.set_status(world.revocation, index, True)
        world.built.graphs[0].status_lists.clear()
        revoked = await world.verify(credential)
        assert checks(revoked)["status"]["problem_type"] == CREDENTIAL_REVOKED
        assert checks(revoked)["proof"]["status"] == "passed"

    async def test_tampered_claim_fails_the_proof(self, world: World) -> None:
        credential, _ = await world.issuer.issue(lists=[world.revocation])
        assert isinstance(credential, dict)
        credential["credentialSubject"]["achievement"]["name"] = "Doctorate in Medicine"
        result = await world.verify(credential)
        assert result["verified"] is False
        assert checks(result)["proof"]["status"] == "failed"
        assert checks(result)["status"]["status"] == "inconclusive"

    async def test_unknown_issuer_is_not_verified(self, world: World) -> None:
        stranger = Issuer(name={"fr": "Université Harvard", "en": "Harvard University"})
        credential, _ = await stranger.issue()
        result = await world.verify(credential, params={"lang": "en"})
        assert result["verified"] is False
        assert checks(result)["proof"]["status"] == "passed"
        assert checks(result)["issuer"]["problem_type"] == ISSUER_NOT_TRUSTED
        assert [w["code"] for w in result["warnings"]] == [
            "warn_unregistered_name",
            "warn_no_status",
        ]
        assert "Harvard" in result["warnings"][0]["message"]
        assert result["summary"]["issuer"]["name_source"] == "credential"

    async def test_name_differing_from_the_registry_is_a_warning(self, world: World) -> None:
        credential, _ = await world.issuer.issue(
            lists=[world.revocation], name={"fr": "Harvard", "en": "Harvard"}
        )
        result = await world.verify(credential, params={"lang": "fr"})
        assert result["verified"] is True
        warning = result["warnings"][0]
        assert warning["code"] == "warn_name_mismatch"
        assert "Harvard" in warning["message_en"]
        assert "Collège Boréal" in warning["message_fr"]
        assert result["summary"]["issuer"]["name"] == "Collège Boréal"

    async def test_unreachable_status_list_is_inconclusive(self, world: World) -> None:
        credential, _ = await world.issuer.issue(lists=[world.revocation])
        world.registry.down = True
        world.built.graphs[0].registry.clear()
        result = await world.verify(credential)
        assert result["verified"] is False
        assert result["outcome"] == "inconclusive"
        assert checks(result)["status"]["problem_type"] == STATUS_RETRIEVAL_ERROR
        assert checks(result)["issuer"]["status"] == "inconclusive"

    async def test_expired_and_not_yet_valid(self, world: World) -> None:
        old = datetime.now(UTC) - timedelta(days=800)
        expired, _ = await world.issuer.issue(
            issued_at=old, valid_until=old + timedelta(days=730), lists=[world.revocation]
        )
        result = await world.verify(expired)
        assert checks(result)["validity"]["problem_type"] == CREDENTIAL_EXPIRED
        assert checks(result)["status"]["status"] == "passed"
        future, _ = await world.issuer.issue(
            issued_at=datetime.now(UTC) + timedelta(days=3), lists=[world.revocation]
        )
        assert checks(await world.verify(future))["validity"]["problem_type"] == (
            CREDENTIAL_NOT_YET_VALID
        )

    async def test_issuer_suspended_before_vs_after_issuance(self, world: World) -> None:
        standing = world.registry.standings[world.issuer.did]
        now = datetime.now(UTC)
        issued_before, _ = await world.issuer.issue(
            issued_at=now - timedelta(days=10), lists=[world.revocation]
        )
        issued_during, _ = await world.issuer.issue(
            issued_at=now - timedelta(days=2), lists=[world.revocation]
        )
        standing.timeline.append((now - timedelta(days=5), "suspended"))
        world.built.graphs[0].registry.clear()
        still_valid = await world.verify(issued_before, params={"lang": "en"})
        assert still_valid["verified"] is True
        assert [w["code"] for w in still_valid["warnings"]] == ["warn_issuer_inactive_now"]
        refused = await world.verify(issued_during, params={"lang": "en"})
        assert refused["verified"] is False
        assert "suspended" in checks(refused)["issuer"]["reason"]

    async def test_answer_windows_spare_a_registry_request_per_issuance_date(
        self, world: World
    ) -> None:
        # The registry sends each answer's window; the stand-in does when asked to (the
        # benchmark's field of credentials issued at any second of a year relies on it).
        world.registry.windows = True
        standing = world.registry.standings[world.issuer.did]
        now = datetime.now(UTC).replace(microsecond=0)
        standing.timeline.append((now - timedelta(days=5), "suspended"))
        standing.timeline.append((now - timedelta(days=3), "active"))
        world.built.graphs[0].registry.clear()
        dated = {
            days: (await world.issuer.issue(issued_at=now - timedelta(days=days), lists=[]))[0]
            for days in (40, 30, 20, 4, 2, 1)
        }
        asked = world.registry.issuer_requests
        verified = {days: (await world.verify(c))["verified"] for days, c in dated.items()}
        assert verified == {40: True, 30: True, 20: True, 4: False, 2: True, 1: True}
        # One request per window (before the suspension, during it, after it) and one for the
        # standing now; without the windows, one per issuance date (7).
        assert world.registry.issuer_requests - asked == 4

    async def test_rotated_key_keeps_earlier_credentials_valid(self, world: World) -> None:
        now = datetime.now(UTC)
        before, _ = await world.issuer.issue(
            issued_at=now - timedelta(days=2), lists=[world.revocation]
        )
        after, _ = await world.issuer.issue(issued_at=now - timedelta(hours=1), lists=[])
        standing = world.registry.standings[world.issuer.did]
        method = world.issuer.key.verification_method
        standing.keys[method] = (standing.keys[method][0], now - timedelta(days=1))
        world.built.graphs[0].registry.clear()
        old = await world.verify(before, params={"lang": "en"})
        assert old["verified"] is True, old["checks"]
        assert checks(old)["issuer"]["details"]["key"]["rotated_at"] is not None
        late = await world.verify(after, params={"lang": "en"})
        assert late["verified"] is False
        assert "key was not valid on the issuance date" in checks(late)["issuer"]["reason"]

    async def test_not_accredited_for_the_type(self, world: World) -> None:
        credential, _ = await world.issuer.issue(kind="Certification", lists=[world.revocation])
        result = await world.verify(credential, params={"lang": "en"})
        assert result["verified"] is False
        assert "Certification" in checks(result)["issuer"]["reason"]

    async def test_verification_completed_event_has_no_personal_data(self, world: World) -> None:
        credential, _ = await world.issuer.issue(lists=[world.revocation])
        assert isinstance(credential, dict)
        await world.verify(credential)
        await world.built.graphs[0].service.drain()
        (event,) = world.built.events
        assert event.credential_id_hash == hashlib.sha256(credential["id"].encode()).hexdigest()
        assert event.issuer_did == world.issuer.did
        assert event.achievement_id == credential["credentialSubject"]["achievement"]["id"]
        assert event.outcome == "verified"
        assert event.failed_checks == []
        wire = event.model_dump_json()
        assert "Alex" not in wire
        assert "learner@example.org" not in wire
        assert credential["id"] not in wire

    async def test_status_list_signed_by_someone_else_is_refused(self, world: World) -> None:
        stranger = Issuer()
        foreign = stranger.add_list(world.base, "revocation")
        await stranger.sign_list(foreign)
        world.registry.issuers[stranger.did] = stranger  # served, but not the issuer's list
        credential, _ = await world.issuer.issue(lists=[foreign])
        result = await world.verify(credential, params={"lang": "en"})
        assert result["verified"] is False
        status = checks(result)["status"]
        assert status["status"] == "failed"
        assert status["problem_type"] == STATUS_VERIFICATION_ERROR
        assert "not issued by the credential's issuer" in status["reason"]

    async def test_status_list_off_the_allow_list_is_never_fetched(self, world: World) -> None:
        metadata = world.issuer.add_list("http://169.254.169.254", "revocation")
        await world.issuer.sign_list(metadata)
        credential, _ = await world.issuer.issue(lists=[metadata])
        result = await world.verify(credential, params={"lang": "en"})
        assert result["outcome"] == "inconclusive"
        status = checks(result)["status"]
        assert status["problem_type"] == STATUS_RETRIEVAL_ERROR
        assert "UnsafeUrlError" in status["reason"]

    async def test_did_web_issuer_resolved_over_loopback_only_with_the_dev_switch(
        self, world: World
    ) -> None:
        hosted = hosted_web_issuer(world.registry, world.base, "cegep-web")
        status_list = hosted.add_list(world.base, "revocation")
        await hosted.sign_list(status_list)
        world.registry.register(hosted)
        credential, _ = await hosted.issue(lists=[status_list])
        refused = await world.verify(credential)  # this app's did_web settings are the defaults
        assert checks(refused)["proof"]["status"] == "failed"
        dev = build_app(settings_for(world.base, did_web=DidWebSettings(allow_private_hosts=True)))
        async with (
            LifespanManager(dev.app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
            ) as client,
        ):
            answer = (await client.post("/v1/verify", json=credential)).json()
        assert answer["verified"] is True, answer["checks"]

    async def test_presentation_with_challenge(self, world: World) -> None:
        credential, _ = await world.issuer.issue(lists=[world.revocation])
        presentation = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [credential],
        }
        result = await world.verify({"credential": presentation})
        assert result["credentials"][0]["verified"] is True
        assert result["credentials"][0]["summary"]["achievement_name"]
        required = await world.verify({"credential": presentation, "challenge": "abc"})
        assert required["verified"] is False
        await world.built.graphs[0].service.drain()
        # One event per embedded credential (institutions count checks of their credentials).
        assert [e.issuer_did for e in world.built.events] == [world.issuer.did] * 2
