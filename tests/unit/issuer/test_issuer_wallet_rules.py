"""Wallet delivery rules (OpenID4VCI): proof of possession, nonces, the token endpoint, metadata."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sceau_credentials.dids.did_jwk import DidJwkResolver
from sceau_credentials.dids.did_key import DidKeyResolver
from sceau_credentials.dids.resolver import CompositeResolver
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_issuer.errors import ConsentRequired
from sceau_issuer.learners.privacy import is_private, redact_path
from sceau_issuer.vault import Vault
from sceau_issuer.wallets.holder_proof import did_jwk_of, verify_holder_proof
from sceau_issuer.wallets.oauth_errors import WalletProtocolError
from sceau_issuer.wallets.schemas import (
    PRE_AUTHORIZED_GRANT,
    authorization_server_metadata,
    configuration_for,
    credential_offer,
    issuer_metadata,
)
from sceau_issuer.wallets.service import WalletConfig, WalletService, bind_to_holder
from sceau_shared.events import utcnow

AUD = "https://issuer.example/oid4vci/inst-1"
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=40)
    | st.sampled_from(["openid4vci-proof+jwt", "EdDSA", "ES256", AUD, "did:key:z6Mk#x"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
RESOLVER = CompositeResolver({"key": DidKeyResolver(), "jwk": DidJwkResolver()})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _ed_jwk(key: SigningKey) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(key.public_key_bytes)}


def proof(
    key: SigningKey | P256SigningKey,
    *,
    aud: Any = AUD,
    nonce: str | None = "n-1",
    iat: float | None = None,
    header: dict[str, Any] | None = None,
    signer: SigningKey | P256SigningKey | None = None,
) -> str:
    alg = "ES256" if isinstance(key, P256SigningKey) else "EdDSA"
    head = header or {"typ": "openid4vci-proof+jwt", "alg": alg, "kid": key.verification_method}
    body: dict[str, Any] = {"aud": aud, "iat": int(iat if iat is not None else time.time())}
    if nonce is not None:
        body["nonce"] = nonce
    signing_input = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(body).encode())}"
    signature = (signer or key).sign(signing_input.encode())
    return f"{signing_input}.{_b64(signature)}"


async def _refused(jwt: str, error: str = "invalid_proof") -> str:
    with pytest.raises(WalletProtocolError) as caught:
        await verify_holder_proof(jwt, audience=AUD, resolver=RESOLVER)
    assert caught.value.error == error
    return caught.value.description


async def test_a_did_key_proof_names_its_holder_and_nonce() -> None:
    key = SigningKey.generate()
    checked = await verify_holder_proof(proof(key), audience=AUD, resolver=RESOLVER)
    assert checked.holder_did == key.controller
    assert checked.nonce == "n-1"
    listed = await verify_holder_proof(proof(key, aud=[AUD]), audience=AUD, resolver=RESOLVER)
    assert listed.holder_did == key.controller


async def test_a_jwk_header_binds_to_its_did_jwk_ed25519_and_p256() -> None:
    ed = SigningKey.generate()
    head = {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": _ed_jwk(ed)}
    checked = await verify_holder_proof(proof(ed, header=head), audience=AUD, resolver=RESOLVER)
    assert checked.holder_did == did_jwk_of(_ed_jwk(ed))
    assert checked.holder_did.startswith("did:jwk:")
    p256 = P256SigningKey.generate()
    head = {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": p256.to_jwk()}
    checked = await verify_holder_proof(proof(p256, header=head), audience=AUD, resolver=RESOLVER)
    assert checked.holder_did == did_jwk_of(p256.to_jwk())
    # The same did:jwk as a kid resolves to the same key.
    kid_head = {"typ": "openid4vci-proof+jwt", "alg": "ES256", "kid": checked.holder_did + "#0"}
    again = await verify_holder_proof(proof(p256, header=kid_head), audience=AUD, resolver=RESOLVER)
    assert again.holder_did == checked.holder_did


async def test_proofs_signed_by_another_key_or_malformed_are_invalid_proof() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    assert "signature" in await _refused(proof(key, signer=other))
    assert "aud" in await _refused(proof(key, aud="https://issuer.example/oid4vci/inst-2"))
    assert "iat" in await _refused(proof(key, iat=time.time() - 3600))
    assert "iat" in await _refused(proof(key, iat=time.time() + 3600))
    wrong_typ = {"typ": "JWT", "alg": "EdDSA", "kid": key.verification_method}
    assert "typ" in await _refused(proof(key, header=wrong_typ))
    none_alg = {"typ": "openid4vci-proof+jwt", "alg": "none", "kid": key.verification_method}
    assert "alg" in await _refused(proof(key, header=none_alg))
    web = {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": "did:web:evil.example#k"}
    assert "did:key" in await _refused(proof(key, header=web))
    both = {
        "typ": "openid4vci-proof+jwt",
        "alg": "EdDSA",
        "kid": key.verification_method,
        "jwk": _ed_jwk(key),
    }
    assert "exactly one" in await _refused(proof(key, header=both))
    private = {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": {**_ed_jwk(key), "d": "x"}}
    assert "private" in await _refused(proof(key, header=private))
    # An ES256 header over an Ed25519 key is refused (no algorithm confusion).
    confused = {"typ": "openid4vci-proof+jwt", "alg": "ES256", "kid": key.verification_method}
    await _refused(proof(key, header=confused))
    for garbage in ("", "a.b", "a.b.c", "x" * 9000):
        await _refused(garbage)


def test_nonces_are_bound_to_one_institution_and_expire(vault: Vault) -> None:
    nonce = vault.wallet_nonce(institution_id="inst-1", ttl_s=60)
    assert vault.read_wallet_nonce(nonce) == "inst-1"
    assert vault.read_wallet_nonce(nonce, now=time.time() + 61) is None
    assert vault.read_wallet_nonce(nonce[:-2] + "AA") is None
    learner = vault.learner_token(credential_id="c", institution_id="inst-1", ttl_s=60)
    assert vault.read_wallet_nonce(learner) is None
    assert Vault(b"\x01" * 32).read_wallet_nonce(nonce) is None


def test_metadata_offer_and_configurations() -> None:
    meta = issuer_metadata(AUD, {"fr": "Collège", "en": "College"})
    assert meta["credential_issuer"] == AUD
    assert meta["credential_endpoint"] == f"{AUD}/credential"
    assert meta["nonce_endpoint"] == f"{AUD}/nonce"
    configs = meta["credential_configurations_supported"]
    ldp = configs["OpenBadgeCredential_ldp_vc"]
    assert ldp["format"] == "ldp_vc"
    assert ldp["credential_definition"]["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert ldp["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == [
        "EdDSA",
        "ES256",
    ]
    assert configs["OpenBadgeCredential_jwt_vc_json"]["format"] == "jwt_vc_json"
    assert configuration_for("jwt").configuration_id == "OpenBadgeCredential_jwt_vc_json"
    assert configuration_for("ob3-v1").format == "ldp_vc"
    server = authorization_server_metadata(AUD)
    assert server["issuer"] == AUD
    assert server["grant_types_supported"] == [PRE_AUTHORIZED_GRANT]
    offer = credential_offer(AUD, "OpenBadgeCredential_ldp_vc", "code", with_tx_code=True)
    grant = offer["grants"][PRE_AUTHORIZED_GRANT]
    assert grant["pre-authorized_code"] == "code"
    assert grant["tx_code"]["length"] == 6
    plain = credential_offer(AUD, "OpenBadgeCredential_ldp_vc", "code", with_tx_code=False)
    assert "tx_code" not in plain["grants"][PRE_AUTHORIZED_GRANT]


def test_offer_paths_are_private_and_masked_in_the_access_log() -> None:
    assert is_private("/oid4vci/inst-1/offers/abc")
    assert is_private("/oid4vci/inst-1/token")
    assert redact_path("/oid4vci/inst-1/offers/secret-offer") == "/oid4vci/inst-1/offers/[token]"
    assert redact_path("/oid4vci/inst-1/token") == "/oid4vci/inst-1/token"
    assert is_private("/vcapi/inst-1/exchanges/offer.mac")
    masked = redact_path("/vcapi/inst-1/exchanges/secret.mac")
    assert masked == "/vcapi/inst-1/exchanges/[token]"


def test_binding_sets_the_subject_id_and_keeps_the_rest() -> None:
    document = {
        "id": "urn:uuid:1",
        "issuer": {"id": "did:key:old", "type": ["Profile"]},
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {"id": "a"}},
        "credentialStatus": [{"id": "s#1"}],
        "proof": [{"type": "DataIntegrityProof"}],
    }
    bound = bind_to_holder(document, "did:key:holder", "did:key:new")
    assert bound["credentialSubject"]["id"] == "did:key:holder"
    assert bound["issuer"]["id"] == "did:key:new"
    assert bound["id"] == "urn:uuid:1"
    assert bound["credentialStatus"] == document["credentialStatus"]
    assert "proof" not in bound
    assert "id" not in document["credentialSubject"]  # the stored original is untouched


# --- the token endpoint against an in-memory repository ------------------------------------------


class MemoryWalletRepository:
    """The wallet repository's contract, in memory (unit tests only)."""

    def __init__(self) -> None:
        self.offers: dict[str, dict[str, Any]] = {}
        self.grants: dict[str, dict[str, Any]] = {}
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.failed: list[str] = []

    async def insert_offer(self, doc: dict[str, Any]) -> None:
        self.offers[doc["_id"]] = doc

    async def offer(self, key: str) -> dict[str, Any] | None:
        return self.offers.get(key)

    async def latest_offer(self, institution_id: str, credential_id: str) -> dict[str, Any] | None:
        mine = [
            o
            for o in self.offers.values()
            if (o["institution_id"], o["credential_id"]) == (institution_id, credential_id)
        ]
        return max(mine, key=lambda o: o["created_at"]) if mine else None

    async def failures_exhausted(self, offer_key: str, limit: int) -> bool:
        return self.failed.count(offer_key) >= limit

    async def add_failure(
        self, offer_key: str, at: datetime, *, limit: int, sweep_at: datetime
    ) -> None:
        self.failed.append(offer_key)

    async def redeem_many(self, docs: list[dict[str, Any]]) -> list[bool]:
        won = []
        for doc in docs:
            won.append(doc["_id"] not in self.grants)
            self.grants.setdefault(doc["_id"], doc)
        return won

    async def redeemed(self, offer_key: str) -> bool:
        return offer_key in self.grants

    async def delivered(self, offer_key: str) -> bool:
        return offer_key in self.deliveries


@pytest.fixture
def wallets(vault: Vault) -> tuple[WalletService, MemoryWalletRepository]:
    repo = MemoryWalletRepository()

    async def accepted(credentials: Any) -> None:
        return None

    service = WalletService(
        config=WalletConfig(public_base_url="https://issuer.example", offer_ttl_s=600),
        repository=cast(Any, repo),
        credentials=cast(Any, None),
        tenants=cast(Any, None),
        vault=vault,
        sign_many=cast(Any, None),
        resolver=RESOLVER,
        on_accepted_many=accepted,
    )
    return service, repo


CREDENTIAL = {"_id": "cred-1", "institution_id": "inst-1", "profile": "ob3-v2"}


async def _offer(service: WalletService, *, tx: bool) -> tuple[str, str | None]:
    view = await service.create_offer(CREDENTIAL, "pending", with_tx_code=tx)
    offer = await service.offer("inst-1", view.offer_id)
    code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    return code, view.tx_code


async def _token_error(service: WalletService, form: dict[str, str], inst: str = "inst-1") -> str:
    with pytest.raises(WalletProtocolError) as caught:
        await service.token(inst, form)
    return caught.value.error


async def test_a_code_is_traded_once(wallets: tuple[WalletService, Any]) -> None:
    service, repo = wallets
    code, tx = await _offer(service, tx=False)
    assert tx is None
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    answer = await service.token("inst-1", form)
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] > 0
    assert await _token_error(service, form) == "invalid_grant"
    # Once taken, the offer is gone from the page and from credential_offer_uri.
    assert await service.current_offer("inst-1", "cred-1") is None
    # Nothing stored holds the code or the token in clear.
    stored = json.dumps([repo.offers, repo.grants], default=str)
    assert code not in stored
    assert answer["access_token"] not in stored


async def test_token_refusals(wallets: tuple[WalletService, Any]) -> None:
    service, repo = wallets
    code, _ = await _offer(service, tx=False)
    grant = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    assert await _token_error(service, {}) == "invalid_request"
    assert await _token_error(service, {**grant, "grant_type": "password"}) == (
        "unsupported_grant_type"
    )
    assert await _token_error(service, {**grant, "pre-authorized_code": "guess"}) == "invalid_grant"
    # Another institution's issuer does not know the code (tenant-scoped).
    assert await _token_error(service, grant, inst="inst-2") == "invalid_grant"
    for doc in repo.offers.values():
        doc["expires_at"] = utcnow() - timedelta(seconds=1)
    assert await _token_error(service, grant) == "invalid_grant"


async def test_transaction_codes(wallets: tuple[WalletService, Any]) -> None:
    service, _ = wallets
    code, tx = await _offer(service, tx=True)
    assert tx is not None
    assert len(tx) == 6
    assert tx.isdigit()
    grant = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    assert await _token_error(service, grant) == "invalid_request"
    wrong = "000000" if tx != "000000" else "111111"
    assert await _token_error(service, {**grant, "tx_code": wrong}) == "invalid_grant"
    assert (await service.token("inst-1", {**grant, "tx_code": tx}))["access_token"]

    code, tx = await _offer(service, tx=True)
    grant = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    wrong = "000000" if tx != "000000" else "111111"
    for _ in range(5):
        assert await _token_error(service, {**grant, "tx_code": wrong}) == "invalid_grant"
    # After five wrong codes even the right one is refused: the learner makes a new offer.
    assert await _token_error(service, {**grant, "tx_code": str(tx)}) == "invalid_grant"


async def test_declined_credentials_get_no_offer(wallets: tuple[WalletService, Any]) -> None:
    service, _ = wallets
    with pytest.raises(ConsentRequired):
        await service.create_offer(CREDENTIAL, "declined", with_tx_code=False)


@settings(max_examples=200, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(["typ", "alg", "kid", "jwk", "crit"]), JSON_VALUES),
    payload=st.dictionaries(st.sampled_from(["aud", "iat", "nonce"]), JSON_VALUES),
    signature=st.binary(max_size=80),
)
def test_any_proof_is_answered_with_invalid_proof_or_a_holder(
    header: dict[str, Any], payload: dict[str, Any], signature: bytes
) -> None:
    jwt = ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()), _b64(signature)]
    )
    assert asyncio.run(_answer(jwt)) in {"holder", "invalid_proof"}


async def _answer(jwt: str) -> str:
    try:
        await verify_holder_proof(jwt, audience=AUD, resolver=RESOLVER)
    except WalletProtocolError as refused:
        return refused.error
    return "holder"
