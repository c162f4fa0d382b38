"""Series storage and the completion rule that issues the overall credential exactly once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
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
from sceau_issuer.series.repository import SeriesRepository
from sceau_issuer.series.schemas import SeriesInput, complete
from sceau_issuer.tenants.models import Tenant
from sceau_shared.events import utcnow

_log = logging.getLogger(__name__)


class SeriesService:
    """Series of one issuer database; every query names the tenant."""

    def __init__(
        self,
        repository: SeriesRepository,
        issuing: IssuingService,
        holdings: Holdings,
        collector: IssueCollector | None = None,
    ) -> None:
        self._repo = repository
        self._issuing = issuing
        self._holdings = holdings
        # Overall credentials are issued like single issues: grouped with those in flight.
        self._issue = collector.issue if collector is not None else issuing.issue

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
        self, institution_id: str, achievement_id: str, recipients: Iterable[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Issue overall credentials that these new credentials complete; return them."""
        all_series = await self._repo.with_component(institution_id, achievement_id)
        if not all_series:
            return []
        tenant = await self._issuing.tenants.get(institution_id)
        issued = []
        for doc in all_series:
            series = SeriesInput.model_validate(
                {k: doc[k] for k in SeriesInput.model_fields if k in doc}
            )
            component_ids = [c.achievement_id for c in series.components]
            for recipient in recipients:
                result = await self._check(tenant, doc["_id"], series, component_ids, recipient)
                if result is not None:
                    issued.append(result)
        return issued

    async def _check(
        self,
        tenant: Tenant,
        series_id: str,
        series: SeriesInput,
        component_ids: list[str],
        recipient: dict[str, Any],
    ) -> dict[str, Any] | None:
        email_norm = recipient.get("email_norm") or normalize_email(str(recipient["email"]))
        holdings = await self._holdings.active(tenant.institution_id, email_norm, component_ids)
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
