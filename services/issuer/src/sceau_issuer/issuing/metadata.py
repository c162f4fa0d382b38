"""Micro-credential metadata that Open Badges 3.0 has no dedicated field for, written with OB terms.

Field requirements A.7 (weeks, hours per week, modules, facilitated sessions) and A.13 (credit
status, credit value, transcriptable) must travel in the signed credential. Only Open Badges 3.0
vocabulary is used, so the credential stays valid against 1EdTech's JSON Schema and every term is
defined by the OB context (``eddsa-rdfc-2022`` refuses undefined terms):

* credit value → ``Achievement.creditsAvailable`` (written by the engine for credit-bearing
  achievements);
* every field, machine-readable → ``Achievement.otherIdentifier``: one ``IdentifierEntry`` per
  field, ``identifierType`` an ``ext:`` value (the OB ``IdentifierTypeEnum`` is extensible that
  way) and ``identifier`` the value as text: ``ext:weeks`` ``"9"``, ``ext:hoursPerWeek`` ``"2.5"``,
  ``ext:modules`` ``"3"``, ``ext:sessions`` ``"12"``, ``ext:creditStatus`` ``"credit"`` /
  ``"non-credit"``, ``ext:transcriptable`` ``"true"`` / ``"false"`` (the credit value is
  ``creditsAvailable`` only);
* every field, human-readable → a last paragraph of ``criteria.narrative`` (Markdown) in the
  language of that achievement node (the main one and each translated ``related`` entry), e.g.
  "Workload: 9 weeks, 2.5 h per week, 3 modules, 12 facilitated sessions. Credit: non-credit." —
  what a wallet or verifier page that shows the criteria displays without knowing Sceau.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sceau_issuer.achievements.schemas import AchievementInput

IDENTIFIER_ENTRY = "IdentifierEntry"


@dataclass(frozen=True)
class Workload:
    """The achievement's duration and credit metadata (all optional)."""

    weeks: int | None = None
    hours_per_week: float | None = None
    modules: int | None = None
    sessions: int | None = None
    credit_status: str | None = None
    credits: float | None = None
    transcriptable: bool | None = None

    @classmethod
    def of(cls, definition: AchievementInput) -> Workload | None:
        """The metadata of an achievement definition; None when it has none."""
        workload = cls(
            weeks=definition.weeks,
            hours_per_week=definition.hours_per_week,
            modules=definition.modules,
            sessions=definition.sessions,
            credit_status=definition.credit_status.value if definition.credit_status else None,
            credits=definition.credits if definition.credit_status != "non-credit" else None,
            transcriptable=definition.transcriptable,
        )
        return None if workload == cls() else workload


def _number(value: float, lang: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "fr" else text


def _count(value: int, singular: str, plural: str) -> str:
    return f"{value} {singular if value == 1 else plural}"


_WORDS = {
    "en": {
        "workload": "Workload",
        "week": ("week", "weeks"),
        "per_week": "h per week",
        "module": ("module", "modules"),
        "session": ("facilitated session", "facilitated sessions"),
        "credit": "Credit",
        "credit-bearing": "credit-bearing",
        "non-credit": "non-credit",
        "credits": ("credit", "credits"),
        "transcript": "on the transcript",
        "no_transcript": "not on the transcript",
    },
    "fr": {
        "workload": "Charge de travail",
        "week": ("semaine", "semaines"),
        "per_week": "h par semaine",
        "module": ("module", "modules"),
        "session": ("séance animée", "séances animées"),
        "credit": "Crédits",
        "credit-bearing": "avec crédits",
        "non-credit": "sans crédit",
        "credits": ("crédit", "crédits"),
        "transcript": "inscrit au relevé de notes",
        "no_transcript": "non inscrit au relevé de notes",
    },
}


def narrative(workload: Workload, lang: str) -> str:
    """The human-readable paragraph in ``lang`` (English for languages other than fr/en)."""
    words: dict[str, Any] = _WORDS.get(lang.split("-")[0], _WORDS["en"])
    number_lang = lang.split("-")[0]
    effort = []
    if workload.weeks is not None:
        effort.append(_count(workload.weeks, *words["week"]))
    if workload.hours_per_week is not None:
        effort.append(f"{_number(workload.hours_per_week, number_lang)} {words['per_week']}")
    if workload.modules is not None:
        effort.append(_count(workload.modules, *words["module"]))
    if workload.sessions is not None:
        effort.append(_count(workload.sessions, *words["session"]))
    credit = []
    if workload.credit_status is not None:
        credit.append(
            words["non-credit" if workload.credit_status == "non-credit" else "credit-bearing"]
        )
    if workload.credits is not None:
        unit = words["credits"][0 if workload.credits == 1 else 1]
        credit.append(f"{_number(workload.credits, number_lang)} {unit}")
    if workload.transcriptable is not None:
        credit.append(words["transcript" if workload.transcriptable else "no_transcript"])
    space = "\u00a0" if number_lang == "fr" else ""  # French typography: space before the colon
    sentences = []
    if effort:
        sentences.append(f"{words['workload']}{space}: {', '.join(effort)}.")
    if credit:
        sentences.append(f"{words['credit']}{space}: {', '.join(credit)}.")
    return " ".join(sentences)


def identifiers(workload: Workload) -> list[dict[str, str]]:
    """The machine-readable ``otherIdentifier`` entries (``ext:`` identifier types)."""
    values: list[tuple[str, object]] = [
        ("ext:weeks", workload.weeks),
        ("ext:hoursPerWeek", workload.hours_per_week),
        ("ext:modules", workload.modules),
        ("ext:sessions", workload.sessions),
        ("ext:creditStatus", workload.credit_status),
        ("ext:transcriptable", workload.transcriptable),
    ]
    out = []
    for kind, value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = str(value)
        out.append({"type": IDENTIFIER_ENTRY, "identifier": text, "identifierType": kind})
    return out


def _append_narrative(node: dict[str, Any], workload: Workload) -> None:
    criteria = node.get("criteria")
    lang = node.get("inLanguage")
    if not isinstance(criteria, dict) or not isinstance(lang, str):
        return
    paragraph = narrative(workload, lang)
    if not paragraph:
        return
    current = criteria.get("narrative")
    criteria["narrative"] = f"{current}\n\n{paragraph}" if current else paragraph


def write_workload(credential: dict[str, Any], workload: Workload | None) -> dict[str, Any]:
    """Write ``workload`` into an unsigned credential's achievement (before validation/signing)."""
    if workload is None:
        return credential
    achievement = credential["credentialSubject"]["achievement"]
    _append_narrative(achievement, workload)
    for related in achievement.get("related") or []:
        if isinstance(related, dict):
            _append_narrative(related, workload)
    entries = identifiers(workload)
    if entries:
        achievement["otherIdentifier"] = [*achievement.get("otherIdentifier", []), *entries]
    return credential
