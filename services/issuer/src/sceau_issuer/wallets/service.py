"""Credential delivery to wallets: OpenID4VCI 1.0, pre-authorized code flow.

From the learner's page the learner makes an *offer* (a QR code / deep link to
``credential_offer_uri``, optionally protected by a 6-digit transaction code shown beside it).
The wallet fetches the offer, trades the pre-authorized code for an access token (once), asks
for a ``c_nonce``, and sends a proof JWT signed by the key it wants the credential bound to. The
institution then signs, at that moment and with its current key, the learner's credential with
``credentialSubject.id`` set to the wallet's DID: the same ``id``, content, validity and status
entries (revoking the credential revokes the wallet's copy), so "one credential per learner and
achievement version" still holds; each offer delivers at most once. Taking an offer counts as
the learner's acceptance of the credential.

Secrets are derived, not stored: the pre-authorized code and the transaction code come from the
offer's public id through the vault (the page can show an offer again), the database keeps the
code's SHA-256 as the offer's ``_id``; access tokens and nonces are MAC-signed and expiring
(the token names its grant: no read per delivery; never stored), nonces are bound to the
institution and spent by the first proof that carries them. Concurrent wallets share their
writes: the grants of token requests and everything deliveries write go out as one command per
step and group (``sceau_issuer.grouped``; issue 16's benchmark).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from sceau_credentials.dids.resolver import DidResolver
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.multiformats import base64url_nopad_encode
from sceau_credentials.ob3 import validate_for_signing
from sceau_issuer.errors import ConsentRequired, WalletOfferNotFound
from sceau_issuer.grouped import GroupedCalls
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.learners.derived import set_issuer, unsigned_content
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import Vault, WalletGrant
from sceau_issuer.wallets.holder_proof import verify_holder_proof
from sceau_issuer.wallets.oauth_errors import (
    WalletProtocolError,
    invalid_grant,
    invalid_nonce,
    invalid_proof,
    invalid_request,
    invalid_token,
)
from sceau_issuer.wallets.repository import WalletRepository
from sceau_issuer.wallets.schemas import (
    BY_ID,
    OFFER_SCHEME,
    PRE_AUTHORIZED_GRANT,
    TX_CODE_LENGTH,
    authorization_server_metadata,
    configuration_for,
    credential_offer,
    issuer_metadata,
)
from sceau_shared.events import utcnow

#: Signs ready documents ``(document, key, profile)``: per document its signature or its error.
SignManyFn = Callable[
    [Sequence[tuple[dict[str, Any], SigningKey | P256SigningKey, str]]],
    Awaitable[list[dict[str, Any] | str | BaseException]],
]
#: Records that the learners accepted these credentials (their stored documents).
AcceptManyFn = Callable[[Sequence[Mapping[str, Any]]], Awaitable[None]]
#: The Learner Credential Wallet's custom scheme for its credential request deep links.
LCW_SCHEME = "dccrequest://request"


@dataclass(frozen=True)
class WalletConfig:
    """Lifetimes and limits of wallet delivery (passed in, never read globally)."""

    public_base_url: str
    offer_ttl_s: int
    token_ttl_s: int = 300
    nonce_ttl_s: int = 300
    max_code_failures: int = 5


@dataclass(frozen=True)
class OfferView:
    """An offer as the learner's page shows it."""

    offer_id: str
    offer_uri: str
    deep_link: str
    tx_code: str | None
    expires_at: datetime
    configuration_id: str
    exchange_url: str
    lcw_link: str


class DeliveryRefused(Exception):
    """Why a credential cannot be delivered now (each protocol words it its own way)."""


@dataclass(frozen=True)
class _Order:
    """One delivery waiting for its group (see :meth:`WalletService.deliver`)."""

    institution_id: str
    credential_id: str
    delivery_key: str
    holder_did: str
    profile: str
    nonce: tuple[str, datetime, datetime] | None
    """The proof's nonce to spend first (hash, now, kept until), when the protocol has one."""


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def aware(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime (MongoDB returns naive UTC datetimes)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def bind_to_holder(
    document: dict[str, Any] | str, holder_did: str, issuer_did: str
) -> dict[str, Any]:
    """The unsigned credential bound to its holder: ``credentialSubject.id`` = the wallet's DID.

    Everything else is kept (id, dates, status entries); the issuer is the institution's current
    DID, whose key signs the copy now.
    """
    credential = unsigned_content(document)
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise ValueError("the credential has no single credentialSubject object")
    subject["id"] = holder_did
    set_issuer(credential, issuer_did)
    return credential


class WalletService:
    """Per-institution OpenID4VCI credential issuer: metadata, offers, token, nonce, credential."""

    def __init__(
        self,
        *,
        config: WalletConfig,
        repository: WalletRepository,
        credentials: CredentialRepository,
        tenants: TenantService,
        vault: Vault,
        sign_many: SignManyFn,
        resolver: DidResolver,
        on_accepted_many: AcceptManyFn,
    ) -> None:
        self.config = config
        self._repo = repository
        self._credentials = credentials
        self._tenants = tenants
        self._vault = vault
        self._sign_many = sign_many
        self._resolver = resolver
        self._on_accepted_many = on_accepted_many
        # Concurrent wallets share their writes (one command per step and group, not per
        # request): the grants of token requests, and everything a delivery writes.
        self._grants = GroupedCalls(repository.redeem_many, name="wallet-grants")
        self.deliveries: GroupedCalls[_Order, dict[str, Any] | str] = GroupedCalls(
            self._deliver_group, name="wallet-deliveries"
        )

    async def close(self) -> None:
        """Let the groups being written finish (the issuer is stopping)."""
        await self._grants.close()
        await self.deliveries.close()

    # --- identifiers and metadata ----------------------------------------------------------------

    def issuer_id(self, institution_id: str) -> str:
        """The credential issuer identifier of one institution."""
        return f"{self.config.public_base_url.rstrip('/')}/oid4vci/{institution_id}"

    async def metadata(self, institution_id: str) -> dict[str, Any]:
        """Credential issuer metadata (404 problem for an unknown institution)."""
        tenant = await self._tenants.get(institution_id)
        return issuer_metadata(self.issuer_id(institution_id), tenant.name.model_dump())

    async def authorization_server(self, institution_id: str) -> dict[str, Any]:
        """Authorization server metadata (the issuer is its own authorization server)."""
        await self._tenants.get(institution_id)
        return authorization_server_metadata(self.issuer_id(institution_id))

    # --- offers ----------------------------------------------------------------------------------

    def _code(self, offer_id: str) -> str:
        return self._vault.wallet_secret("code", offer_id).hex()

    def offer_key(self, offer_id: str) -> str:
        """The stored key (``_id``) of an offer: the hash of its pre-authorized code."""
        return _key(self._code(offer_id))

    async def offer_doc(self, institution_id: str, offer_id: str) -> dict[str, Any] | None:
        """An offer of this institution by its public id (by primary key; another's is None)."""
        doc = await self._repo.offer(self.offer_key(offer_id))
        if doc is None or doc["institution_id"] != institution_id or doc["offer_id"] != offer_id:
            return None
        return doc

    async def taken(self, offer_key: str) -> bool:
        """Whether a wallet took the offer: redeemed its code, or received it by exchange."""
        return await self._repo.redeemed(offer_key) or await self._repo.delivered(offer_key)

    def exchange_id(self, offer_id: str) -> str:
        """The VC-API exchange id of an offer: its public id and a MAC only the page shows.

        The QR code of the OpenID4VCI offer names the offer id; the MAC keeps someone who saw
        that code (but not the page) from opening the exchange around the transaction code.
        """
        mac = self._vault.wallet_secret("exchange", offer_id)[:18]
        return f"{offer_id}.{base64url_nopad_encode(mac)}"

    def exchange_url(self, institution_id: str, offer_id: str) -> str:
        """Where a VC-API wallet (the DCC Learner Credential Wallet) takes the offer."""
        base = self.config.public_base_url.rstrip("/")
        return f"{base}/vcapi/{institution_id}/exchanges/{self.exchange_id(offer_id)}"

    def challenge(self, offer_id: str) -> str:
        """The DIDAuth challenge of an offer's exchange (derived, never stored)."""
        return base64url_nopad_encode(self._vault.wallet_secret("challenge", offer_id)[:18])

    def domain(self) -> str:
        """The domain a wallet's DIDAuth proof names: this issuer's public host."""
        return urlsplit(self.config.public_base_url).netloc or self.config.public_base_url

    def lcw_link(self, institution_id: str, offer_id: str) -> str:
        """The deep link the DCC Learner Credential Wallet opens (its credential request flow)."""
        query = urlencode(
            {
                "issuer": self.issuer_id(institution_id),
                "auth_type": "bearer",
                "challenge": self.challenge(offer_id),
                "vc_request_url": self.exchange_url(institution_id, offer_id),
            }
        )
        return f"{LCW_SCHEME}?{query}"

    def _tx_code(self, offer_id: str) -> str:
        number = int.from_bytes(self._vault.wallet_secret("tx", offer_id)[:8], "big")
        return str(number % 10**TX_CODE_LENGTH).zfill(TX_CODE_LENGTH)

    async def create_offer(
        self, credential: Mapping[str, Any], consent_state: str, *, with_tx_code: bool
    ) -> OfferView:
        """A new single-use offer of a learner's credential (made from the learner's page)."""
        if consent_state == "declined":
            raise ConsentRequired("you declined this credential: accept it before taking it")
        offer_id = secrets.token_urlsafe(24)
        now = utcnow()
        doc = {
            "_id": _key(self._code(offer_id)),
            "offer_id": offer_id,
            "institution_id": credential["institution_id"],
            "credential_id": credential["_id"],
            "configuration_id": configuration_for(str(credential.get("profile"))).configuration_id,
            "with_tx_code": with_tx_code,
            "created_at": now,
            "expires_at": now + timedelta(seconds=self.config.offer_ttl_s),
        }
        doc["sweep_at"] = doc["expires_at"]
        await self._repo.insert_offer(doc)
        return self._view(doc)

    async def current_offer(self, institution_id: str, credential_id: str) -> OfferView | None:
        """The credential's latest offer while a wallet may still take it, else None."""
        doc = await self._repo.latest_offer(institution_id, credential_id)
        if doc is None or aware(doc["expires_at"]) <= utcnow():
            return None
        if await self.taken(doc["_id"]):
            return None
        return self._view(doc)

    def _view(self, doc: Mapping[str, Any]) -> OfferView:
        offer_uri = f"{self.issuer_id(doc['institution_id'])}/offers/{doc['offer_id']}"
        return OfferView(
            offer_id=doc["offer_id"],
            offer_uri=offer_uri,
            deep_link=f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_uri, safe='')}",
            tx_code=self._tx_code(doc["offer_id"]) if doc.get("with_tx_code") else None,
            expires_at=aware(doc["expires_at"]),
            configuration_id=doc["configuration_id"],
            exchange_url=self.exchange_url(doc["institution_id"], doc["offer_id"]),
            lcw_link=self.lcw_link(doc["institution_id"], doc["offer_id"]),
        )

    async def offer(self, institution_id: str, offer_id: str) -> dict[str, Any]:
        """The credential offer object behind ``credential_offer_uri`` (404 once unusable)."""
        doc = await self.offer_doc(institution_id, offer_id)
        if doc is None or aware(doc["expires_at"]) <= utcnow():
            raise WalletOfferNotFound("this credential offer is unknown or has expired")
        if await self.taken(doc["_id"]):
            raise WalletOfferNotFound("this credential offer was already taken")
        return credential_offer(
            self.issuer_id(institution_id),
            doc["configuration_id"],
            self._code(offer_id),
            with_tx_code=bool(doc.get("with_tx_code")),
        )

    # --- token endpoint -------------------------------------------------------------------------

    async def token(self, institution_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        """Trade a pre-authorized code (and its transaction code) for an access token, once."""
        if form.get("grant_type") != PRE_AUTHORIZED_GRANT:
            if not form.get("grant_type"):
                raise invalid_request("grant_type is required")
            raise WalletProtocolError(
                "unsupported_grant_type", "only the pre-authorized code grant is supported"
            )
        code = form.get("pre-authorized_code") or ""
        if not code or len(code) > 256:
            raise invalid_request("pre-authorized_code is required")
        key = _key(code)
        doc = await self._repo.offer(key)
        if doc is None or doc["institution_id"] != institution_id:
            raise invalid_grant("the pre-authorized code is unknown")
        if aware(doc["expires_at"]) <= utcnow():
            raise invalid_grant("the pre-authorized code has expired")
        if doc.get("with_tx_code"):
            await self._check_tx_code(key, doc, form.get("tx_code"))
        elif form.get("tx_code"):
            raise invalid_request("this offer has no transaction code")
        # An offer taken through its VC-API exchange is refused at the credential endpoint
        # (one delivery per offer); its offer URI is already gone, which hides the code.
        # The token carries its grant, MAC-signed (the offer's key is a hash: it reveals no
        # code), so the credential endpoint needs no read to know what it grants.
        now = utcnow()
        access_token = self._vault.wallet_access_token(
            WalletGrant(institution_id, doc["credential_id"], key, doc["configuration_id"]),
            ttl_s=self.config.token_ttl_s,
        )
        granted = await self._grants(
            {
                "_id": key,
                "institution_id": institution_id,
                "credential_id": doc["credential_id"],
                "configuration_id": doc["configuration_id"],
                "redeemed_at": now,
                "expires_at": now + timedelta(seconds=self.config.token_ttl_s),
                # Kept while the token or the offer lives (it marks the offer redeemed).
                "sweep_at": max(
                    aware(doc["expires_at"]), now + timedelta(seconds=self.config.token_ttl_s)
                ),
            }
        )
        if not granted:
            raise invalid_grant("the pre-authorized code was already used")
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.config.token_ttl_s,
        }

    async def _check_tx_code(self, key: str, offer: Mapping[str, Any], given: str | None) -> None:
        if not given:
            raise invalid_request("this offer needs its transaction code (tx_code)")
        limit = self.config.max_code_failures
        if await self._repo.failures_exhausted(key, limit):
            raise invalid_grant("too many wrong transaction codes: make a new offer")
        if not secrets.compare_digest(given.encode(), self._tx_code(offer["offer_id"]).encode()):
            await self._repo.add_failure(
                key, utcnow(), limit=limit, sweep_at=aware(offer["expires_at"])
            )
            raise invalid_grant("the transaction code is wrong")

    # --- nonce endpoint ------------------------------------------------------------------------

    async def nonce(self, institution_id: str) -> dict[str, Any]:
        """A fresh ``c_nonce`` for this institution's credential endpoint (no database read)."""
        await self._tenants.exists(institution_id)
        return {
            "c_nonce": self._vault.wallet_nonce(
                institution_id=institution_id, ttl_s=self.config.nonce_ttl_s
            )
        }

    # --- credential endpoint -------------------------------------------------------------------

    async def credential(
        self, institution_id: str, access_token: str | None, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Deliver the credential the access token was granted for, bound to the proof's key."""
        grant = self._grant(institution_id, access_token)
        configuration = self._requested(grant, body)
        jwt = _proof_jwt(body)
        proof = await verify_holder_proof(
            jwt, audience=self.issuer_id(institution_id), resolver=self._resolver
        )
        if proof.nonce is None:
            raise invalid_nonce("the proof carries no nonce: ask the nonce endpoint for one")
        if self._vault.read_wallet_nonce(proof.nonce) != institution_id:
            raise invalid_nonce("the proof's nonce is not a fresh c_nonce of this issuer")
        now = utcnow()
        # A nonce is made at most nonce_ttl_s before it is used: it has expired by then.
        spent_until = now + timedelta(seconds=self.config.nonce_ttl_s + 60)
        try:
            signed = await self.deliver(
                institution_id,
                grant.credential_id,
                delivery_key=grant.offer_key,
                holder_did=proof.holder_did,
                profile=configuration.profile,
                nonce=(_key(proof.nonce), now, spent_until),
            )
        except DeliveryRefused as refused:
            raise WalletProtocolError("credential_request_denied", str(refused)) from refused
        return {"credentials": [{"credential": signed}]}

    async def deliver(
        self,
        institution_id: str,
        credential_id: str,
        *,
        delivery_key: str,
        holder_did: str,
        profile: str,
        nonce: tuple[str, datetime, datetime] | None = None,
    ) -> dict[str, Any] | str:
        """Sign the learner's credential for ``holder_did``, at most once per offer.

        Every wallet protocol ends here: the proof's ``nonce`` (OpenID4VCI) is spent first (a
        second use fails, whoever races); the credential must be active and the institution
        allowed to issue; the delivery is reserved under the offer's key (a second one fails,
        whoever races), released if signing fails so the wallet may retry; taking it counts as
        the learner's acceptance. Concurrent deliveries are written together
        (:meth:`_deliver_group`), each with its own answer.

        Raises:
            WalletProtocolError: ``invalid_nonce``, the nonce was used before.
            DeliveryRefused: the credential is not active, the institution may not issue, or
                the offer already delivered.
        """
        order = _Order(institution_id, credential_id, delivery_key, holder_did, profile, nonce)
        return await self.deliveries(order)

    async def _deliver_group(
        self, orders: list[_Order]
    ) -> list[dict[str, Any] | str | BaseException]:
        """Deliver a group: one command per step for all (nonces, reservations, consents).

        The reads stay one per credential and institution (by primary key, in parallel: an
        ``$in`` on ``_id`` is a scan on FerretDB); signing goes to the worker processes in one
        slice per worker. Each order fails alone (its own exception) and what a failed one
        reserved is released.
        """
        answers: list[dict[str, Any] | str | BaseException | None] = [None] * len(orders)
        spending = [n for n, order in enumerate(orders) if order.nonce is not None]
        if spending:
            fresh = await self._repo.use_nonces(
                [nonce for n in spending if (nonce := orders[n].nonce) is not None]
            )
            for n, new in zip(spending, fresh, strict=True):
                if not new:
                    answers[n] = invalid_nonce(
                        "the proof's nonce was already used: ask for a new one"
                    )
        live = [n for n in range(len(orders)) if answers[n] is None]
        credentials = await asyncio.gather(
            *(
                self._credentials.get(orders[n].institution_id, orders[n].credential_id)
                for n in live
            )
        )
        institutions = list(dict.fromkeys(orders[n].institution_id for n in live))
        found = await asyncio.gather(
            *(self._tenants.get(i) for i in institutions), return_exceptions=True
        )
        tenants = dict(zip(institutions, found, strict=True))
        ready: list[tuple[int, dict[str, Any], Tenant]] = []
        for n, credential in zip(live, credentials, strict=True):
            tenant = tenants[orders[n].institution_id]
            if isinstance(tenant, BaseException):
                answers[n] = tenant
            elif credential is None or credential.get("status") != "active":
                answers[n] = DeliveryRefused("this credential is no longer active")
            elif tenant.status not in ("active", "pending"):
                answers[n] = DeliveryRefused("the institution may not issue at present")
            else:
                ready.append((n, credential, tenant))
        at = utcnow()
        claimed = await self._repo.claim_deliveries(
            [
                {
                    "_id": orders[n].delivery_key,
                    "institution_id": orders[n].institution_id,
                    "credential_id": orders[n].credential_id,
                    "holder": orders[n].holder_did,
                    "delivered_at": at,
                }
                for n, _, _ in ready
            ]
        )
        jobs: list[tuple[int, dict[str, Any], tuple[dict[str, Any], Any, str]]] = []
        for (n, credential, tenant), won in zip(ready, claimed, strict=True):
            if not won:
                answers[n] = DeliveryRefused("this offer already delivered its credential")
                continue
            order = orders[n]
            try:
                unsigned = bind_to_holder(
                    credential["document"], order.holder_did, tenant.active_key.did
                )
                validate_for_signing(unsigned, allow_status_array=True)
                key = self._tenants.signing_key(tenant, profile=order.profile)
            except Exception as exc:  # noqa: BLE001 - this order's error only
                answers[n] = exc
                await self._repo.release_delivery(order.delivery_key)
                continue
            jobs.append((n, credential, (unsigned, key, order.profile)))
        try:
            signed = await self._sign_many([job for _, _, job in jobs])
        except BaseException:
            for n, _, _ in jobs:
                await self._repo.release_delivery(orders[n].delivery_key)
            raise
        delivered: list[tuple[int, dict[str, Any]]] = []
        for (n, credential, _), result in zip(jobs, signed, strict=True):
            answers[n] = result
            if isinstance(result, BaseException):
                await self._repo.release_delivery(orders[n].delivery_key)
            else:
                delivered.append((n, credential))
        if delivered:
            try:
                await self._on_accepted_many([credential for _, credential in delivered])
            except Exception as exc:  # noqa: BLE001 - as one by one: the request fails
                for n, _ in delivered:
                    answers[n] = exc
        return [
            answer if answer is not None else RuntimeError("not delivered") for answer in answers
        ]

    def _grant(self, institution_id: str, access_token: str | None) -> WalletGrant:
        if not access_token or len(access_token) > 512:
            raise invalid_token("a Bearer access token is required")
        grant = self._vault.read_wallet_access_token(access_token)
        if grant is None:
            if self._vault.read_wallet_access_token(access_token, now=0) is not None:
                raise invalid_token("the access token has expired")
            raise invalid_token("the access token is unknown")
        if grant.institution_id != institution_id:
            raise invalid_token("the access token is unknown")
        return grant

    @staticmethod
    def _requested(grant: WalletGrant, body: Mapping[str, Any]) -> Any:
        wanted = body.get("credential_configuration_id") or body.get("credential_identifier")
        if wanted is None and isinstance(body.get("format"), str):
            # Earlier drafts named the format instead of the configuration.
            granted = BY_ID[grant.configuration_id]
            if body["format"] != granted.format:
                raise WalletProtocolError(
                    "unsupported_credential_format", "this offer is for another format"
                )
            return granted
        if wanted != grant.configuration_id:
            raise WalletProtocolError(
                "unknown_credential_configuration",
                "the access token was granted for another credential configuration",
            )
        return BY_ID[grant.configuration_id]


def _proof_jwt(body: Mapping[str, Any]) -> str:
    """The one JWT proof of a credential request (1.0 ``proofs``; earlier drafts' ``proof``)."""
    proofs, proof = body.get("proofs"), body.get("proof")
    if proofs is not None and proof is not None:
        raise WalletProtocolError(
            "invalid_credential_request", "send either proofs or proof, not both"
        )
    if isinstance(proofs, Mapping):
        jwts = proofs.get("jwt")
        if set(proofs) != {"jwt"} or not isinstance(jwts, list):
            raise invalid_proof("only jwt proofs are supported")
        if len(jwts) != 1:
            raise WalletProtocolError(
                "invalid_credential_request", "one proof per request: batches are not supported"
            )
        jwt = jwts[0]
    elif isinstance(proof, Mapping) and proof.get("proof_type") == "jwt":
        jwt = proof.get("jwt")
    else:
        raise invalid_proof("a jwt proof of possession is required")
    if not isinstance(jwt, str):
        raise invalid_proof("the proof must be a compact JWT string")
    return jwt
