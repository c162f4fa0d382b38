"""RegistryClient (cache, invalidation, failures) and the issuer trust decision."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sceau_credentials.results import ISSUER_NOT_TRUSTED, ISSUER_TRUST_UNKNOWN, CheckStatus
from sceau_verifier.errors import RegistryUnavailable
from sceau_verifier.registry import IssuerRecord, RegistryClient
from sceau_verifier.settings import TrustSettings
from sceau_verifier.trust import RegistryTrust, assess, trust_key

DID = "did:web:127.0.0.1%3A8002:institutions:abc"
VM = DID + "#key-1"
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _answer(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "did": DID,
        "registered": True,
        "institution_id": "abc",
        "status": "active",
        "accredited": True,
        "accredited_types": ["MicroCredential", "Badge"],
        "name": {"fr": "Collège Boréal", "en": "Boreal College"},
        "key": {
            "verification_method": VM,
            "valid_at": True,
            "active_from": "2026-01-01T00:00:00Z",
            "rotated_at": None,
            "revoked_as_of": None,
        },
    }
    body.update(overrides)
    return body


class Registry:
    def __init__(self) -> None:
        self.body = _answer()
        self.requests: list[httpx.Request] = []
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)


def _client(registry: Registry, **overrides: Any) -> RegistryClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(registry))
    return RegistryClient(http, TrustSettings(registry_url="http://reg.test", **overrides))


def _clocked(registry: Registry, **overrides: Any) -> tuple[RegistryClient, list[float]]:
    """A client on a clock the test moves (``now[0]``)."""
    now = [100.0]
    http = httpx.AsyncClient(transport=httpx.MockTransport(registry))
    settings = TrustSettings(registry_url="http://reg.test", **overrides)
    return RegistryClient(http, settings, clock=lambda: now[0]), now


class TestRegistryClient:
    async def test_asks_with_date_and_method(self) -> None:
        registry = Registry()
        record = await _client(registry).issuer(DID, at=AT, verification_method=VM)
        assert record.registered
        assert record.display_name("fr") == "Collège Boréal"
        request = registry.requests[0]
        assert request.url.path == f"/v1/issuers/{DID}"
        assert request.url.params["at"] == "2026-03-01T12:00:00Z"
        assert request.url.params["verification_method"] == VM

    async def test_caches_and_invalidates_by_did_and_institution(self) -> None:
        registry = Registry()
        client = _client(registry)
        await client.issuer(DID, at=AT, verification_method=VM)
        await client.issuer(DID, at=AT, verification_method=VM)
        assert len(registry.requests) == 1
        assert client.invalidate([DID]) == 1
        await client.issuer(DID, at=AT, verification_method=VM)
        assert len(registry.requests) == 2
        assert client.invalidate([], institution_id="abc") == 1
        await client.issuer(DID, at=AT, verification_method=VM)
        assert len(registry.requests) == 3

    async def test_a_key_event_keeps_no_answer_while_the_registry_settles(self) -> None:
        registry = Registry()
        client, now = _clocked(registry, settle_s=10)
        await client.issuer(DID, at=AT, verification_method=VM)
        client.invalidate([DID], settle=True)
        await client.issuer(DID, at=AT, verification_method=VM)  # maybe the old answer: not kept
        await client.issuer(DID, at=AT, verification_method=VM)
        assert len(registry.requests) == 3
        now[0] += 11
        await client.issuer(DID, at=AT, verification_method=VM)
        await client.issuer(DID, at=AT, verification_method=VM)
        assert len(registry.requests) == 4

    async def test_only_an_answer_new_or_changed_counts_as_a_change(self) -> None:
        # Kept verify answers rest on `changes`: a refresh that reads the same answer must not
        # drop them, one that reads a different answer must.
        registry = Registry()
        registry.body = _answer(window={"from": "2026-01-01T00:00:00Z", "until": None})
        client, now = _clocked(registry, cache_ttl_s=30)
        await client.issuer(DID, at=AT, verification_method=VM)
        assert (len(registry.requests), client.changes) == (1, 1)  # new here
        now[0] += 31
        await client.issuer(DID, at=AT, verification_method=VM)
        # Another date of the same window, asked once the window's cache time is over.
        now[0] += 31
        await client.issuer(DID, at=AT + timedelta(days=3), verification_method=VM)
        assert (len(registry.requests), client.changes) == (3, 1)
        now[0] += 31
        registry.body = _answer(
            status="suspended", window={"from": "2026-01-01T00:00:00Z", "until": None}
        )
        record = await client.issuer(DID, at=AT, verification_method=VM)
        assert record.status == "suspended"
        assert (len(registry.requests), client.changes) == (4, 2)
        # A date outside every window known, and another key: new questions.
        await client.issuer(DID, at=datetime(2025, 12, 1, tzinfo=UTC), verification_method=VM)
        await client.issuer(DID, at=AT, verification_method=DID + "#key-2")
        assert (len(registry.requests), client.changes) == (6, 4)

    async def test_after_an_event_the_next_answer_counts_as_a_change(self) -> None:
        registry = Registry()
        client, now = _clocked(registry, settle_s=10)
        await client.issuer(DID, at=AT, verification_method=VM)
        client.invalidate([DID])
        await client.issuer(DID, at=AT, verification_method=VM)
        client.invalidate([], institution_id="abc")
        await client.issuer(DID, at=AT, verification_method=VM)
        client.invalidate([DID], settle=True)
        await client.issuer(DID, at=AT, verification_method=VM)  # used, not kept: a change
        now[0] += 11
        client.clear()
        await client.issuer(DID, at=AT, verification_method=VM)
        assert (len(registry.requests), client.changes) == (5, 5)

    def test_trust_answers_are_kept_seconds_not_minutes(self) -> None:
        # What bounds a revoked key's life in this cache when its event is missed.
        assert TrustSettings().cache_ttl_s <= 60

    async def test_concurrent_questions_share_one_request(self) -> None:
        registry = Registry()
        client = _client(registry)
        await asyncio.gather(
            *(client.issuer(DID, at=AT, verification_method=VM) for _ in range(10))
        )
        assert len(registry.requests) == 1

    async def test_the_verifier_token_goes_with_every_lookup(self) -> None:
        registry = Registry()
        await _client(registry).issuer(DID, at=AT, verification_method=VM)
        token = "verifier-token-of-this-deployment-0123"
        await _client(registry, registry_token=token).issuer(DID, at=AT, verification_method=VM)
        assert "x-sceau-registry-token" not in registry.requests[0].headers
        assert registry.requests[1].headers["x-sceau-registry-token"] == token
        assert token not in repr(TrustSettings(registry_token=token))

    async def test_one_request_per_key_and_window_not_per_issuance_time(self) -> None:
        registry = Registry()
        registry.body = _answer(window={"from": "2026-01-01T00:00:00Z", "until": None})
        client = _client(registry)
        for minutes in range(300):  # a cohort issued over five hours, second by second apart
            moment = AT + timedelta(minutes=minutes, seconds=minutes % 60)
            record = await client.issuer(DID, at=moment, verification_method=VM)
            assert record.key is not None
            assert record.key.valid_at
        assert len(registry.requests) == 1
        # Before the window: asked again (another window), and so is another key.
        await client.issuer(DID, at=datetime(2025, 12, 1, tzinfo=UTC), verification_method=VM)
        await client.issuer(DID, at=AT, verification_method=DID + "#key-2")
        assert len(registry.requests) == 3
        # An event about the DID drops its windows too.
        client.invalidate([DID])
        await client.issuer(DID, at=AT + timedelta(hours=1), verification_method=VM)
        assert len(registry.requests) == 4

    async def test_an_answer_without_a_window_holds_for_its_own_date_only(self) -> None:
        registry = Registry()  # an older registry: no window in its answers
        client = _client(registry)
        await client.issuer(DID, at=AT, verification_method=VM)
        await client.issuer(DID, at=AT + timedelta(seconds=1), verification_method=VM)
        assert len(registry.requests) == 2

    async def test_a_rate_limited_registry_makes_the_issuer_check_inconclusive(self) -> None:
        registry = Registry()
        registry.status = 429
        trust = RegistryTrust(_client(registry), now=AT)
        with pytest.raises(RegistryUnavailable, match="429"):
            await trust.lookup(DID, achievement_type=None, issued_at=AT, verification_method=VM)
        decision = trust.decisions[trust_key(DID, AT)]
        assert decision.status is CheckStatus.INCONCLUSIVE  # "try later", never "not trusted"

    @pytest.mark.parametrize("status", [404, 429, 500, 503])
    async def test_errors_raise_and_are_not_cached(self, status: int) -> None:
        registry = Registry()
        registry.status = status
        client = _client(registry)
        with pytest.raises(RegistryUnavailable):
            await client.issuer(DID, at=AT, verification_method=None)
        registry.status = 200
        await client.issuer(DID, at=AT, verification_method=None)

    async def test_bad_body(self) -> None:
        registry = Registry()
        registry.body = {"unexpected": True}
        with pytest.raises(RegistryUnavailable, match="not an issuer record"):
            await _client(registry).issuer(DID, at=AT, verification_method=None)

    async def test_timeout(self) -> None:
        async def slow(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(2)
            return httpx.Response(200, json=_answer())

        client = RegistryClient(
            httpx.AsyncClient(transport=httpx.MockTransport(slow)),
            TrustSettings(registry_url="http://reg.test", timeout_s=0.1),
        )
        with pytest.raises(RegistryUnavailable, match="unreachable"):
            await client.issuer(DID, at=AT, verification_method=None)


def _record(**overrides: Any) -> IssuerRecord:
    return IssuerRecord.model_validate(_answer(**overrides))


class TestAssess:
    def test_passes_for_accredited_issuer_with_valid_key(self) -> None:
        check = assess(_record(), at=AT, achievement_type="MicroCredential", verification_method=VM)
        assert check.status is CheckStatus.PASSED
        assert "Boreal College" in check.reason_en
        assert "Collège Boréal" in check.reason_fr

    @pytest.mark.parametrize(
        ("overrides", "achievement_type", "needle"),
        [
            ({"registered": False, "status": None}, "Badge", "not in the registry"),
            ({"status": "suspended"}, "Badge", "suspended"),
            ({"status": "pending"}, "Badge", "pending"),
            ({"accredited": False}, "Badge", "not accredited"),
            ({}, "Certification", "Certification"),
            ({"key": None}, "Badge", "signing key is not one"),
        ],
    )
    def test_failures(self, overrides: dict[str, Any], achievement_type: str, needle: str) -> None:
        check = assess(
            _record(**overrides), at=AT, achievement_type=achievement_type, verification_method=VM
        )
        assert check.status is CheckStatus.FAILED
        assert check.problem_type == ISSUER_NOT_TRUSTED
        assert needle in check.reason_en
        assert check.reason_fr

    def test_key_not_valid_at_issuance(self) -> None:
        key = _answer()["key"] | {"valid_at": False, "rotated_at": "2026-02-01T00:00:00Z"}
        check = assess(_record(key=key), at=AT, achievement_type=None, verification_method=VM)
        assert check.status is CheckStatus.FAILED
        assert "not valid on the issuance date" in check.reason_en

    def test_a_key_revoked_as_compromised_fails_whatever_the_claimed_date(self) -> None:
        # A back-dated forgery: the credential claims a date before the revocation, and an
        # older registry still answers valid_at true for that date.
        key = _answer()["key"] | {"valid_at": True, "revoked_as_of": "2026-06-01T00:00:00Z"}
        check = assess(_record(key=key), at=AT, achievement_type=None, verification_method=VM)
        assert check.status is CheckStatus.FAILED
        assert check.problem_type == ISSUER_NOT_TRUSTED
        assert "revoked as compromised" in check.reason_en
        assert "révoquée comme compromise" in check.reason_fr

    async def test_a_revoked_key_is_not_valid_for_the_engine_either(self) -> None:
        registry = Registry()
        registry.body = _answer(
            key=_answer()["key"] | {"valid_at": True, "revoked_as_of": "2026-06-01T00:00:00Z"}
        )
        trust = RegistryTrust(_client(registry), now=AT)
        info = await trust.lookup(DID, achievement_type=None, issued_at=AT, verification_method=VM)
        assert info.key_valid is False

    async def test_unreachable_registry_is_inconclusive(self) -> None:
        registry = Registry()
        registry.status = 502
        trust = RegistryTrust(_client(registry), now=AT)
        with pytest.raises(RegistryUnavailable):
            await trust.lookup(DID, achievement_type=None, issued_at=AT, verification_method=VM)
        decision = trust.decisions[trust_key(DID, AT)]
        assert decision.status is CheckStatus.INCONCLUSIVE
        assert decision.problem_type == ISSUER_TRUST_UNKNOWN
        assert trust.records == []

    async def test_lookup_answers_the_engine_and_records_the_decision(self) -> None:
        trust = RegistryTrust(_client(Registry()), now=AT)
        info = await trust.lookup(
            DID, achievement_type="Badge", issued_at=AT, verification_method=VM
        )
        assert info.registered is True
        assert info.accredited is True
        assert info.key_valid is True
        assert info.name_fr == "Collège Boréal"
        assert [r.did for r in trust.records] == [DID]
        assert trust.decisions[trust_key(DID, AT)].status is CheckStatus.PASSED
        other = await trust.lookup(
            DID, achievement_type="Certification", issued_at=AT, verification_method=VM
        )
        assert other.accredited is False
