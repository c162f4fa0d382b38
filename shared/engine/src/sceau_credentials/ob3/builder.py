"""Build an unsigned Open Badges 3.0 credential in one call.

``build_credential(achievement_version, recipient, issuer, profile, ...)`` returns the JSON of an
``OpenBadgeCredential`` ready for :func:`.validation.validate_for_signing` and then the proof
engine. The three profiles differ only in their envelope:

* ``ob3-v2``: VCDM 2.0 + OB 3.0.3 contexts (+ the inline extension context when used);
  ``validFrom``/``validUntil``; BitstringStatusListEntry.
* ``ob3-v1``: VCDM 1.1 + OB ``context.json`` + Ed25519Signature2020 (+ StatusList2021) contexts
  and an inline context (``inLanguage`` and extensions); ``issuanceDate``/``expirationDate``;
  StatusList2021Entry.
* ``jwt``: as ``ob3-v2`` (the engine secures it as a VC-JOSE-COSE JWT instead of a Data Integrity
  proof). Until 2026-12 it was VCDM 1.1 content; those JWTs still verify.

Languages: the OB fields (``name``, ``description``, ``criteria.narrative``, alignment names...)
are written in one language — the learner's, or the achievement's default — with ``inLanguage``;
every other authored language goes into an ``achievement.related`` entry that is typed
``["Related", "Achievement"]`` and carries the same texts translated. See docs/credentials.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sceau_credentials.ob3.authoring import (
    AchievementVersion,
    DeliveryMode,
    IssuerProfile,
    Recipient,
)
from sceau_credentials.ob3.constants import (
    EXTENSION_CONTEXT,
    OPEN_BADGE_CREDENTIAL,
    PROFILES,
    VC_V1_CONTEXT,
    VC_V2_CONTEXT,
    VCDM_2_0_PROFILES,
    VERIFIABLE_CREDENTIAL,
    contexts_for,
)
from sceau_credentials.ob3.identity import email_identity
from sceau_credentials.ob3.models import (
    Achievement,
    AchievementSubject,
    Alignment,
    Criteria,
    Evidence,
    Image,
    Profile,
    Related,
    Result,
    ResultDescription,
    to_json,
)

__all__ = ["build_achievement", "build_credential", "format_datetime", "hours_to_duration"]

_COURSE_MODE = {
    DeliveryMode.ONLINE: "online",
    DeliveryMode.HYBRID: "blended",
    DeliveryMode.IN_PERSON: "onsite",
}
_SKILL_TARGET_TYPE = {"technical": "ext:TechnicalSkill", "non-technical": "ext:NonTechnicalSkill"}


def format_datetime(moment: datetime) -> str:
    """Write an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` (what both data models accept)."""
    if moment.tzinfo is None:
        raise ValueError("credential dates must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def hours_to_duration(hours: float) -> str:
    """Learning hours as an ISO 8601 duration for ``timeRequired`` (15 -> ``PT15H``)."""
    minutes = round(hours * 60)
    whole_hours, rest = divmod(minutes, 60)
    text = "PT"
    if whole_hours or not rest:
        text += f"{whole_hours}H"
    if rest:
        text += f"{rest}M"
    return text


def language_variant_id(achievement: AchievementVersion, language: str) -> str:
    """The id of the achievement in ``language``: the authored one, else derived from ``id``.

    HTTP(S) ids get a ``lang`` query parameter (a page the issuer can serve in that language);
    other URIs (``urn:uuid:``...) get a ``#<lang>`` fragment.
    """
    if language in achievement.language_ids:
        return achievement.language_ids[language]
    parts = urlsplit(achievement.id)
    if parts.scheme in ("http", "https"):
        query = f"{parts.query}&lang={language}" if parts.query else f"lang={language}"
        return urlunsplit(parts._replace(query=query, fragment=""))
    return f"{achievement.id.split('#', 1)[0]}#{language}"


def _alignments(version: AchievementVersion, lang: str) -> list[Alignment] | None:
    alignments = [
        Alignment(
            target_name=c.name[lang],
            target_url=c.url,
            target_description=c.description[lang] if c.description else None,
            target_framework=c.framework[lang] if c.framework else None,
            target_code=c.code,
            target_type=_SKILL_TARGET_TYPE[c.skill_type] if c.skill_type else "ceasn:Competency",
        )
        for c in version.competencies
    ]
    if version.level is not None:
        alignments.append(
            Alignment(
                target_name=version.level.name[lang],
                target_url=version.level.definition_url,
                target_framework=version.level.scheme[lang] if version.level.scheme else None,
                target_code=version.level.code,
                target_type="ext:Level",
            )
        )
    return alignments or None


def _result_descriptions(
    version: AchievementVersion, lang: str, *, suffix: str = ""
) -> list[ResultDescription] | None:
    descriptions = [
        ResultDescription(
            id=f"{version.id.split('#', 1)[0]}#assessment-{i + 1}{suffix}",
            name=a.name[lang],
            result_type=a.result_type,
            allowed_value=a.allowed_values,
            required_value=a.required_value,
            assessment_method=a.method.value,
        )
        for i, a in enumerate(version.assessments)
    ]
    return descriptions or None


def _image(version: AchievementVersion, lang: str) -> Image | None:
    if version.image_url is None:
        return None
    caption = version.image_caption[lang] if version.image_caption else None
    return Image(id=version.image_url, caption=caption)


def _criteria(version: AchievementVersion, lang: str) -> Criteria:
    return Criteria(id=version.criteria_url, narrative=version.criteria[lang])


def _endorsements_for(version: AchievementVersion, profile: str) -> AchievementVersion:
    """Keep the endorsements of the credential's data model (VCDM 2.0 or 1.1).

    An endorsement is embedded with its own ``@context``; the VC 2.0 context's protected terms
    cannot be redefined inside a VCDM 1.1 document (JSON-LD refuses it), so a VCDM 2.0
    endorsement fits only an ``ob3-v2`` credential and a VCDM 1.1 one only the other profiles.
    What does not fit is left out: the credential stays signable, and its endorsements are the
    ones a verifier can read (docs/credentials.md, "Endorsements").
    """
    wanted = VC_V2_CONTEXT if profile in VCDM_2_0_PROFILES else VC_V1_CONTEXT
    kept = [
        e
        for e in version.endorsements
        if isinstance(e.get("@context"), list) and e["@context"][:1] == [wanted]
    ]
    if len(kept) == len(version.endorsements):
        return version
    return version.model_copy(update={"endorsements": kept})


def build_achievement(version: AchievementVersion, language: str | None = None) -> Achievement:
    """Build the OB ``Achievement`` in ``language`` with the other languages as ``related``."""
    lang = language or version.default_language
    if lang not in version.name:
        raise ValueError(f"the achievement is not authored in {lang!r} ({sorted(version.name)})")
    related = [
        Related(
            id=language_variant_id(version, other),
            in_language=other,
            version=version.version,
            name=version.name[other],
            description=version.description[other],
            criteria=_criteria(version, other),
            alignment=_alignments(version, other),
            result_description=_result_descriptions(version, other, suffix=f"-{other}"),
            image=_image(version, other),
            field_of_study=version.field_of_study[other] if version.field_of_study else None,
        )
        for other in version.languages
        if other != lang
    ]
    return Achievement(
        id=version.id,
        name=version.name[lang],
        description=version.description[lang],
        criteria=_criteria(version, lang),
        achievement_type=version.achievement_type,
        alignment=_alignments(version, lang),
        credits_available=version.credits,
        field_of_study=version.field_of_study[lang] if version.field_of_study else None,
        human_code=version.human_code,
        image=_image(version, lang),
        in_language=lang,
        related=related or None,
        result_description=_result_descriptions(version, lang),
        tag=list(version.tags) or None,
        version=version.version,
        endorsement=[dict(e) for e in version.endorsements] or None,
        time_required=hours_to_duration(version.hours) if version.hours is not None else None,
        course_mode=_COURSE_MODE[version.delivery_mode] if version.delivery_mode else None,
        pacing=version.pacing.value if version.pacing else None,
        applied_learning=version.applied_learning,
        instruction_language=list(version.instruction_languages) or None,
        recognized_by=[
            Profile(id=qa.id, name=qa.name.get(lang), url=qa.url)
            for qa in version.quality_assurance
        ]
        or None,
    )


def _uses_extensions(node: object) -> bool:
    """True when a JSON tree uses a term of the inline extension context."""
    if isinstance(node, Mapping):
        return any(key in EXTENSION_CONTEXT or _uses_extensions(v) for key, v in node.items())
    if isinstance(node, list):
        return any(_uses_extensions(item) for item in node)
    return False


@dataclass
class BuiltAchievement:
    """An OB ``Achievement`` built from a version, with what is known of its JSON."""

    version: AchievementVersion
    """The version it was built from (kept, so its id cannot be reused while a memo lives)."""
    achievement: Achievement
    uses_extensions: bool | None = None
    """Whether its JSON uses a term of the inline extension context (None until looked at)."""


AchievementMemo = dict[tuple[int, str, str], BuiltAchievement]
"""Achievements built, by (version object, language, profile): see :func:`build_credential`."""


def _built_achievement(
    version: AchievementVersion, lang: str, kind: str, memo: AchievementMemo | None
) -> BuiltAchievement:
    # Keyed by the version object itself (kept in the value, so its id cannot be reused while
    # the memo lives): equal-looking versions are never taken for one another.
    key = (id(version), lang, kind)
    if memo is not None and key in memo and memo[key].version is version:
        return memo[key]
    fitted = _endorsements_for(version, kind) if version.endorsements else version
    built = BuiltAchievement(version, build_achievement(fitted, lang))
    if memo is not None:
        memo[key] = built
    return built


def _subject_uses_extensions(subject: Mapping[str, Any], built: BuiltAchievement) -> bool:
    """``_uses_extensions(subject)``, the achievement's part looked at once per built achievement.

    The achievement is most of a credential subject and is the same JSON for every credential
    built from one memo entry: walking it each time was two thirds of building a credential.
    """
    if built.uses_extensions is None:
        built.uses_extensions = _uses_extensions(subject.get("achievement"))
    return built.uses_extensions or any(
        key in EXTENSION_CONTEXT or (key != "achievement" and _uses_extensions(value))
        for key, value in subject.items()
    )


def build_credential(
    achievement: AchievementVersion,
    recipient: Recipient,
    issuer: IssuerProfile,
    profile: str,
    *,
    credential_id: str,
    issued_at: datetime,
    valid_until: datetime | None = None,
    language: str | None = None,
    status: Sequence[Mapping[str, Any]] = (),
    results: Sequence[Result] = (),
    evidence: Sequence[Evidence] = (),
    credits_earned: float | None = None,
    salt: str | None = None,
    memo: AchievementMemo | None = None,
) -> dict[str, Any]:
    """Build an unsigned OpenBadgeCredential for ``recipient`` from an achievement version.

    Args:
        achievement: the version the learner earned (the credential pins it).
        recipient: email (written salted and hashed) and/or DID, optional display name.
        issuer: the issuing institution (its DID is the ``issuer.id``).
        profile: ``ob3-v2``, ``ob3-v1`` or ``jwt`` (``engine.Profile`` values).
        credential_id: the credential's ``id`` (``urn:uuid:...`` or a URL).
        issued_at: issuance time (``validFrom`` / ``issuanceDate``).
        valid_until: optional expiry (``validUntil`` / ``expirationDate``).
        language: the language of the OB fields; defaults to the achievement's default.
        status: ``credentialStatus`` entries built with ``status.status_entry`` for the same
            profile. One entry is written as an object (the OB 3.0 JSON Schema allows only one);
            several as an array (see docs/credentials.md, "Status entries").
        results: results the learner obtained (grades, pass/fail).
        evidence: evidence items the learner agreed to include.
        credits_earned: credits obtained, when the achievement is credit-bearing.
        salt: salt for the email hash (random when omitted; fixed only in tests).
        memo: for a caller building many credentials of the same version objects (a signing
            worker's slice of a batch): each version's OB ``Achievement`` is built once per
            language and profile and reused (the model is only read; every credential still
            gets its own JSON). About a tenth of building a credential.
    """
    if str(profile) not in PROFILES:
        raise ValueError(
            f"unknown credential profile {profile!r}; expected one of {sorted(PROFILES)}"
        )
    kind = str(profile)
    lang = language or achievement.default_language
    if valid_until is not None and valid_until <= issued_at:
        raise ValueError("valid_until must be after issued_at")
    built = _built_achievement(achievement, lang, kind, memo)
    subject = AchievementSubject(
        id=recipient.did,
        name=recipient.name,
        identifier=[email_identity(recipient.email, salt=salt)] if recipient.email else None,
        achievement=built.achievement,
        result=list(results) or None,
        credits_earned=credits_earned,
    )
    issuer_profile = Profile(
        id=issuer.id,
        name=issuer.name_in(lang),
        url=issuer.url,
        email=issuer.email,
        image=Image(id=issuer.image_url) if issuer.image_url else None,
        description=issuer.description.get(lang) if issuer.description else None,
        official=issuer.official,
    )
    subject_json = to_json(subject)
    credential: dict[str, Any] = {
        "@context": contexts_for(
            kind,
            with_status=bool(status),
            with_extensions=_subject_uses_extensions(subject_json, built),
        ),
        "id": credential_id,
        "type": [VERIFIABLE_CREDENTIAL, OPEN_BADGE_CREDENTIAL],
        "issuer": to_json(issuer_profile),
        "name": achievement.name[lang],
    }
    if kind in VCDM_2_0_PROFILES:
        credential["validFrom"] = format_datetime(issued_at)
        if valid_until is not None:
            credential["validUntil"] = format_datetime(valid_until)
    else:
        credential["issuanceDate"] = format_datetime(issued_at)
        if valid_until is not None:
            credential["expirationDate"] = format_datetime(valid_until)
    credential["credentialSubject"] = subject_json
    if evidence:
        credential["evidence"] = [to_json(item) for item in evidence]
    if status:
        entries = [dict(entry) for entry in status]
        credential["credentialStatus"] = entries[0] if len(entries) == 1 else entries
    return credential
