"""Series storage and the completion rule that issues the overall credential exactly once.

The award step runs after a component is stored (single issue or batch chunk). So that a failure
there (a database outage, a signer error, the process dying) does not lose the overall credential
for good, a pending-award marker per learner is written before the step and removed after it
(``series_awards``); a marker left behind is retried by :meth:`SeriesService.run` once it is
``AWARD_RETRY_AFTER`` old, until the step succeeds. Retrying is harmless: the overall credential
is issued under one idempotency key per series and learner. (Batches also keep the step due on
the chunk itself, written with the chunk: ``issuing/batches.py``.)
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sceau_credentials.ob3 import Evidence
from sceau_credentials.ob3.identity import normalize_email
from sceau_issuer.errors import (
    AchievementNotFound,
    AlreadyIssued,
    IdempotencyMismatch,
    NotAccredited,
    PrerequisiteMissing,
    SeriesNotFound,
)
from sceau_issuer.issuing.group_commit import IssueCollector
from sceau_issuer.issuing.schemas import IssueRequest, RecipientInput
from sceau_issuer.issuing.service import IssuingService
from sceau_issuer.series.holdings import Holdings
from sceau_issuer.series.repository import PendingAwards, SeriesRepository, award_id
from sceau_issuer.series.schemas import SeriesInput, complete
from sceau_issuer.tenants.models import Tenant
from sceau_shared.events import utcnow

_log = logging.getLogger(__name__)

AWARD_RETRY_AFTER = timedelta(seconds=30)
"""Age after which a pending-award marker is taken as a failed (or abandoned) award step."""

AWARD_SWEEP_S = 15.0
"""How often pending-award markers are looked at."""

_STEPS_IN_FLIGHT = 2
"""Groups of award steps written at once (the next one forms while they run)."""

_CHECKS_IN_FLIGHT = 32
"""Learners of one award step checked at once (a batch chunk's step has hundreds)."""


@dataclass(eq=False)
class _Step:
    """One caller's award step, waiting for its group."""

    institution_id: str
    achievement_id: str
    all_series: list[dict[str, Any]]
    recipients: list[dict[str, Any]]
    keyed: list[tuple[dict[str, Any], str]]
    future: asyncio.Future[list[dict[str, Any]]]
    # The caller's context (its trace, its request deadline): its overall credentials are
    # issued in it, as when each request ran its own step.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)


class SeriesService:
    """Series of one issuer database; every query names the tenant."""

    def __init__(
        self,
        repository: SeriesRepository,
        issuing: IssuingService,
        holdings: Holdings,
        collector: IssueCollector | None = None,
        *,
        pending: PendingAwards | None = None,
        sweep_s: float = AWARD_SWEEP_S,
        retry_after: timedelta = AWARD_RETRY_AFTER,
    ) -> None:
        self._repo = repository
        self._issuing = issuing
        self._holdings = holdings
        self._pending = pending
        self._sweep_s = sweep_s
        self._retry_after = retry_after
        # Overall credentials are issued like single issues: grouped with those in flight.
        self._issue = collector.issue if collector is not None else issuing.issue
        # Award steps of requests answered together, written as one group (see after_issue).
        self._steps: list[_Step] = []
        self._steps_runner: asyncio.Task[None] | None = None

    async def create(self, tenant: Tenant, series: SeriesInput) -> dict[str, Any]:
        """Store a series after checking its achievements belong to this institution.

        A published overall achievement whose type the institution is not accredited for is
        refused now (403) rather than discovered when the first learner completes the series.
        """
        achievements = self._issuing.achievements
        for achievement_id in [
            series.overall_achievement_id,
            *(c.achievement_id for c in series.components),
        ]:
            await achievements.get(tenant, achievement_id)
        try:
            overall = await achievements.pinned(tenant, series.overall_achievement_id, None)
        except AchievementNotFound:
            pass  # not published yet: checked again when the overall credential is issued
        else:
            await self._issuing.policy.check_accredited(tenant, overall)
        doc = {
            "_id": uuid.uuid4().hex,
            "institution_id": tenant.institution_id,
            **series.model_dump(mode="json"),
            "created_at": utcnow(),
        }
        await self._repo.insert(doc)
        return doc

    async def get(self, tenant: Tenant, series_id: str) -> dict[str, Any]:
        """Return a series of this institution or 404."""
        doc = await self._repo.get(tenant.institution_id, series_id)
        if doc is None:
            raise SeriesNotFound(f"series {series_id!r} not found")
        return doc

    async def all(self, tenant: Tenant) -> list[dict[str, Any]]:
        """Return the institution's series."""
        return await self._repo.all(tenant.institution_id)

    async def after_issue(
        self,
        institution_id: str,
        achievement_id: str,
        recipients: Iterable[dict[str, Any]],
        *,
        marked: bool = True,
    ) -> list[dict[str, Any]]:
        """Issue overall credentials that these new credentials complete; return them.

        A marker per learner is written first and removed once every learner's step ran: if
        anything here fails, :meth:`retry_pending` runs the step again later. ``marked=False``
        for a caller that keeps the step due itself (a batch chunk's ``awards_due`` flag).
        The steps of callers that arrive together (the requests of one issuing group are
        answered at the same moment) share one marker insert and one delete.
        """
        all_series = await self._repo.with_component(institution_id, achievement_id)
        if not all_series:
            return []
        recipients = list(recipients)
        if not marked or self._pending is None:
            return await self._award(institution_id, achievement_id, all_series, recipients)
        keyed = [(r, r.get("email_norm") or normalize_email(str(r["email"]))) for r in recipients]
        step = _Step(
            institution_id,
            achievement_id,
            all_series,
            recipients,
            keyed,
            asyncio.get_running_loop().create_future(),
        )
        self._steps.append(step)
        if self._steps_runner is None or self._steps_runner.done():
            # A context of its own: not the first caller's trace or request deadline.
            self._steps_runner = asyncio.get_running_loop().create_task(
                self._run_steps(), name="series-award-steps", context=contextvars.Context()
            )
        # The group goes on if this caller gives up: its marker is then cleared or retried.
        return await asyncio.shield(step.future)

    async def _run_steps(self) -> None:
        """Write the queued award steps in groups (at most ``_STEPS_IN_FLIGHT`` at once)."""
        slots = asyncio.Semaphore(_STEPS_IN_FLIGHT)
        groups: set[asyncio.Task[None]] = set()
        while self._steps or groups:
            if not self._steps:
                # Steps queued while these run form the next group; none left: the runner ends.
                await asyncio.wait(set(groups), return_when=asyncio.FIRST_COMPLETED)
                continue
            await slots.acquire()
            group, self._steps = self._steps, []
            task = asyncio.get_running_loop().create_task(self._write_steps(group))
            groups.add(task)

            def done(finished: asyncio.Task[None]) -> None:
                groups.discard(finished)
                slots.release()

            task.add_done_callback(done)
            # Give the requests answered together a turn to queue their steps.
            await asyncio.sleep(0)

    async def _write_steps(self, group: list[_Step]) -> None:
        """One marker insert for the group, each step in its caller's context, one delete.

        A step that fails keeps its markers (retried by :meth:`retry_pending`) and its caller
        gets the error; the others are answered with what they issued.
        """
        assert self._pending is not None  # noqa: S101 - only queued when markers are kept
        try:
            await self._pending.add([(s.institution_id, s.achievement_id, s.keyed) for s in group])
            loop = asyncio.get_running_loop()
            outcomes = await asyncio.gather(
                *(
                    loop.create_task(
                        self._award(s.institution_id, s.achievement_id, s.all_series, s.recipients),
                        context=s.context.copy(),
                    )
                    for s in group
                ),
                return_exceptions=True,
            )
            await self._pending.remove(
                [
                    award_id(s.institution_id, s.achievement_id, email)
                    for s, outcome in zip(group, outcomes, strict=True)
                    if not isinstance(outcome, BaseException)
                    for _, email in s.keyed
                ]
            )
        except Exception as exc:  # noqa: BLE001 - every caller of the group gets it
            for step in group:
                if not step.future.done():
                    step.future.set_exception(exc)
            return
        for step, outcome in zip(group, outcomes, strict=True):
            if step.future.done():
                continue
            if isinstance(outcome, BaseException):
                step.future.set_exception(outcome)
            else:
                step.future.set_result(outcome)

    async def retry_pending(self) -> int:
        """Run again the award steps whose markers were left behind; return how many ran."""
        if self._pending is None:
            return 0
        due = await self._pending.due(utcnow() - self._retry_after)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for marker in due:
            key = (str(marker["institution_id"]), str(marker["achievement_id"]))
            groups.setdefault(key, []).append(dict(marker["recipient"]))
        ran = 0
        for (institution_id, achievement_id), recipients in groups.items():
            try:
                await self.after_issue(institution_id, achievement_id, recipients)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - kept pending; tried again at the next sweep
                _log.exception("series award retry failed for %s", institution_id)
                continue
            ran += len(recipients)
        if ran:
            _log.info("ran %d pending series award step(s)", ran)
        return ran

    async def run(self) -> None:
        """Retry left-behind award steps until cancelled (a background loop)."""
        while True:
            await asyncio.sleep(self._sweep_s)
            try:
                await self.retry_pending()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next sweep tries again
                _log.exception("series award sweep failed")

    async def _award(
        self,
        institution_id: str,
        achievement_id: str,
        all_series: list[dict[str, Any]],
        recipients: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Issue the overall credential of every series these learners now complete.

        ``achievement_id`` is the component just issued to them. Learners are checked
        ``_CHECKS_IN_FLIGHT`` at once (a chunk's step has hundreds; one after the other, each
        check's round trips added up), and their overall credentials join the issuing groups.
        """
        tenant = await self._issuing.tenants.get(institution_id)
        gate = asyncio.Semaphore(_CHECKS_IN_FLIGHT)
        issued = []
        for doc in all_series:
            series = SeriesInput.model_validate(
                {k: doc[k] for k in SeriesInput.model_fields if k in doc}
            )

            async def check(
                recipient: dict[str, Any], series_id: str = doc["_id"], series: SeriesInput = series
            ) -> dict[str, Any] | None:
                async with gate:
                    return await self._check(tenant, series_id, series, achievement_id, recipient)

            for result in await asyncio.gather(*(check(r) for r in recipients)):
                if result is not None:
                    issued.append(result)
        return issued

    async def _held_components(
        self, institution_id: str, email_norm: str, series: SeriesInput, issued_now: str
    ) -> list[dict[str, Any]] | None:
        """The learner's active component credentials, or ``None`` once a required one lacks.

        Required components are read one at a time, the one just issued last (it is held), and
        the first one missing ends the check: a learner's first module of a series costs one
        read instead of one per component (docs/benchmarks.md, "Loading the field's scale").
        """
        required = [c.achievement_id for c in series.components if c.required]
        required.sort(key=lambda a: a == issued_now)
        holdings: list[dict[str, Any]] = []
        for achievement_id in required:
            found = await self._holdings.active(institution_id, email_norm, [achievement_id])
            if not found:
                return None
            holdings.extend(found)
        electives = [c.achievement_id for c in series.components if not c.required]
        if electives:
            holdings.extend(await self._holdings.active(institution_id, email_norm, electives))
        return holdings

    async def _check(
        self,
        tenant: Tenant,
        series_id: str,
        series: SeriesInput,
        issued_now: str,
        recipient: dict[str, Any],
    ) -> dict[str, Any] | None:
        email_norm = recipient.get("email_norm") or normalize_email(str(recipient["email"]))
        holdings = await self._held_components(
            tenant.institution_id, email_norm, series, issued_now
        )
        if holdings is None:
            return None
        held = {h["achievement_id"] for h in holdings}
        if not complete(series, held):
            return None
        clean = {k: v for k, v in recipient.items() if k in RecipientInput.model_fields}
        request = IssueRequest(
            achievement_id=series.overall_achievement_id,
            recipient=RecipientInput.model_validate(clean),
        )
        evidence = [
            Evidence(
                id=f"urn:uuid:{h['_id']}",
                name=f"component:{h['achievement_id']}",
                genre="ComponentCredential",
            )
            for h in sorted(holdings, key=lambda h: str(h["achievement_id"]))
        ]
        try:
            doc, replayed = await self._issue(
                tenant,
                request,
                idempotency_key=f"series:{series_id}:{email_norm}",
                series_id=series_id,
                extra_evidence=evidence,
            )
        except (AlreadyIssued, IdempotencyMismatch):
            return None
        except (NotAccredited, PrerequisiteMissing) as exc:
            # The component stays issued; the overall one waits for the next component issued
            # once the registry accredits the type (or the learner holds the prerequisites).
            _log.warning("series %s complete but overall credential refused: %s", series_id, exc)
            return None
        except AchievementNotFound:
            _log.warning("series %s complete but its overall achievement is unpublished", series_id)
            return None
        return None if replayed else doc
