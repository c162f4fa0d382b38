"""The VC-API exchange a VC-API wallet (the DCC Learner Credential Wallet) takes an offer through.

Each wallet offer made on the learner's page is also an *exchange* at
``/vcapi/{institution}/exchanges/{offer id}.{MAC}`` (the MAC is shown only on the page, so the
offer's QR code does not open it). Two wallet behaviours are answered:

- the VC-API interaction: the wallet POSTs ``{}`` and gets a ``VerifiablePresentationRequest``
  (query ``DIDAuthentication``, a challenge and our domain); it then POSTs
  ``{"verifiablePresentation": VP}`` and gets ``{"verifiablePresentation": {...,
  "verifiableCredential": [credential]}}``;
- the Learner Credential Wallet's credential request deep link
  (``dccrequest://request?issuer=…&auth_type=bearer&challenge=…&vc_request_url=…``): the wallet
  POSTs the signed presentation itself and reads a presentation back.

The presentation must be signed by the holder's did:key (or did:jwk) with proof purpose
``authentication`` and the exchange's challenge (derived from the offer, never stored); a proof
that names a domain must name ours (the VC-API interaction always gives one). The credential is
then delivered like an OpenID4VCI one (:meth:`WalletService.deliver`): bound to the holder's DID,
signed now, same status entry, at most once per offer whichever protocol takes it, counting as
the learner's acceptance.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Final

from sceau_credentials.dids.resolver import DidResolver, split_did_url
from sceau_credentials.ob3.constants import VC_V1_CONTEXT, VC_V2_CONTEXT
from sceau_credentials.presentations import verify_presentation
from sceau_credentials.proofs.errors import ProofError
from sceau_credentials.proofs.rdfc import proofs_of
from sceau_issuer.errors import (
    WalletExchangeGone,
    WalletExchangeNotFound,
    WalletPresentationInvalid,
)
from sceau_issuer.wallets.schemas import BY_ID
from sceau_issuer.wallets.service import DeliveryRefused, WalletService, aware
from sceau_shared.events import utcnow

DID_AUTH: Final = "DIDAuthentication"
HOLDER_DID_METHODS: Final = ("key", "jwk")
ACCEPTED_CRYPTOSUITES: Final = ("eddsa-rdfc-2022", "Ed25519Signature2020")
_ENVELOPED_JWT: Final = "data:application/vc+jwt,"


class VcApiExchanges:
    """Answers each step of an offer's VC-API exchange."""

    def __init__(self, *, wallets: WalletService, resolver: DidResolver) -> None:
        self._wallets = wallets
        self._resolver = resolver

    async def exchange(
        self, institution_id: str, exchange_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """One POST to the exchange: ``{}`` asks what is needed, a presentation takes the offer.

        Raises:
            WalletExchangeNotFound: unknown exchange, bad MAC or another institution's.
            WalletExchangeGone: the offer expired or a wallet already took it.
            WalletPresentationInvalid: the presentation does not prove the holder's key for
                this exchange (challenge, domain, signature, purpose, DID method).
        """
        offer_id, doc = await self._open(institution_id, exchange_id)
        presentation, wrapped = _presentation_of(body)
        if presentation is None:
            return {"verifiablePresentationRequest": self._request(institution_id, offer_id)}
        key = str(doc["_id"])
        if await self._wallets.taken(key):
            raise WalletExchangeGone("this offer was already taken by a wallet")
        holder = await self._holder(presentation, offer_id, domain_required=wrapped)
        try:
            signed = await self._wallets.deliver(
                institution_id,
                doc["credential_id"],
                delivery_key=key,
                holder_did=holder,
                profile=BY_ID[doc["configuration_id"]].profile,
            )
        except DeliveryRefused as refused:
            raise WalletExchangeGone(str(refused)) from refused
        delivered = _delivery(signed)
        return {"verifiablePresentation": delivered} if wrapped else delivered

    async def _open(self, institution_id: str, exchange_id: str) -> tuple[str, dict[str, Any]]:
        offer_id, dot, _ = exchange_id.partition(".")
        expected = self._wallets.exchange_id(offer_id) if dot and offer_id else ""
        if not expected or not secrets.compare_digest(exchange_id.encode(), expected.encode()):
            raise WalletExchangeNotFound("this exchange is unknown")
        doc = await self._wallets.offer_doc(institution_id, offer_id)
        if doc is None:
            raise WalletExchangeNotFound("this exchange is unknown")
        if aware(doc["expires_at"]) <= utcnow():
            raise WalletExchangeGone("this exchange has expired: make a new offer on your page")
        return offer_id, doc

    def _request(self, institution_id: str, offer_id: str) -> dict[str, Any]:
        """The DIDAuth presentation request (VC-API / VP Request Spec)."""
        return {
            "query": [
                {
                    "type": DID_AUTH,
                    "acceptedMethods": [{"method": method} for method in HOLDER_DID_METHODS],
                    "acceptedCryptosuites": [{"cryptosuite": s} for s in ACCEPTED_CRYPTOSUITES],
                }
            ],
            "challenge": self._wallets.challenge(offer_id),
            "domain": self._wallets.domain(),
            "interact": {
                "service": [
                    {
                        "type": "UnmediatedHttpPresentationService2021",
                        "serviceEndpoint": self._wallets.exchange_url(institution_id, offer_id),
                    }
                ]
            },
        }

    async def _holder(
        self, presentation: dict[str, Any], offer_id: str, *, domain_required: bool
    ) -> str:
        """The DID whose key signed the presentation for this exchange."""
        try:
            named_domain = proofs_of(presentation)[0].get("domain")
        except ProofError as error:
            reason = f"the presentation has no usable proof: {error}"
            raise WalletPresentationInvalid(reason) from error
        if domain_required and named_domain is None:
            raise WalletPresentationInvalid("the presentation's proof must name the domain asked")
        result = await verify_presentation(
            presentation,
            self._resolver,
            challenge=self._wallets.challenge(offer_id),
            domain=self._wallets.domain() if named_domain is not None else None,
        )
        if not result.verified or result.verification_method is None:
            raise WalletPresentationInvalid(f"the presentation does not check out: {result.reason}")
        holder = result.holder or split_did_url(result.verification_method)[0]
        if not isinstance(holder, str) or holder.split(":")[1:2] not in (["key"], ["jwk"]):
            raise WalletPresentationInvalid("the holder must be a did:key or did:jwk")
        return holder


def _presentation_of(body: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The presentation a POST carries and whether it came wrapped (VC-API) or bare (LCW link)."""
    wrapped = body.get("verifiablePresentation")
    if wrapped is not None:
        if not isinstance(wrapped, dict):
            raise WalletPresentationInvalid("verifiablePresentation must be a JSON object")
        return wrapped, True
    types = body.get("type")
    if "VerifiablePresentation" in (types if isinstance(types, list) else [types]):
        return dict(body), False
    if body:
        raise WalletPresentationInvalid(
            "send {} to start the exchange, then {verifiablePresentation: ...}"
        )
    return None, False


def _delivery(signed: dict[str, Any] | str) -> dict[str, Any]:
    """The presentation (unsigned: the credential carries the proof) that delivers it."""
    if isinstance(signed, str):
        enveloped = {
            "@context": [VC_V2_CONTEXT],
            "id": _ENVELOPED_JWT + signed,
            "type": "EnvelopedVerifiableCredential",
        }
        return {
            "@context": [VC_V2_CONTEXT],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [enveloped],
        }
    contexts = signed.get("@context")
    version = VC_V2_CONTEXT if isinstance(contexts, list) and VC_V2_CONTEXT in contexts else None
    return {
        "@context": [version or VC_V1_CONTEXT],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [signed],
    }
