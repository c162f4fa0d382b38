"""Turn stored documents into API answers (never leaking internal fields).

Each answer is first gathered as the plain fields the API has always sent (``*_fields``), then
typed as its answer model (``schemas.py``); the unit tests check that the two serialise to the
same bytes.
"""

from __future__ import annotations

from typing import Any

from sceau_issuer.issuing.service import IssuingService
from sceau_issuer.schemas import (
    AchievementSummary,
    AchievementVersionView,
    BatchView,
    CredentialDetail,
    CredentialSummary,
    SeriesView,
)

_INTERNAL = {
    "outbox",
    "outbox_lease_until",
    "request_hash",
    "dedupe",
    "idem",
    "status_alloc",
    "key_id",
    "sd_document",
}


def credential_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored credential's public fields, as listed."""
    out = {k: v for k, v in doc.items() if k not in _INTERNAL and k not in {"_id", "document"}}
    out["credential_id"] = doc["_id"]
    out["id"] = f"urn:uuid:{doc['_id']}"
    recipient = dict(out.get("recipient") or {})
    recipient.pop("email_norm", None)
    out["recipient"] = recipient
    return out


def credential_summary(doc: dict[str, Any]) -> CredentialSummary:
    """A credential as listed (fields the record lacks stay unset, hence left out)."""
    return CredentialSummary.model_validate(credential_fields(doc))


def credential_detail(issuing: IssuingService, doc: dict[str, Any]) -> CredentialDetail:
    """A credential with its signed document and a fresh claim link."""
    out = credential_fields(doc)
    out["document"] = doc.get("document")
    out["claim_url"] = issuing.claim_url(doc["institution_id"], doc["_id"])
    return CredentialDetail.model_validate(out)


def version_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """One achievement version's public fields."""
    return {
        "achievement_id": doc["achievement_id"],
        "version": doc["version"],
        "state": doc["state"],
        "definition": doc["definition"],
        "created_at": doc["created_at"],
        "published_at": doc.get("published_at"),
    }


def version_view(doc: dict[str, Any]) -> AchievementVersionView:
    """One achievement version."""
    return AchievementVersionView.model_validate(version_fields(doc))


def achievement_summary(doc: dict[str, Any]) -> AchievementSummary:
    """An achievement with its latest version (``AchievementService.get``'s answer)."""
    return AchievementSummary.model_validate({**doc, "latest": version_view(doc["latest"])})


def series_view(doc: dict[str, Any]) -> SeriesView:
    """A stored series; its ``_id`` is also answered as ``series_id``."""
    return SeriesView.model_validate({**doc, "series_id": doc["_id"]})


def batch_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """A batch's progress and, once complete, its report."""
    counts = doc.get("counts", {})
    done = sum(int(v) for v in counts.values())
    total = int(doc["total"])
    return {
        "batch_id": doc["_id"],
        "state": doc["state"],
        "paused_reason": doc.get("paused_reason") if doc["state"] == "paused" else None,
        "achievement_id": doc["achievement_id"],
        "achievement_version": doc["achievement_version"],
        "profile": doc["profile"],
        "total": total,
        "counts": counts,
        "pending": max(total - done, 0),
        "progress": round(done / total, 4) if total else 1.0,
        "created_at": doc["created_at"],
        "started_at": doc.get("started_at"),
        "completed_at": doc.get("completed_at"),
        "report": doc.get("report"),
    }


def batch_view(doc: dict[str, Any]) -> BatchView:
    """A batch's progress and, once complete, its report."""
    return BatchView.model_validate(batch_fields(doc))
