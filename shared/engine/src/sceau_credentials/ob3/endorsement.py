"""Build an unsigned Open Badges 3.0 ``EndorsementCredential`` (VCDM 2.0), and read one back.

An endorsement is a credential of its own, signed by the endorsing body's key like any other
(``eddsa-rdfc-2022`` in profile ``ob3-v2``), whose subject is the thing endorsed: an achievement
(its ``Achievement.id``) or, with the learner's consent, one credential (its ``id``). It is then
embedded, unchanged, in ``credentialSubject.achievement.endorsement`` of the credentials issued
for that achievement, so a verifier can check it on its own.

Languages: OB 3.0 makes ``endorsementComment`` one string (Markdown). It holds the comment in the
endorser's first language, so every OB reader shows it; the comment in every language is also
carried as a JSON-LD language map, ``endorsementCommentMap`` (term of Sceau's vocabulary, declared
in the endorsement's inline context), so a French or English reader gets its own language and the
signature covers both. The official schema allows the extra term (``EndorsementSubject`` accepts
additional properties) and the ``@context`` keeps VC v2 then OB 3.0.3 first, as 1EdTech's
validator requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sceau_credentials.ob3.authoring import IssuerProfile
from sceau_credentials.ob3.builder import format_datetime
from sceau_credentials.ob3.constants import (
    ENDORSEMENT_CREDENTIAL,
    OB_V3P0_3_CONTEXT,
    SCEAU_VOCAB,
    VC_V2_CONTEXT,
    VERIFIABLE_CREDENTIAL,
)
from sceau_credentials.ob3.fields import as_list, id_of, types_of

__all__ = [
    "COMMENT_MAP",
    "ENDORSEMENT_CONTEXT",
    "build_endorsement",
    "endorsement_comment",
    "endorsements_of",
    "is_endorsement",
]

#: The language-map term carrying the comment in every language.
COMMENT_MAP: Final = "endorsementCommentMap"

#: The inline context an endorsement carries after VC v2 and OB 3.0.3.
ENDORSEMENT_CONTEXT: Final[dict[str, Any]] = {
    COMMENT_MAP: {"@id": SCEAU_VOCAB + "endorsementComment", "@container": "@language"},
}

_NAME: Final = {
    "fr": "Approbation de « {achievement} » par {endorser}",
    "en": "Endorsement of “{achievement}” by {endorser}",
}


def build_endorsement(
    *,
    endorser: IssuerProfile,
    subject_id: str,
    subject_name: Mapping[str, str],
    comment: Mapping[str, str],
    credential_id: str,
    issued_at: datetime,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """The unsigned ``EndorsementCredential`` of ``endorser`` about ``subject_id``.

    Args:
        endorser: the endorsing body (its DID is the ``issuer.id`` and must control the key).
        subject_id: what is endorsed: an ``Achievement.id`` or a credential ``id``.
        subject_name: its name per language (for the endorsement's ``name``).
        comment: the endorser's comment per language (at least one non-empty).
        credential_id: the endorsement's own id (``urn:uuid:…``).
        issued_at: ``validFrom``.
        valid_until: ``validUntil``, if the endorsement lapses.

    Raises:
        ValueError: no comment text in any language.
    """
    texts = {lang: text.strip() for lang, text in comment.items() if text and text.strip()}
    if not texts:
        raise ValueError("an endorsement needs a comment in at least one language")
    languages = [lang for lang in ("fr", "en") if lang in texts] + sorted(
        lang for lang in texts if lang not in ("fr", "en")
    )
    first = languages[0]
    achievement = subject_name.get(first) or next(iter(subject_name.values()), subject_id)
    template = _NAME.get(first, _NAME["en"])
    document: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT, OB_V3P0_3_CONTEXT, dict(ENDORSEMENT_CONTEXT)],
        "id": credential_id,
        "type": [VERIFIABLE_CREDENTIAL, ENDORSEMENT_CREDENTIAL],
        "name": template.format(achievement=achievement, endorser=endorser.name_in(first)),
        "issuer": {
            "id": endorser.id,
            "type": ["Profile"],
            "name": endorser.name_in(first),
            **({"url": endorser.url} if endorser.url else {}),
        },
        "validFrom": format_datetime(issued_at),
        "credentialSubject": {
            "id": subject_id,
            "type": ["EndorsementSubject"],
            "endorsementComment": texts[first],
            COMMENT_MAP: {lang: texts[lang] for lang in languages},
        },
    }
    if valid_until is not None:
        document["validUntil"] = format_datetime(valid_until)
    return document


def endorsement_comment(endorsement: Mapping[str, Any], lang: str) -> str | None:
    """The endorser's comment in ``lang`` (else the plain ``endorsementComment``)."""
    subject = endorsement.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return None
    texts = subject.get(COMMENT_MAP)
    if isinstance(texts, Mapping):
        text = texts.get(lang)
        if isinstance(text, str) and text:
            return text
    plain = subject.get("endorsementComment")
    return plain if isinstance(plain, str) and plain else None


def endorsements_of(credential: Mapping[str, Any]) -> list[tuple[str, str | None, object]]:
    """Every endorsement embedded where OB 3.0 puts them for what the credential is about.

    Returns ``(where, endorsed_id, endorsement)``: ``where`` names the holder
    (``achievement`` or ``credential``), ``endorsed_id`` is what an endorsement there must
    endorse (the achievement's or the credential's id). Entries that are not objects are
    returned too (a verifier reports them as unverified).
    """
    found: list[tuple[str, str | None, object]] = []
    for subject in as_list(credential.get("credentialSubject")):
        if not isinstance(subject, Mapping):
            continue
        achievement = subject.get("achievement")
        if isinstance(achievement, Mapping):
            achievement_id = id_of(achievement.get("id"))
            for item in as_list(achievement.get("endorsement")):
                found.append(("achievement", achievement_id, item))
    credential_id = id_of(credential.get("id"))
    for item in as_list(credential.get("endorsement")):
        found.append(("credential", credential_id, item))
    return found


def is_endorsement(document: object) -> bool:
    """Whether ``document`` says it is an ``EndorsementCredential``."""
    return isinstance(document, Mapping) and ENDORSEMENT_CREDENTIAL in types_of(document)
