"""Whether a credential can be suspended: only if it was issued with a suspension entry.

A credential carries the status entries it was signed with, for ever. By default that is one
entry, for revocation (the single ``credentialStatus`` 1EdTech's Open Badges 3.0 schema allows);
an ``ob3-v2`` or ``jwt`` credential signed while its institution had suspension turned on
(``PUT /v1/institution/settings``) also carries a suspension entry; a VC Data Model 1.1
credential (``ob3-v1``, and ``jwt`` before 2026-12) never does (one entry only). Suspending — or
reinstating — a credential without a suspension entry could not be published anywhere a
verifier looks, so it is refused with a 409 that says why and what to do instead, in French
and English.
"""

from __future__ import annotations

from typing import Any

from sceau_issuer.errors import StatusTransitionRefused
from sceau_issuer.status.schemas import StatusAction

#: Why a credential has no suspension entry, per case: (English, French).
_WHY: dict[str, tuple[str, str]] = {
    "1.1": (
        "VC Data Model 1.1 credentials carry a single status entry",
        "les titres VC Data Model 1.1 ne portent qu'une entrée de statut",
    ),
    "off": (
        "it was issued while suspension was off for the institution (the default, which keeps "
        "credentials valid against 1EdTech's Open Badges 3.0 schema)",
        "il a été émis alors que la suspension était désactivée pour l'établissement (le réglage "
        "par défaut, qui garde les titres conformes au schéma Open Badges 3.0 de 1EdTech)",
    ),
}


def has_suspension_entry(doc: dict[str, Any]) -> bool:
    """Whether the stored credential was signed with a suspension entry."""
    return "suspension" in (doc.get("status_lists") or {})


def _is_vcdm_1_1(profile: str, doc: dict[str, Any]) -> bool:
    """Whether the stored credential is VC Data Model 1.1.

    That is ``ob3-v1``, or a ``jwt`` one issued before 2026-12 (its revocation list is then a
    StatusList2021 one, family ``…sl21…``).
    """
    if profile == "ob3-v1":
        return True
    if profile != "jwt":
        return False
    lists = doc.get("status_lists") or {}
    return any(".sl21." in str(list_id) for list_id in lists.values())


def check_suspendable(doc: dict[str, Any], action: StatusAction) -> None:
    """Refuse to suspend or reinstate a credential that has no suspension entry.

    Raises:
        StatusTransitionRefused: (409) with ``detail_en``/``detail_fr`` and
            ``reason: "no-suspension-entry"``; nothing is changed.
    """
    if action not in (StatusAction.SUSPEND, StatusAction.REINSTATE) or has_suspension_entry(doc):
        return
    if doc.get("status") == "revoked":
        return  # the general refusal says it better: revocation is final
    profile = str(doc.get("profile", "ob3-v2"))
    why_en, why_fr = _WHY["1.1" if _is_vcdm_1_1(profile, doc) else "off"]
    verb_en, verb_fr = (
        ("suspended", "suspendu") if action == StatusAction.SUSPEND else ("reinstated", "rétabli")
    )
    detail_en = (
        f"this {profile} credential has no suspension entry, so it cannot be {verb_en}: {why_en}. "
        "Revoke it (or re-issue it) instead; to make credentials issued from now on suspendable, "
        'the institution can turn suspension on (PUT /v1/institution/settings {"suspension": '
        "true})."
    )
    detail_fr = (
        f"ce titre {profile} n'a pas d'entrée de suspension, il ne peut donc pas être {verb_fr} : "
        f"{why_fr}. Révoquez-le (ou émettez-le de nouveau) à la place ; pour que les titres émis "
        "désormais puissent être suspendus, l'établissement peut activer la suspension "
        '(PUT /v1/institution/settings {"suspension": true}).'
    )
    raise StatusTransitionRefused(
        detail_en,
        extra={
            "credential_id": doc["_id"],
            "status": doc["status"],
            "reason": "no-suspension-entry",
            "detail_en": detail_en,
            "detail_fr": detail_fr,
        },
    )
