"""The learner's side of a credential: page access, consent, shares and their receipts.

A learner reaches their page with a signed, expiring token (no account). From there they accept
or decline the credential, and once accepted make share links: each share serves either the
credential as issued or, when the learner withholds the result or the evidence, a derived
credential the institution signs at that moment (``derived.py``). The verifier resolves share
tokens through :meth:`LearnerService.resolve` and announces openings, which become receipts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sceau_credentials.engine import Profile
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.ob3 import validate_for_signing
from sceau_credentials.ob3.identity import normalize_email
from sceau_issuer.achievements.service import AchievementService
from sceau_issuer.errors import (
    ConsentRequired,
    LearnerFormInvalid,
    LearnerLinkInvalid,
    ShareGone,
    ShareNotFound,
)
from sceau_issuer.insights.service import InsightsService
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.issuing.selective import disclose
from sceau_issuer.learners.badge import inline_png
from sceau_issuer.learners.derived import derive, hidden_fields, unsigned_content
from sceau_issuer.learners.pdf import Certificate
from sceau_issuer.learners.repository import LearnerRepository
from sceau_issuer.learners.share_index_repository import MAX_SHARES_PER_CREDENTIAL, TooManyShares
from sceau_issuer.learners.tokens import new_share_id, plausible_share_token, share_key
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import Vault
from sceau_shared.events import (
    BilingualText,
    NotificationKind,
    NotificationRequestedV1,
    ShareOpenedV1,
    utcnow,
)

SignFn = Callable[
    [dict[str, Any], SigningKey | P256SigningKey, str], Awaitable[dict[str, Any] | str]
]

CONSENT_STATES = ("pending", "accepted", "declined")
LABEL_MAX = 80
PUBLIC_LABEL = "public"


@dataclass(frozen=True)
class LearnerConfig:
    """Settings the learner's side needs (passed in, never read globally)."""

    producer: str
    public_base_url: str
    verifier_public_url: str
    learner_link_ttl_s: int
    share_max_days: int


@dataclass(frozen=True)
class LearnerContext:
    """What a valid learner token opens: one credential of one institution."""

    institution_id: str
    credential_id: str
    credential: dict[str, Any]
    consent: dict[str, Any]

    @property
    def accepted(self) -> bool:
        """Whether the learner accepted the credential (sharing is allowed)."""
        return self.consent.get("state") == "accepted"

    @property
    def language(self) -> str:
        """The learner's language as recorded at issuance."""
        lang = (self.credential.get("recipient") or {}).get("language")
        return lang if lang in ("fr", "en") else "fr"


@dataclass(frozen=True)
class ShareView:
    """A share as the learner's page lists it (with its link, re-derived)."""

    share_id: str
    label: str
    url: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    hidden: list[str]
    notify_on_open: bool
    public: bool
    open_count: int
    last_opened_at: datetime | None

    def state(self, now: datetime) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and _aware(self.expires_at) <= now:
            return "expired"
        return "active"


def _aware(moment: datetime) -> datetime:
    # MongoDB returns naive UTC datetimes.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _optional(moment: datetime | None) -> datetime | None:
    return _aware(moment) if moment is not None else None


def consent_view(consent: dict[str, Any] | None) -> dict[str, Any]:
    """The consent as the issuer's API shows it (``pending`` until the learner answers)."""
    if consent is None:
        return {"state": "pending", "at": None}
    return {"state": consent["state"], "at": consent.get("at")}


class LearnerService:
    """Learner pages, consent, share links and opening receipts."""

    def __init__(
        self,
        *,
        config: LearnerConfig,
        repository: LearnerRepository,
        credentials: CredentialRepository,
        tenants: TenantService,
        vault: Vault,
        sign: SignFn,
        achievements: AchievementService | None = None,
        on_written: Callable[[str, str, list[dict[str, Any]]], None] = lambda kind, doc_id, e: None,
        insights: InsightsService | None = None,
    ) -> None:
        self._achievements = achievements
        self._insights = insights  # counts acceptances and first shares (aggregates only)
        # Tells the relay of a receipt or message just inserted with its outbox entries.
        self._on_written = on_written
        self.config = config
        self._repo = repository
        self._credentials = credentials
        self._tenants = tenants
        self._vault = vault
        self._sign = sign

    # --- links ---------------------------------------------------------------------------------

    def page_url(self, institution_id: str, credential_id: str) -> str:
        """A fresh learner page link for one credential (e-mailed; a bearer link)."""
        token = self._vault.learner_token(
            credential_id=credential_id,
            institution_id=institution_id,
            ttl_s=self.config.learner_link_ttl_s,
        )
        return f"{self.config.public_base_url.rstrip('/')}/learn/{token}"

    def share_url(self, share_id: str) -> str:
        """The public link of a share (served by the verifier)."""
        return (
            f"{self.config.verifier_public_url.rstrip('/')}/s/{self._vault.share_token(share_id)}"
        )

    # --- the page ------------------------------------------------------------------------------

    async def open(self, token: str) -> LearnerContext:
        """The credential a learner token opens; every failure is the same 404."""
        claims = self._vault.read_learner_token(token)
        if claims is None:
            raise LearnerLinkInvalid("this link is invalid or has expired")
        institution_id, credential_id = claims
        credential = await self._credentials.get(institution_id, credential_id)
        if credential is None or credential.get("document") is None:
            raise LearnerLinkInvalid("this link is invalid or has expired")
        consent = consent_view(await self._repo.consent(institution_id, credential_id))
        return LearnerContext(institution_id, credential_id, credential, consent)

    async def consent_of(self, institution_id: str, credential_id: str) -> dict[str, Any]:
        """The learner's consent about a credential, as the issuer's API shows it."""
        return consent_view(await self._repo.consent(institution_id, credential_id))

    async def set_consent(self, ctx: LearnerContext, state: str) -> None:
        """Record the learner's acceptance or refusal (they may change their mind)."""
        if state not in ("accepted", "declined"):
            raise LearnerFormInvalid(f"unknown consent {state!r}")
        await self._repo.set_consent(ctx.institution_id, ctx.credential_id, state, utcnow())
        if state == "accepted" and self._insights is not None:
            await self._insights.accepted(ctx.institution_id, ctx.credential_id)

    # --- shares --------------------------------------------------------------------------------

    async def create_share(
        self,
        ctx: LearnerContext,
        *,
        label: str,
        expires_in_days: int | None,
        hide_result: bool = False,
        hide_evidence: bool = False,
        notify_on_open: bool = False,
        public: bool = False,
        for_pdf: bool = False,
    ) -> ShareView:
        """Make a share link; hidden fields get a derived disclosure or derived credential.

        A credential issued with an ``ecdsa-sd-2023`` base copy (the institution chose selective
        disclosure) is shared as a disclosure derived from it; any other gets an issuer-signed
        derived credential (``learners/derived.py``).
        """
        if not ctx.accepted:
            raise ConsentRequired("accept the credential before sharing it")
        label = label.strip()
        if not label or len(label) > LABEL_MAX:
            raise LearnerFormInvalid(f"a label of 1 to {LABEL_MAX} characters is required")
        if expires_in_days is not None and not 1 <= expires_in_days <= self.config.share_max_days:
            raise LearnerFormInvalid(f"expiry must be 1 to {self.config.share_max_days} days")
        hidden = hidden_fields(hide_result=hide_result, hide_evidence=hide_evidence)
        document = ctx.credential["document"]
        derived_id: str | None = None
        base = ctx.credential.get("sd_document")
        if hidden and isinstance(base, dict):
            # Selective disclosure (issuing/selective.py): the original, minus what is withheld,
            # under the institution's ecdsa-sd-2023 signature made at issuance.
            document = await asyncio.to_thread(disclose, base, hidden)
        elif hidden:
            derived_id = f"urn:uuid:{uuid.uuid4()}"
            document = await self._derived(ctx, hidden, derived_id)
        now = utcnow()
        share_id = new_share_id()
        doc: dict[str, Any] = {
            "_id": share_key(self._vault.share_token(share_id)),
            "share_id": share_id,
            "institution_id": ctx.institution_id,
            "credential_id": ctx.credential_id,
            "label": label,
            "created_at": now,
            "expires_at": now + timedelta(days=expires_in_days) if expires_in_days else None,
            "revoked_at": None,
            "hidden": hidden,
            "notify_on_open": notify_on_open,
            "public": public,
            "for_pdf": for_pdf,
            "derived_id": derived_id,
            "document": document,
        }
        try:
            await self._repo.insert_share(doc)
        except TooManyShares:
            raise LearnerFormInvalid(
                f"Ce titre a déjà {MAX_SHARES_PER_CREDENTIAL} liens de partage : révoquez-en un. / "
                f"This credential already has {MAX_SHARES_PER_CREDENTIAL} share links: revoke one."
            ) from None
        if self._insights is not None:
            await self._insights.shared(ctx.institution_id, ctx.credential_id, derived_id)
        return self._view(doc, (0, None))

    async def _derived(
        self, ctx: LearnerContext, hidden: list[str], derived_id: str
    ) -> dict[str, Any] | str:
        tenant: Tenant = await self._tenants.get(ctx.institution_id)
        profile = str(ctx.credential.get("profile") or Profile.OB3_V2.value)
        key = self._tenants.signing_key(tenant, profile=profile)
        unsigned = derive(
            ctx.credential["document"],
            hidden=hidden,
            new_id=derived_id,
            issuer_did=tenant.active_key.did,
        )
        # The derived copy carries the original's status entries: two (revocation and
        # suspension) only when the original was issued while the institution had suspension on;
        # for that credential alone the schema's single-entry rule is lifted, by name.
        validate_for_signing(
            unsigned, allow_status_array="suspension" in ctx.credential.get("status_lists", {})
        )
        return await self._sign(unsigned, key, profile)

    async def shares(self, ctx: LearnerContext) -> list[ShareView]:
        """The credential's shares with their opening counts."""
        docs = await self._repo.shares_of(ctx.institution_id, ctx.credential_id)
        counts = await self._repo.openings([d["share_id"] for d in docs])
        return [self._view(d, counts.get(d["share_id"], (0, None))) for d in docs]

    async def share(self, ctx: LearnerContext, share_id: str) -> ShareView:
        """One share of the learner's credential (404 otherwise)."""
        doc = await self._repo.share_of(ctx.institution_id, ctx.credential_id, share_id)
        if doc is None:
            raise ShareNotFound("no such share")
        counts = await self._repo.openings([share_id])
        return self._view(doc, counts.get(share_id, (0, None)))

    async def revoke_share(self, ctx: LearnerContext, share_id: str) -> None:
        """Revoke one share (revoking twice changes nothing)."""
        await self.share(ctx, share_id)
        await self._repo.revoke_share(ctx.institution_id, ctx.credential_id, share_id, utcnow())

    def _view(self, doc: dict[str, Any], counts: tuple[int, datetime | None]) -> ShareView:
        return ShareView(
            share_id=doc["share_id"],
            label=doc["label"],
            url=self.share_url(doc["share_id"]),
            created_at=_aware(doc["created_at"]),
            expires_at=_aware(doc["expires_at"]) if doc.get("expires_at") else None,
            revoked_at=_aware(doc["revoked_at"]) if doc.get("revoked_at") else None,
            hidden=list(doc.get("hidden") or []),
            notify_on_open=bool(doc.get("notify_on_open")),
            public=bool(doc.get("public")),
            open_count=counts[0],
            last_opened_at=_aware(counts[1]) if counts[1] else None,
        )

    # --- what the verifier asks ----------------------------------------------------------------

    async def resolve(self, token: str) -> dict[str, Any]:
        """The shared document for a share token (the verifier's ``GET /v1/shares/{token}``).

        Unknown tokens and credentials the learner has not accepted (or no longer accepts) are
        the same 404; a revoked or expired share is a 410 saying which.
        """
        if not plausible_share_token(token):
            raise ShareNotFound("unknown share")
        doc = await self._repo.share_by_key(share_key(token))
        if doc is None:
            raise ShareNotFound("unknown share")
        consent = await self._repo.consent(doc["institution_id"], doc["credential_id"])
        if consent_view(consent)["state"] != "accepted":
            raise ShareNotFound("unknown share")
        if await self._credentials.get(doc["institution_id"], doc["credential_id"]) is None:
            raise ShareNotFound("unknown share")
        if doc.get("revoked_at") is not None:
            raise ShareGone("this share was revoked", extra={"reason": "revoked"})
        expires = doc.get("expires_at")
        if expires is not None and _aware(expires) <= utcnow():
            raise ShareGone("this share has expired", extra={"reason": "expired"})
        return {
            "share_id": doc["share_id"],
            "institution_id": doc["institution_id"],
            "credential_id": f"urn:uuid:{doc['credential_id']}",
            "expires_at": _aware(expires).isoformat() if expires else None,
            "hidden": list(doc.get("hidden") or []),
            "document": doc["document"],
        }

    # --- the PDF certificate -------------------------------------------------------------------

    async def certificate(self, ctx: LearnerContext) -> Certificate:
        """What the PDF certificate says; its QR code opens a share made for the PDF.

        The share is made once (no expiry; the learner sees and may revoke it like any other);
        before the learner accepts the credential the PDF has no link, only the attached file.
        """
        tenant = await self._tenants.get(ctx.institution_id)
        credential = ctx.credential
        names = {"fr": "", "en": ""}
        descriptions: dict[str, str] = {}
        competencies: list[dict[str, str]] = []
        hours: float | None = None
        badge: bytes | None = None
        if self._achievements is not None:
            pinned = await self._achievements.pinned(
                tenant, credential["achievement_id"], credential["achievement_version"]
            )
            names = dict(pinned.engine.name)
            descriptions = dict(pinned.engine.description)
            competencies = [dict(c.name) for c in pinned.engine.competencies]
            hours = pinned.engine.hours
            badge = inline_png(pinned.engine.image_url)
        else:
            name = _achievement_name(credential)
            names = {"fr": name.fr, "en": name.en}
        verify_url = None
        if ctx.accepted:
            share = await self._repo.pdf_share(ctx.institution_id, ctx.credential_id)
            if share is not None:
                verify_url = self.share_url(share["share_id"])
            else:
                made = await self.create_share(ctx, label="PDF", expires_in_days=None, for_pdf=True)
                verify_url = made.url
        recipient = credential.get("recipient") or {}
        return Certificate(
            learner_name=recipient.get("name"),
            language=ctx.language,
            institution=tenant.name.model_dump(),
            achievement=names,
            description=descriptions,
            competencies=competencies,
            hours=hours,
            issued_at=_aware(credential["issued_at"]),
            valid_until=_aware(credential["valid_until"])
            if credential.get("valid_until")
            else None,
            credential_id=f"urn:uuid:{ctx.credential_id}",
            verify_url=verify_url,
            signed=credential["document"],
            badge_png=badge,
        )

    async def badge_image(self, ctx: LearnerContext) -> bytes | None:
        """The achievement's inline PNG image, if it has one (what a baked badge is made of)."""
        if self._achievements is None:
            return None
        tenant = await self._tenants.get(ctx.institution_id)
        pinned = await self._achievements.pinned(
            tenant, ctx.credential["achievement_id"], ctx.credential["achievement_version"]
        )
        return inline_png(pinned.engine.image_url)

    # --- e-mails the learner asks for -----------------------------------------------------------

    async def email_share(self, ctx: LearnerContext, share_id: str, to: str) -> None:
        """E-mail an active share's link to someone (an employer) in the learner's name.

        The learner's label stays private (it names the recipient for the learner only).
        """
        share = await self.share(ctx, share_id)
        if share.state(utcnow()) != "active":
            raise ShareGone("this share no longer opens", extra={"reason": share.state(utcnow())})
        recipient = ctx.credential.get("recipient") or {}
        try:
            event = await self.notification(
                ctx.credential,
                NotificationKind.SHARED,
                recipient_email=to,
                recipient_name=None,
                learner_page_url=None,
                share_url=share.url,
                sender_name=recipient.get("name") or None,
                share_expires_at=share.expires_at,
            )
        except ValueError as error:
            raise LearnerFormInvalid("a valid e-mail address is required") from error
        await self._send(event)

    async def send_new_links(self, email: str) -> int:
        """E-mail a fresh page link for every credential issued to ``email``; return how many.

        Credentials are found through the contact index (a keyed hash of the address), never
        by scanning; the caller answers the same whatever the count.
        """
        key = self._vault.contact_key(normalize_email(email))
        sent = 0
        for institution_id, credential_id in await self._repo.contacts(key):
            credential = await self._credentials.get(institution_id, credential_id)
            if credential is None or credential.get("document") is None:
                continue
            await self._send(await self.notification(credential, NotificationKind.LEARNER_LINK))
            sent += 1
        return sent

    async def index_contact(self, event: NotificationRequestedV1) -> None:
        """Index an issued credential under its learner's hashed address (idempotent)."""
        if event.kind is not NotificationKind.ISSUED:
            return
        await self._repo.add_contact(
            self._vault.contact_key(normalize_email(str(event.recipient_email))),
            event.institution_id,
            event.credential_id.removeprefix("urn:uuid:"),
        )

    async def index_contacts(
        self, events: Sequence[NotificationRequestedV1], *, deadline_s: float | None = None
    ) -> None:
        """Index a consumed batch of notification requests, as :meth:`index_contact` each.

        The learners' first credentials take one insert for the batch (the issuer's consumer);
        ``deadline_s`` bounds the database calls (the consumer's handler deadline).
        """
        await self._repo.add_contacts(
            deadline_s=deadline_s,
            entries=[
                (
                    self._vault.contact_key(normalize_email(str(event.recipient_email))),
                    event.institution_id,
                    event.credential_id.removeprefix("urn:uuid:"),
                )
                for event in events
                if event.kind is NotificationKind.ISSUED
            ],
        )

    async def _send(self, event: NotificationRequestedV1) -> None:
        message_id = str(uuid.uuid4())
        entries = await self._repo.add_message(message_id, event.kind.value, utcnow(), event)
        self._on_written("message", message_id, entries)

    # --- receipts ------------------------------------------------------------------------------

    async def record_opening(self, event: ShareOpenedV1) -> None:
        """Count one opening (idempotent on the event id) and send the receipt if asked."""
        share = await self._repo.share_by_id(event.share_id)
        if share is None or share["institution_id"] != event.institution_id:
            return
        events = []
        if share.get("notify_on_open"):
            events.append(await self._receipt_mail(share, event.opened_at))
        entries = await self._repo.add_receipt(
            str(event.event_id), event.share_id, event.opened_at, [e for e in events if e]
        )
        if entries:
            self._on_written("receipt", str(event.event_id), entries)

    async def _receipt_mail(
        self, share: dict[str, Any], opened_at: datetime
    ) -> NotificationRequestedV1 | None:
        credential = await self._credentials.get(share["institution_id"], share["credential_id"])
        if credential is None:
            return None
        return await self.notification(
            credential,
            NotificationKind.SHARE_OPENED,
            opened_at=opened_at,
            share_label=share["label"],
            share_url=self.share_url(share["share_id"]),
        )

    async def notification(
        self, credential: dict[str, Any], kind: NotificationKind, **fields: Any
    ) -> NotificationRequestedV1:
        """A notification about a credential, addressed to its learner unless told otherwise."""
        tenant = await self._tenants.get(credential["institution_id"])
        recipient = credential.get("recipient") or {}
        name = _achievement_name(credential)
        values: dict[str, Any] = {
            "producer": self.config.producer,
            "kind": kind,
            "credential_id": f"urn:uuid:{credential['_id']}",
            "institution_id": credential["institution_id"],
            "recipient_email": recipient.get("email"),
            "recipient_name": recipient.get("name"),
            "language": recipient.get("language")
            if recipient.get("language") in ("fr", "en")
            else "fr",
            "institution_name": tenant.name,
            "institution_contact": tenant.contact_email,
            "achievement_name": name,
            "issued_at": _aware(credential["issued_at"]),
            "valid_until": _aware(credential["valid_until"])
            if credential.get("valid_until")
            else None,
            "learner_page_url": self.page_url(credential["institution_id"], credential["_id"]),
        }
        values.update(fields)
        return NotificationRequestedV1(**values)


def _achievement_name(credential: dict[str, Any]) -> BilingualText:
    """The achievement's name in both languages, from the signed credential."""
    document = credential.get("document")
    subject: dict[str, Any] = {}
    if isinstance(document, dict):
        subject = document.get("credentialSubject") or {}
    elif isinstance(document, str):
        subject = unsigned_content(document).get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    name = achievement.get("name")
    if isinstance(name, dict):
        return BilingualText.of(name)
    text = str(name or "")
    return BilingualText(fr=text, en=text)
