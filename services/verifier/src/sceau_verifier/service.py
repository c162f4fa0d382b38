"""Verification use case: run the engine, explain the answer, summarise it, report it.

The engine (``sceau_credentials``) decides; this module turns its result into the public
answer: reasons in the asked language, warnings a human should see (the registry's name for a
DID against the name the credential claims), the display summary, and one
``VerificationCompletedV1`` per verification without personal data.

No FastAPI, FastStream or pymongo here: the composition root passes in the engine call, the
registry client and the event sink.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import uuid4

from sceau_credentials.ob3.fields import as_list, id_of
from sceau_credentials.results import (
    PROBLEM_CODES,
    Check,
    CheckName,
    CheckStatus,
    VerificationResult,
)
from sceau_shared.events import VerificationCompletedV1, VerificationOutcome
from sceau_shared.events.envelope import capture_trace_context, utcnow
from sceau_verifier.documents import credential_id_hash, jwt_credential
from sceau_verifier.errors import RegistryUnavailable
from sceau_verifier.i18n import text
from sceau_verifier.refresh import RefreshFailed, refresh_url
from sceau_verifier.registry import IssuerRecord, RegistryClient
from sceau_verifier.reports import ReportSender
from sceau_verifier.schemas import CheckOut, EndorsementOut, Lang, VerifyResponse, WarningOut
from sceau_verifier.summary import build_summary, localized
from sceau_verifier.supersession import Supersession

__all__ = [
    "EngineCall",
    "EventBudget",
    "IssuerLookups",
    "RefreshFetcher",
    "SupersessionLookup",
    "VerificationService",
    "Verified",
]

_log = logging.getLogger(__name__)


class IssuerLookups(Protocol):
    """What a trust adapter remembers of the registry answers it used for one verification."""

    @property
    def records(self) -> Sequence[IssuerRecord]: ...


class SupersessionLookup(Protocol):
    """Which credential replaces a credential, if its issuer re-issued it (supersession.py)."""

    async def lookup(self, credential_id: str | None, issuer: str) -> Supersession | None: ...


class RefreshFetcher(Protocol):
    """Fetches what a credential's refresh service serves (refresh.py)."""

    async def fetch(self, url: str) -> Mapping[str, Any] | str: ...


class EndorsementCheck(Protocol):
    """Checks the endorsements a credential carries (endorsements.py)."""

    async def check(
        self, credential: Mapping[str, Any], *, lang: Lang, now: datetime
    ) -> list[EndorsementOut]: ...


class EngineCall(Protocol):
    """One engine verification, with this request's trust adapter (records its lookups)."""

    def __call__(
        self,
        document: Mapping[str, Any] | str,
        *,
        challenge: str | None,
        domain: str | None,
        now: datetime,
    ) -> Awaitable[tuple[VerificationResult, IssuerLookups]]: ...


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _claimed_names(credential: Mapping[str, Any]) -> list[str]:
    issuer = credential.get("issuer")
    if not isinstance(issuer, Mapping):
        return []
    raw = issuer.get("name")
    names = [n for n in (localized(raw, "fr"), localized(raw, "en")) if n]
    return list(dict.fromkeys(names))


def _check_out(check: Check, lang: Lang) -> CheckOut:
    return CheckOut(
        name=check.name.value,
        status=check.status.value,
        required=check.required,
        problem_type=check.problem_type,
        code=PROBLEM_CODES.get(check.problem_type or ""),
        reason=check.reason(lang),
        reason_fr=check.reason_fr,
        reason_en=check.reason_en,
        details=check.details,
    )


def _warning(
    code: str, lang: Lang, problem_type: str | None = None, **values: object
) -> WarningOut:
    return WarningOut(
        code=code,
        problem_type=problem_type,
        message=text(code, lang, **values),
        message_fr=text(code, "fr", **values),
        message_en=text(code, "en", **values),
    )


@dataclass
class _Context:
    """What one request learned that its answer is built from."""

    records: dict[str, IssuerRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class Verified:
    """An explained answer and the events that report it (not yet published).

    Attributes:
        answer: the public answer.
        reports: one ``VerificationCompletedV1`` per verified credential (none when the
            service publishes nothing).
    """

    answer: VerifyResponse
    reports: tuple[VerificationCompletedV1, ...]


class EventBudget:
    """How many ``VerificationCompletedV1`` one request may still produce.

    One batch request of 100 presentations can hold thousands of credentials; without a bound
    each became an event (and, downstream, work for the notifier). Past the budget the
    request's verifications are answered as usual but not reported.
    """

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.dropped = 0

    def take(self, events: Sequence[VerificationCompletedV1]) -> list[VerificationCompletedV1]:
        """The first events that fit; the rest are counted in ``dropped``."""
        kept = list(events[: max(self.left, 0)])
        self.left -= len(kept)
        self.dropped += len(events) - len(kept)
        return kept


def _again(event: VerificationCompletedV1) -> VerificationCompletedV1:
    """``event``'s facts as a new event (own id, creation time and trace context)."""
    return event.model_copy(
        update={
            "event_id": uuid4(),
            "occurred_at": utcnow(),
            "trace_context": capture_trace_context(),
        }
    )


def _timeout_result(seconds: float) -> VerificationResult:
    return VerificationResult(
        checks=(
            Check.inconclusive(
                CheckName.PROOF,
                None,
                f"Verification did not finish within {seconds:g} s; nothing is confirmed.",
                f"La vérification n'a pas abouti en {seconds:g} s; rien n'est confirmé.",
            ),
        )
    )


class VerificationService:
    """Verify submissions and build the public answers.

    Args:
        engine: the engine call (resolver, status checker and trust already bound).
        registry: registry client, for the institution's name and today's status.
        reports: queue for ``VerificationCompletedV1`` (``None`` to publish nothing).
        timeout_s: deadline of one verification, all outbound calls included.
        events_per_request: events one request may report at most (see :class:`EventBudget`).
        producer: producer name written in events.
        clock: current time (injectable).
        supersession: asks the issuer which credential replaces a re-issued one (``None``: the
            answer never carries ``superseded_by``).
        refresh: follows ``1EdTechCredentialRefresh`` services (``None``: never followed).
        endorsements: checks embedded endorsements (``None``: the answer lists none).
    """

    def __init__(
        self,
        engine: EngineCall,
        registry: RegistryClient | None,
        *,
        reports: ReportSender | None,
        timeout_s: float,
        producer: str,
        events_per_request: int = 100,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        supersession: SupersessionLookup | None = None,
        refresh: RefreshFetcher | None = None,
        endorsements: EndorsementCheck | None = None,
    ) -> None:
        self._events_per_request = events_per_request
        self._endorsements = endorsements
        self._engine = engine
        self._supersession = supersession
        self._refresh = refresh
        self._registry = registry
        self._reports = reports
        self._timeout_s = timeout_s
        self._producer = producer
        self._clock = clock

    async def verify(
        self,
        document: Mapping[str, Any] | str,
        *,
        lang: Lang,
        challenge: str | None = None,
        domain: str | None = None,
        budget: EventBudget | None = None,
    ) -> VerifyResponse:
        """Verify one credential or presentation, explain the answer in ``lang``, report it.

        ``budget`` is the request's (a batch shares one); by default each call has its own.
        """
        reported = await self.verify_reported(
            document, lang=lang, challenge=challenge, domain=domain, budget=budget
        )
        return reported.answer

    async def verify_reported(
        self,
        document: Mapping[str, Any] | str,
        *,
        lang: Lang,
        challenge: str | None = None,
        domain: str | None = None,
        budget: EventBudget | None = None,
    ) -> Verified:
        """Like :meth:`verify`, returning the answer with the events reported for it.

        The events are what :meth:`report_again` publishes anew when the answer is kept and
        served once more (``POST /v1/verify``'s kept answers).
        """
        verified = await self.check(document, lang=lang, challenge=challenge, domain=domain)
        budget = budget or self.budget()
        taken = tuple(budget.take(verified.reports))
        self.report(taken)
        if budget.dropped:
            _log.debug("verification events over the request's budget: %d", budget.dropped)
        return Verified(verified.answer, taken)

    def budget(self) -> EventBudget:
        """A fresh per-request event budget."""
        return EventBudget(self._events_per_request)

    async def check(
        self,
        document: Mapping[str, Any] | str,
        *,
        lang: Lang,
        challenge: str | None = None,
        domain: str | None = None,
    ) -> Verified:
        """Verify and explain like :meth:`verify`, leaving the events to the caller.

        The share page keeps an answer for a couple of seconds and reports each opening it
        serves (:meth:`report_again`); everything else calls :meth:`verify`.
        """
        now = self._clock()
        context = _Context()
        try:
            async with asyncio.timeout(self._timeout_s):
                result, lookups = await self._engine(
                    document, challenge=challenge, domain=domain, now=now
                )
            for record in lookups.records:
                context.records[record.did] = record
        except TimeoutError:
            _log.warning("verification timed out after %s s", self._timeout_s)
            result = _timeout_result(self._timeout_s)
        response = await self._answer(document, result, context, lang=lang, now=now)
        reports = tuple(self._events(document, result, now)) if self._reports is not None else ()
        return Verified(response, reports)

    def report(self, events: Sequence[VerificationCompletedV1]) -> None:
        """Queue ``events`` for publication (never waits: see reports.py)."""
        if self._reports is not None:
            for event in events:
                self._reports.offer(event)

    def report_again(self, events: Sequence[VerificationCompletedV1]) -> None:
        """Report a kept answer served once more: the same facts as new events.

        Each opening is a verification for the institution's statistics and webhooks, so it
        gets its own ``event_id``, creation time and trace context; ``verified_at`` stays the
        moment the served answer was computed (the time the answer itself shows).
        """
        self.report([_again(event) for event in events])

    async def _answer(
        self,
        document: Mapping[str, Any] | str,
        result: VerificationResult,
        context: _Context,
        *,
        lang: Lang,
        now: datetime,
        follow_refresh: bool = True,
    ) -> VerifyResponse:
        credential = jwt_credential(document) if isinstance(document, str) else document
        inner: list[VerifyResponse] = []
        if result.is_presentation and credential is not None:
            embedded = as_list(credential.get("verifiableCredential"))
            for position, sub in enumerate(result.credentials):
                item = embedded[position] if position < len(embedded) else None
                sub_doc = item if isinstance(item, Mapping | str) else None
                inner.append(
                    await self._answer(
                        sub_doc or {},
                        sub,
                        context,
                        lang=lang,
                        now=now,
                        follow_refresh=follow_refresh,
                    )
                )
        warnings = [
            WarningOut(
                code="engine",
                problem_type=w.problem_type,
                message=w.message_fr if lang == "fr" else w.message_en,
                message_fr=w.message_fr,
                message_en=w.message_en,
            )
            for w in result.warnings
        ]
        summary = None
        endorsements: list[EndorsementOut] = []
        superseded: Supersession | None = None
        refreshed: VerifyResponse | None = None
        if credential is not None and not result.is_presentation:
            record = self._record_for(credential, context)
            warnings.extend(self._issuer_warnings(credential, record, lang))
            warnings.extend(await self._current_status_warning(record, result, lang, now))
            if credential.get("credentialStatus") is None and result.check(CheckName.PROOF):
                warnings.append(_warning("warn_no_status", lang))
            fmt = result.credential.format if result.credential is not None else None
            summary = build_summary(credential, lang=lang, record=record, fmt=fmt)
            endorsements = await self._endorsed(credential, result, lang, now)
            superseded = await self._superseded(credential, result, record)
            if superseded is not None:
                code = "warn_superseded_revoked" if superseded.revoked else "warn_superseded"
                warnings.append(_warning(code, lang, by=superseded.superseded_by))
            if follow_refresh and self._authentic(result, record):
                refreshed = await self._refreshed(credential, record, context, lang, now, warnings)
        return VerifyResponse(
            verified=result.verified,
            outcome=result.outcome.value,
            lang=lang,
            verified_at=now,
            checks=[_check_out(c, lang) for c in result.checks],
            warnings=warnings,
            summary=summary,
            endorsements=endorsements,
            superseded_by=superseded.superseded_by if superseded is not None else None,
            refreshed=refreshed,
            credentials=inner,
        )

    async def _endorsed(
        self, credential: Mapping[str, Any], result: VerificationResult, lang: Lang, now: datetime
    ) -> list[EndorsementOut]:
        """Each embedded endorsement checked on its own, when the credential's proof passed.

        A forged credential's endorsements say nothing about it, so they are not checked (and
        cost no registry request). Checking stays within the verification's deadline: past it,
        the answer lists none rather than waiting.
        """
        proof = result.check(CheckName.PROOF)
        if self._endorsements is None or proof is None or proof.status is not CheckStatus.PASSED:
            return []
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._endorsements.check(credential, lang=lang, now=now)
        except TimeoutError:
            _log.warning("endorsement checks timed out after %s s", self._timeout_s)
            return []

    async def _superseded(
        self,
        credential: Mapping[str, Any],
        result: VerificationResult,
        record: IssuerRecord | None,
    ) -> Supersession | None:
        """Ask the issuer about a re-issue, for authentic credentials of registered issuers only.

        A forgery names whatever id it likes: only a valid proof by a registered institution
        makes the credential's id worth asking about (and the answer must name that issuer).
        """
        if self._supersession is None or record is None or not self._authentic(result, record):
            return None
        return await self._supersession.lookup(id_of(credential.get("id")), record.did)

    @staticmethod
    def _authentic(result: VerificationResult, record: IssuerRecord | None) -> bool:
        """A valid proof by an institution the registry knows: worth a request on its behalf."""
        proof = result.check(CheckName.PROOF)
        return (
            proof is not None
            and proof.status is CheckStatus.PASSED
            and record is not None
            and record.registered
        )

    async def _refreshed(
        self,
        credential: Mapping[str, Any],
        record: IssuerRecord | None,
        context: _Context,
        lang: Lang,
        now: datetime,
        warnings: list[WarningOut],
    ) -> VerifyResponse | None:
        """Follow the credential's refresh service once and verify what it serves.

        The refreshed credential counts only when the same institution signed it; its own
        refresh service is not followed. Failures are told as a warning, never as an error.
        """
        url = refresh_url(credential)
        if self._refresh is None or url is None or record is None:
            return None
        try:
            fetched = await self._refresh.fetch(url)
        except RefreshFailed as exc:
            _log.info("refresh service not usable: %s", exc)
            warnings.append(_warning("warn_refresh_failed", lang))
            return None
        try:
            async with asyncio.timeout(self._timeout_s):
                result, lookups = await self._engine(fetched, challenge=None, domain=None, now=now)
            for found in lookups.records:
                context.records[found.did] = found
        except TimeoutError:
            result = _timeout_result(self._timeout_s)
        refreshed = jwt_credential(fetched) if isinstance(fetched, str) else fetched
        signer = id_of(refreshed.get("issuer")) if refreshed is not None else None
        if result.is_presentation or (signer or "").split("#")[0] != record.did:
            warnings.append(_warning("warn_refresh_other_issuer", lang))
            return None
        answer = await self._answer(
            fetched, result, context, lang=lang, now=now, follow_refresh=False
        )
        warnings.append(_warning(f"warn_refreshed_{answer.outcome}", lang))
        return answer

    @staticmethod
    def _record_for(credential: Mapping[str, Any], context: _Context) -> IssuerRecord | None:
        did = id_of(credential.get("issuer"))
        return context.records.get(did) if did else None

    @staticmethod
    def _issuer_warnings(
        credential: Mapping[str, Any], record: IssuerRecord | None, lang: Lang
    ) -> list[WarningOut]:
        claimed = _claimed_names(credential)
        if not claimed or record is None:
            return []
        if not record.registered:
            return [_warning("warn_unregistered_name", lang, claimed=claimed[0])]
        registered = [n for n in record.name.values() if n]
        if not registered:
            return []
        folded = {_fold(n) for n in registered}
        for name in claimed:
            if _fold(name) not in folded:
                shown = record.display_name(lang) or registered[0]
                return [_warning("warn_name_mismatch", lang, claimed=name, registered=shown)]
        return []

    async def _current_status_warning(
        self, record: IssuerRecord | None, result: VerificationResult, lang: Lang, now: datetime
    ) -> list[WarningOut]:
        issuer_check = result.check(CheckName.ISSUER)
        if (
            self._registry is None
            or record is None
            or not record.registered
            or issuer_check is None
            or issuer_check.status is not CheckStatus.PASSED
        ):
            return []
        try:
            today = await self._registry.issuer(record.did, at=None, verification_method=None)
        except RegistryUnavailable:
            return []
        if today.status and today.status != "active":
            return [_warning("warn_issuer_inactive_now", lang, status=today.status)]
        return []

    def _events(
        self, document: Mapping[str, Any] | str, result: VerificationResult, now: datetime
    ) -> list[VerificationCompletedV1]:
        """One event per verified credential (each credential of a presentation)."""
        credential = jwt_credential(document) if isinstance(document, str) else document
        if result.is_presentation:
            embedded = as_list(credential.get("verifiableCredential")) if credential else []
            events: list[VerificationCompletedV1] = []
            for position, inner in enumerate(result.credentials):
                item = embedded[position] if position < len(embedded) else None
                if isinstance(item, Mapping | str):
                    events.extend(self._events(item, inner, now))
            return events
        summary = result.credential
        achievement_id = summary.achievement_id if summary is not None else None
        issuer = summary.issuer_id if summary is not None else None
        if credential is not None:
            issuer = issuer or id_of(credential.get("issuer"))
        # The engine passes the proof only when the signing key's controller is the issuer:
        # then, and only then, is the verification the issuer's (an unsigned document naming
        # an institution's DID is not).
        proof = result.check(CheckName.PROOF)
        proven = bool(
            proof is not None
            and proof.status is CheckStatus.PASSED
            and issuer
            and issuer.startswith("did:")
        )
        return [
            VerificationCompletedV1(
                producer=self._producer,
                credential_id_hash=credential_id_hash(document),
                issuer_did=issuer if proven else None,
                issuer_proven=proven,
                achievement_id=achievement_id,
                outcome=VerificationOutcome(result.outcome.value),
                failed_checks=result.failed_checks,
                verified_at=now,
            )
        ]

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for queued event publications (called at shutdown)."""
        if self._reports is not None:
            await self._reports.drain(timeout_s)
