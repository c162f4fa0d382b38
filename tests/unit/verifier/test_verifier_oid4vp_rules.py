"""OpenID4VP rules without I/O (sceau_verifier.oid4vp.rules), and the verifier without its store.

The refusal decision is read from real answers of the verifier's engine: presentations signed
by the engine for a holder, credentials signed by the engine for that holder, verified by the
verifier app (registry stand-in) with the request's nonce and client_id.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from oid4vp_support import bound_credential
from verifier_support import Issuer, RegistryStandIn, serve, settings_for, verifier_client

from sceau_credentials.keys import SigningKey
from sceau_credentials.presentations import sign_presentation
from sceau_verifier.oid4vp.rules import (
    OB3_TYPE_IRI,
    Wanted,
    client_id_of,
    dcql_query,
    deep_link,
    presentation_refusal,
    read_vp_token,
    request_object,
    sign_request_object,
)
from sceau_verifier.oid4vp.schemas import Oid4vpRequestIn
from sceau_verifier.schemas import VerifyResponse

ACHIEVEMENT = "https://boreal.example/achievements/a1"
VERIFIER = SigningKey.generate()
CLIENT_ID = client_id_of(VERIFIER)


def _b64(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_the_request_object_is_signed_by_the_verifiers_did_key() -> None:
    now = datetime.now(UTC)
    claims = request_object(
        client_id=CLIENT_ID,
        response_uri="https://verifier.example/oid4vp/response/abc",
        nonce="n-1",
        state="s-1",
        wanted=Wanted(ACHIEVEMENT, "did:key:z6Mkissuer"),
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        client_name="Sceau",
    )
    token = sign_request_object(claims, VERIFIER)
    header, payload, signature = token.split(".")
    assert _b64(header)["typ"] == "oauth-authz-req+jwt"
    assert _b64(header)["kid"].startswith(VERIFIER.did_key + "#")
    body = _b64(payload)
    assert body["client_id"] == CLIENT_ID
    assert CLIENT_ID.startswith("decentralized_identifier:did:key:")
    assert (body["response_mode"], body["nonce"], body["state"]) == ("direct_post", "n-1", "s-1")
    VERIFIER.public_key.verify(
        base64.urlsafe_b64decode(signature + "=="), f"{header}.{payload}".encode()
    )
    [query] = body["dcql_query"]["credentials"]
    assert query["format"] == "ldp_vc"
    assert query["meta"]["type_values"] == [[OB3_TYPE_IRI]]
    assert {tuple(c["path"]) for c in query["claims"]} == {
        ("credentialSubject", "achievement", "id"),
        ("issuer", "id"),
    }


def test_the_query_names_only_what_was_asked() -> None:
    [query] = dcql_query(Wanted(issuer="did:key:z6Mkx"))["credentials"]
    assert [c["values"] for c in query["claims"]] == [["did:key:z6Mkx"]]
    link = deep_link(CLIENT_ID, "https://v.example/oid4vp/request/r1")
    assert link.startswith("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3A")
    assert "request_uri=https%3A%2F%2Fv.example%2Foid4vp%2Frequest%2Fr1" in link


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "  ",
        "not json",
        "[]",
        '"x"',
        "{}",
        '{"other": [{}]}',
        '{"ob3_ldp": []}',
        '{"ob3_ldp": ["a.b.c"]}',
        '{"ob3_ldp": [{}, {}, {}, {}, {}]}',
    ],
)
def test_an_unreadable_vp_token_is_refused(raw: str | None) -> None:
    with pytest.raises(ValueError, match=r"."):
        read_vp_token(raw)


def test_a_vp_token_is_keyed_by_the_credential_query() -> None:
    assert read_vp_token('{"ob3_ldp": [{"type": "VerifiablePresentation"}]}') == [
        {"type": "VerifiablePresentation"}
    ]
    assert read_vp_token('{"ob3_ldp": {"type": "VerifiablePresentation"}}')  # draft shape


def test_wanted_matches_the_achievement_and_the_issuer() -> None:
    credential = {
        "issuer": {"id": "did:key:z6Mki"},
        "credentialSubject": {"achievement": {"id": ACHIEVEMENT}},
    }
    assert Wanted(ACHIEVEMENT).matches(credential)
    assert Wanted(ACHIEVEMENT, "did:key:z6Mki").matches(credential)
    assert Wanted(issuer="did:key:z6Mki").matches(credential)
    assert not Wanted("https://other.example/a").matches(credential)
    assert not Wanted(ACHIEVEMENT, "did:key:z6Mkother").matches(credential)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"achievement_id": "not a uri"},
        {"issuer": "https://not-a-did"},
        {"achievement_id": " ", "issuer": ""},
        {"issuer": "did:key:x", "extra": 1},
    ],
)
def test_the_employer_must_ask_for_something_readable(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        Oid4vpRequestIn.model_validate(body)


class TestRefusals:
    """presentation_refusal on the verifier's real answers."""

    @pytest.fixture
    async def verify(self) -> Any:
        registry = RegistryStandIn()
        issuer = Issuer()
        registry.register(issuer)
        async with serve(registry.app()) as base, verifier_client(settings_for(base)) as client:

            async def run(presentation: dict[str, Any]) -> VerifyResponse:
                answer = await client.post(
                    "/v1/verify",
                    json={"presentation": presentation, "challenge": "n-1", "domain": CLIENT_ID},
                )
                assert answer.status_code == 200, answer.text
                return VerifyResponse.model_validate(answer.json())

            yield issuer, run

    async def _presented(
        self, issuer: Issuer, holder: SigningKey, signer: SigningKey | None = None, **proof: Any
    ) -> dict[str, Any]:
        credential = await bound_credential(issuer, holder, ACHIEVEMENT)
        signer = signer or holder
        unsigned = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": signer.did_key,
            "verifiableCredential": [credential],
        }
        options = {"challenge": "n-1", "domain": CLIENT_ID} | proof
        return sign_presentation(unsigned, signer, **options)

    async def test_an_honest_presentation_passes(self, verify: Any) -> None:
        issuer, run = verify
        holder = SigningKey.generate()
        presentation = await self._presented(issuer, holder)
        answer = await run(presentation)
        assert answer.verified, answer.checks
        assert presentation_refusal(presentation, answer, Wanted(ACHIEVEMENT)) is None
        assert presentation_refusal(presentation, answer, Wanted("https://x.example/b")) == (
            "not_requested"
        )

    @pytest.mark.parametrize(
        ("proof", "reason"),
        [
            ({"challenge": "old"}, "wrong_nonce"),
            ({"domain": "decentralized_identifier:did:key:z6Mkx"}, "wrong_audience"),
        ],
    )
    async def test_nonce_and_audience(
        self, verify: Any, proof: dict[str, Any], reason: str
    ) -> None:
        issuer, run = verify
        holder = SigningKey.generate()
        presentation = await self._presented(issuer, holder, **proof)
        assert presentation_refusal(presentation, await run(presentation), Wanted(ACHIEVEMENT)) == (
            reason
        )

    async def test_another_holder_is_not_bound(self, verify: Any) -> None:
        issuer, run = verify
        presentation = await self._presented(issuer, SigningKey.generate(), SigningKey.generate())
        answer = await run(presentation)
        assert presentation_refusal(presentation, answer, Wanted(ACHIEVEMENT)) == "holder_binding"

    async def test_a_tampered_presentation_is_not_the_holders(self, verify: Any) -> None:
        issuer, run = verify
        presentation = await self._presented(issuer, SigningKey.generate())
        presentation["proof"]["proofValue"] = presentation["proof"]["proofValue"][:-4] + "AAAA"
        answer = await run(presentation)
        assert presentation_refusal(presentation, answer, Wanted(ACHIEVEMENT)) in {
            "holder_proof",
            "wrong_nonce",
        }


async def test_without_its_store_openid4vp_answers_503_and_the_rest_works() -> None:
    registry = RegistryStandIn()
    issuer = Issuer()
    registry.register(issuer)
    async with serve(registry.app()) as base, verifier_client(settings_for(base)) as client:
        created = await client.post("/v1/oid4vp/requests", json={"achievement_id": ACHIEVEMENT})
        assert created.status_code == 503
        assert created.headers["content-type"] == "application/problem+json"
        assert created.json()["detail_fr"]
        for path in (
            "/oid4vp/request/abcdefghijklmnopqrstuvwxyz",
            "/v1/oid4vp/requests/abcdefghijklmnop",
        ):
            assert (await client.get(path)).status_code == 503
        page = await client.get("/oid4vp?lang=fr")
        assert page.status_code == 503
        assert "indisponibles" in page.text
        credential, _ = await issuer.issue()
        assert (await client.post("/v1/verify", json=credential)).json()["verified"] is True
        assert isinstance(httpx.URL(base).port, int)


async def test_a_store_outage_is_a_503_for_openid4vp_only() -> None:
    """The store out of reach (a closed port): OpenID4VP answers 503 in time, verifying works."""
    from oid4vp_support import oid4vp_settings
    from verifier_support import free_port

    registry = RegistryStandIn()
    issuer = Issuer()
    registry.register(issuer)
    store = oid4vp_settings(
        f"mongodb://127.0.0.1:{free_port()}/",
        "sceau_verifier",
        server_selection_timeout_ms=200,
        timeout_s=1.0,
    )
    async with (
        serve(registry.app()) as base,
        verifier_client(settings_for(base, oid4vp=store)) as client,
    ):
        created = await client.post("/v1/oid4vp/requests", json={"achievement_id": ACHIEVEMENT})
        assert created.status_code == 503
        # The services' usual outage answer: the problem, with when to come back.
        assert created.json()["type"].endswith("/unavailable")
        assert created.headers["retry-after"]
        page = await client.post("/oid4vp", data={"achievement_id": ACHIEVEMENT, "lang": "en"})
        assert page.status_code == 503
        assert "not available" in page.text
        credential, _ = await issuer.issue()
        assert (await client.post("/v1/verify", json=credential)).json()["verified"] is True


def test_a_vc_jose_cose_credential_in_a_presentation_is_read_from_its_payload() -> None:
    """The jwt profile's JWT (payload = credential) is read like a vc-claim one."""
    import base64
    import json

    from sceau_verifier.oid4vp.rules import _credentials

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "credentialSubject": {"id": "did:key:z6Mkholder", "type": ["AchievementSubject"]},
    }
    token = f"{part({'alg': 'ES256', 'typ': 'vc+jwt'})}.{part(credential)}.c2ln"
    vc = {"type": ["VerifiableCredential"], "credentialSubject": {}}
    legacy = f"{part({'alg': 'EdDSA'})}.{part({'sub': 'did:key:z6Mkholder', 'vc': vc})}.c2ln"
    presentation = {
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [
            {"id": f"data:application/vc+jwt,{token}", "type": "EnvelopedVerifiableCredential"},
            legacy,
        ],
    }
    found = _credentials(presentation)
    assert [c["credentialSubject"]["id"] for c in found] == ["did:key:z6Mkholder"] * 2
    assert found[0] == credential
