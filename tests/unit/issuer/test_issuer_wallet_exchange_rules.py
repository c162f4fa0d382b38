"""The VC-API exchange's rules without a database: bodies, answers, exchange ids, the LCW link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sceau_credentials.dids.did_key import DidKeyResolver
from sceau_credentials.ob3.constants import VC_V1_CONTEXT, VC_V2_CONTEXT
from sceau_issuer.errors import (
    WalletExchangeGone,
    WalletExchangeNotFound,
    WalletPresentationInvalid,
)
from sceau_issuer.vault import Vault
from sceau_issuer.wallets.service import WalletConfig, WalletService
from sceau_issuer.wallets.vc_api import VcApiExchanges, _delivery, _presentation_of
from sceau_shared.events import utcnow

VP = {"@context": [VC_V2_CONTEXT], "type": ["VerifiablePresentation"], "holder": "did:key:z"}


class OneOffer:
    """A repository holding one offer (the exchange only reads offers by key)."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] | None = None

    async def offer(self, key: str) -> dict[str, Any] | None:
        return self.doc if self.doc is not None and self.doc["_id"] == key else None

    async def redeemed(self, key: str) -> bool:
        return False

    async def delivered(self, key: str) -> bool:
        return False

    async def redeem_many(self, docs: list[dict[str, Any]]) -> list[bool]:
        raise AssertionError("no token is traded in these tests")


@pytest.fixture
def exchanges() -> tuple[VcApiExchanges, WalletService, OneOffer]:
    repo = OneOffer()
    wallets = WalletService(
        config=WalletConfig(public_base_url="https://issuer.example", offer_ttl_s=600),
        repository=cast(Any, repo),
        credentials=cast(Any, None),
        tenants=cast(Any, None),
        vault=Vault(bytes(range(32))),
        sign_many=cast(Any, None),
        resolver=DidKeyResolver(),
        on_accepted_many=cast(Any, None),
    )
    return VcApiExchanges(wallets=wallets, resolver=DidKeyResolver()), wallets, repo


def _store(wallets: WalletService, repo: OneOffer, offer_id: str, *, ttl_s: int = 600) -> None:
    repo.doc = {
        "_id": wallets.offer_key(offer_id),
        "offer_id": offer_id,
        "institution_id": "inst-1",
        "credential_id": "cred-1",
        "configuration_id": "OpenBadgeCredential_ldp_vc",
        "expires_at": utcnow() + timedelta(seconds=ttl_s),
    }


def test_bodies_start_the_exchange_or_carry_a_presentation() -> None:
    assert _presentation_of({}) == (None, False)
    assert _presentation_of({"verifiablePresentation": VP}) == (VP, True)
    assert _presentation_of(VP) == (VP, False)  # the LCW link flow posts the VP itself
    with pytest.raises(WalletPresentationInvalid):
        _presentation_of({"hello": 1})
    with pytest.raises(WalletPresentationInvalid):
        _presentation_of({"verifiablePresentation": "not an object"})


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["verifiablePresentation", "type", "proof", "x"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
            max_leaves=6,
        ),
    )
)
def test_any_body_is_a_start_a_presentation_or_a_clear_refusal(body: dict[str, Any]) -> None:
    try:
        presentation, _ = _presentation_of(body)
    except WalletPresentationInvalid:
        return
    assert presentation is None or isinstance(presentation, dict)


def test_the_delivery_presentation_follows_the_credential() -> None:
    v2 = _delivery({"@context": [VC_V2_CONTEXT, "x"], "id": "urn:1"})
    assert v2["@context"] == [VC_V2_CONTEXT]
    assert v2["verifiableCredential"] == [{"@context": [VC_V2_CONTEXT, "x"], "id": "urn:1"}]
    v1 = _delivery({"@context": [VC_V1_CONTEXT], "id": "urn:2"})
    assert v1["@context"] == [VC_V1_CONTEXT]
    [enveloped] = _delivery("aaa.bbb.ccc")["verifiableCredential"]
    assert enveloped["type"] == "EnvelopedVerifiableCredential"
    assert enveloped["id"] == "data:application/vc+jwt,aaa.bbb.ccc"


async def test_the_exchange_id_carries_a_mac_only_the_page_shows(
    exchanges: tuple[VcApiExchanges, WalletService, OneOffer],
) -> None:
    service, wallets, repo = exchanges
    offer_id = "o" * 32
    _store(wallets, repo, offer_id)
    exchange_id = wallets.exchange_id(offer_id)
    assert exchange_id.startswith(f"{offer_id}.")
    started = await service.exchange("inst-1", exchange_id, {})
    request = started["verifiablePresentationRequest"]
    assert request["query"][0]["type"] == "DIDAuthentication"
    assert request["challenge"] == wallets.challenge(offer_id)
    assert request["domain"] == "issuer.example"
    for forged in (offer_id, f"{offer_id}.AAAA", exchange_id[:-1] + "x", "." + exchange_id):
        with pytest.raises(WalletExchangeNotFound):
            await service.exchange("inst-1", forged, {})
    with pytest.raises(WalletExchangeNotFound):  # another institution's path
        await service.exchange("inst-2", exchange_id, {})
    _store(wallets, repo, offer_id, ttl_s=-1)
    with pytest.raises(WalletExchangeGone):
        await service.exchange("inst-1", exchange_id, {})


def test_the_lcw_link_names_the_exchange_and_its_challenge(
    exchanges: tuple[VcApiExchanges, WalletService, OneOffer],
) -> None:
    _, wallets, _ = exchanges
    link = wallets.lcw_link("inst-1", "p" * 32)
    assert link.startswith("dccrequest://request?")
    query = {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}
    assert query["auth_type"] == "bearer"
    assert query["issuer"] == "https://issuer.example/oid4vci/inst-1"
    assert query["challenge"] == wallets.challenge("p" * 32)
    assert query["vc_request_url"] == wallets.exchange_url("inst-1", "p" * 32)
    assert wallets.challenge("p" * 32) != wallets.challenge("q" * 32)
