"""The display summary: what a credential attests, in plain words, in the asked language.

It reads the credential tolerantly (anything can be missing or oddly shaped in a document from a
stranger) and prefers the registry's name for the institution: the name written in a credential
is whatever its signer chose, the registry's is the one that was vetted.

Languages: Sceau credentials carry the achievement in one language and its translation as a
``related`` entry with ``inLanguage`` (see the engine's ``ob3.models.Related``). Texts can also be
VCDM 2.0 language value objects (``{"@value": …, "@language": "fr"}``) or arrays of them; both are
read. When the asked language is not there, the credential's own language is shown and the
summary says so (``language_fallback: true``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from sceau_credentials.ob3.fields import as_list, first_mapping, id_of, parse_datetime
from sceau_verifier.registry import IssuerRecord
from sceau_verifier.schemas import (
    Assessment,
    Competency,
    Institution,
    Lang,
    Level,
    Summary,
)

__all__ = ["build_summary", "localized"]

_DURATION: Final = re.compile(
    r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?)?$"
)
_LEVEL_TYPES: Final = frozenset({"cfrubriccriterionlevel", "ext:level", "ext:competencylevel"})
_TEXT_MAX: Final = 4000
_APPROVALS: Final = (
    "institutional-approval",
    "ministry-approval",
    "osap-eligible",
    "sector-review",
)


def _lang_matches(tag: object, lang: str) -> bool:
    return isinstance(tag, str) and tag.lower().split("-", 1)[0] == lang


def localized(value: object, lang: str) -> str | None:
    """Read a text that may be a string, a language value object, a language map or an array."""
    if isinstance(value, str):
        return value[:_TEXT_MAX]
    if isinstance(value, Mapping):
        if "@value" in value:
            inner = value.get("@value")
            return inner[:_TEXT_MAX] if isinstance(inner, str) else None
        for key in (lang, "en", "fr"):
            if isinstance(value.get(key), str):
                return str(value[key])[:_TEXT_MAX]
        return None
    if isinstance(value, list):
        texts = [v for v in value if isinstance(v, Mapping | str)]
        for item in texts:
            if isinstance(item, Mapping) and _lang_matches(item.get("@language"), lang):
                return localized(item, lang)
        for item in texts:
            text = localized(item, lang)
            if text:
                return text
    return None


def _text(node: Mapping[str, Any] | None, key: str, lang: str) -> str | None:
    return localized(node.get(key), lang) if node is not None else None


def _hours(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value.strip())
    if not match or not any(match.groups()):
        return None
    days, hours, minutes = (float(g) if g else 0.0 for g in match.groups())
    total = days * 24 + hours + minutes / 60
    return round(total, 2) if total > 0 else None


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _variant(achievement: Mapping[str, Any], lang: str) -> tuple[Mapping[str, Any], bool]:
    """The achievement node to read texts from for ``lang``, and whether it is in that language."""
    if _lang_matches(achievement.get("inLanguage"), lang):
        return achievement, True
    for related in as_list(achievement.get("related")):
        if isinstance(related, Mapping) and _lang_matches(related.get("inLanguage"), lang):
            merged = dict(achievement)
            merged.update({k: v for k, v in related.items() if k not in ("id", "type")})
            return merged, True
    # No language declared at all: the texts may still be language value objects.
    return achievement, achievement.get("inLanguage") is None


def _credit_status(node: Mapping[str, Any]) -> Literal["credit", "non-credit"] | None:
    """``credit`` / ``non-credit`` from Sceau's ``ext:creditStatus`` identifier entry."""
    for entry in as_list(node.get("otherIdentifier"))[:50]:
        if isinstance(entry, Mapping) and entry.get("identifierType") == "ext:creditStatus":
            value = entry.get("identifier")
            if value == "credit":
                return "credit"
            if value == "non-credit":
                return "non-credit"
    return None


def _is_level(alignment: Mapping[str, Any]) -> bool:
    target_type = alignment.get("targetType")
    return isinstance(target_type, str) and (
        target_type.lower() in _LEVEL_TYPES or target_type.lower().endswith("level")
    )


def _competencies_and_level(
    node: Mapping[str, Any], lang: str
) -> tuple[list[Competency], Level | None]:
    competencies: list[Competency] = []
    level: Level | None = None
    for alignment in as_list(node.get("alignment"))[:200]:
        if not isinstance(alignment, Mapping):
            continue
        name = _text(alignment, "targetName", lang)
        if not name:
            continue
        url = alignment.get("targetUrl") if isinstance(alignment.get("targetUrl"), str) else None
        framework = _text(alignment, "targetFramework", lang)
        if _is_level(alignment):
            if level is None:
                level = Level(
                    name=name,
                    definition=_text(alignment, "targetDescription", lang),
                    url=url,
                    framework=framework,
                )
            continue
        code = alignment.get("targetCode")
        skill = alignment.get("skillType") or alignment.get("targetType")
        competencies.append(
            Competency(
                name=name,
                description=_text(alignment, "targetDescription", lang),
                framework=framework,
                code=code if isinstance(code, str) else None,
                url=url,
                skill_type=skill if isinstance(skill, str) else None,
            )
        )
    return competencies, level


def _description_ids(node: Mapping[str, Any]) -> list[str | None]:
    return [
        str(d.get("id")) if isinstance(d, Mapping) and d.get("id") is not None else None
        for d in as_list(node.get("resultDescription"))[:50]
    ]


def _assessments(
    node: Mapping[str, Any],
    subject: Mapping[str, Any],
    lang: str,
    original: Mapping[str, Any],
) -> list[Assessment]:
    """The assessments of ``node`` with the learner's results.

    Results point at the resultDescription ids of the credential's own language; a translation
    (a ``related`` entry) carries its descriptions in the same order under ids of its own (two
    nodes may not share an id), so a translated description also answers to the id at its
    position in ``original``.
    """
    results: dict[str, str] = {}
    for result in as_list(subject.get("result")):
        if isinstance(result, Mapping):
            ref = result.get("resultDescription")
            value = result.get("value") or result.get("achievedLevel") or result.get("status")
            if isinstance(ref, str) and isinstance(value, str):
                results[ref] = value
    out = []
    original_ids = _description_ids(original)
    for position, description in enumerate(as_list(node.get("resultDescription"))[:50]):
        if not isinstance(description, Mapping):
            continue
        result = results.get(str(description.get("id")))
        if result is None and position < len(original_ids) and original_ids[position]:
            result = results.get(str(original_ids[position]))
        method = description.get("assessmentMethod")
        result_type = description.get("resultType")
        out.append(
            Assessment(
                name=_text(description, "name", lang),
                method=method if isinstance(method, str) else None,
                result_type=result_type if isinstance(result_type, str) else None,
                result=result,
            )
        )
    return out


def _issuer(credential: Mapping[str, Any], record: IssuerRecord | None, lang: str) -> Institution:
    issuer = credential.get("issuer")
    did = id_of(issuer)
    if record is not None and record.registered:
        name = record.display_name(lang)
        if name:
            return Institution(
                did=did,
                name=name,
                name_source="registry",
                registered=True,
                status=record.status,
                qa_body=record.qa_body[:300] if record.qa_body else None,
                # Only facts we can name in both languages (a newer registry may know more).
                approvals=[a for a in _APPROVALS if a in record.approvals],
            )
    claimed = _text(issuer, "name", lang) if isinstance(issuer, Mapping) else None
    return Institution(
        did=did,
        name=claimed,
        name_source="credential" if claimed else None,
        registered=record.registered if record is not None else None,
        status=record.status if record is not None else None,
    )


def build_summary(
    credential: Mapping[str, Any], *, lang: Lang, record: IssuerRecord | None, fmt: str | None
) -> Summary:
    """Summarise ``credential`` (the VC object, JWT payload already unwrapped) for display."""
    subject = first_mapping(credential.get("credentialSubject")) or {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    node, in_lang = _variant(achievement, lang)
    competencies, level = _competencies_and_level(node, lang)
    criteria = node.get("criteria")
    recognized = [
        name
        for body in as_list(node.get("recognizedBy"))
        if isinstance(body, Mapping) and (name := _text(body, "name", lang))
    ]
    languages = [v for v in as_list(node.get("instructionLanguage")) if isinstance(v, str)]
    applied = node.get("appliedLearning")
    achievement_type = node.get("achievementType")
    course_mode = node.get("courseMode")
    pacing = node.get("pacing")
    return Summary(
        lang=lang,
        credential_id=id_of(credential.get("id")),
        format=fmt,
        issuer=_issuer(credential, record, lang),
        recipient_name=_text(subject, "name", lang),
        achievement_id=id_of(achievement.get("id")),
        achievement_type=achievement_type if isinstance(achievement_type, str) else None,
        achievement_name=_text(node, "name", lang),
        achievement_description=_text(node, "description", lang),
        criteria=_text(criteria, "narrative", lang) if isinstance(criteria, Mapping) else None,
        competencies=competencies,
        level=level,
        hours=_hours(node.get("timeRequired")),
        assessments=_assessments(node, subject, lang, achievement),
        delivery_mode=course_mode if isinstance(course_mode, str) else None,
        pacing=pacing if isinstance(pacing, str) else None,
        applied_learning=applied if isinstance(applied, bool) else None,
        instruction_languages=languages[:20],
        credits=_number(node.get("creditsAvailable")),
        credit_status=_credit_status(node),
        field_of_study=_text(node, "fieldOfStudy", lang),
        quality_assurance=recognized[:20],
        issued_on=parse_datetime(
            credential.get("validFrom")
            or credential.get("issuanceDate")
            or credential.get("awardedDate")
        ),
        valid_until=parse_datetime(
            credential.get("validUntil") or credential.get("expirationDate")
        ),
        language_fallback=not in_lang,
    )
