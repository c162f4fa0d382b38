"""French and English texts of the verifier (page labels, warnings, display values).

Kept as data in one place so that both languages are written side by side: a string added in one
language and forgotten in the other shows up in review, and the unit test checks every key has
both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sceau_verifier.schemas import Lang

__all__ = ["LANGS", "TEXTS", "VALUE_LABELS", "label", "negotiate", "text"]

LANGS: Final = ("fr", "en")

TEXTS: Final[Mapping[str, Mapping[str, str]]] = {
    "page_title": {"fr": "Vérifier un titre de compétences", "en": "Verify a credential"},
    "intro": {
        "fr": "Collez le contenu d'un titre numérique (fichier JSON ou jeton JWT) ou "
        "téléversez son fichier pour savoir s'il est authentique, valide et émis par un "
        "établissement reconnu. Aucun compte n'est nécessaire.",
        "en": "Paste a digital credential (JSON file or JWT token) or upload its file to find "
        "out whether it is genuine, valid and issued by a recognised institution. No account "
        "is needed.",
    },
    "what_is_title": {
        "fr": "Qu'est-ce qu'un micro-titre?",
        "en": "What is a micro-credential?",
    },
    "what_is_body": {
        "fr": "Un micro-titre de compétences atteste une formation courte et évaluée : il "
        "précise les compétences acquises, la façon dont elles ont été évaluées, le nombre "
        "d'heures et l'établissement qui l'a décerné. Sa signature numérique permet de "
        "vérifier qu'il n'a pas été modifié.",
        "en": "A micro-credential certifies a short, assessed learning experience: it states "
        "the competencies acquired, how they were assessed, the number of hours and the "
        "institution that awarded it. Its digital signature shows it has not been altered.",
    },
    "paste_label": {
        "fr": "Contenu du titre (JSON ou JWT)",
        "en": "Credential content (JSON or JWT)",
    },
    "file_label": {
        "fr": "Ou téléversez le fichier du titre",
        "en": "Or upload the credential file",
    },
    "submit": {"fr": "Vérifier", "en": "Verify"},
    "switch_language": {"fr": "English", "en": "Français"},
    "result_heading": {"fr": "Résultat de la vérification", "en": "Verification result"},
    "outcome_verified": {
        "fr": "Titre vérifié : authentique, valide et émis par un établissement reconnu.",
        "en": "Credential verified: genuine, valid and issued by a recognised institution.",
    },
    "outcome_not-verified": {
        "fr": "Titre NON vérifié : au moins une vérification a échoué.",
        "en": "Credential NOT verified: at least one check failed.",
    },
    "outcome_inconclusive": {
        "fr": "Vérification incomplète : certains points n'ont pas pu être confirmés. Ne "
        "considérez pas ce titre comme valide pour l'instant.",
        "en": "Verification incomplete: some points could not be confirmed. Do not treat "
        "this credential as valid for now.",
    },
    "checks_heading": {"fr": "Détail des vérifications", "en": "Checks performed"},
    "status_passed": {"fr": "Réussi", "en": "Passed"},
    "status_failed": {"fr": "Échec", "en": "Failed"},
    "status_inconclusive": {"fr": "Indéterminé", "en": "Inconclusive"},
    "check_structure": {"fr": "Structure du titre", "en": "Credential structure"},
    "check_proof": {"fr": "Signature numérique", "en": "Digital signature"},
    "check_validity": {"fr": "Période de validité", "en": "Validity period"},
    "check_status": {"fr": "Révocation et suspension", "en": "Revocation and suspension"},
    "check_issuer": {"fr": "Établissement émetteur", "en": "Issuing institution"},
    "check_presentation": {"fr": "Présentation", "en": "Presentation"},
    "informative": {"fr": "(informatif)", "en": "(informative)"},
    "warnings_heading": {"fr": "Avertissements", "en": "Warnings"},
    "summary_heading": {"fr": "Ce que ce titre atteste", "en": "What this credential attests"},
    "institution": {"fr": "Établissement", "en": "Institution"},
    "institution_from_credential": {
        "fr": "(nom indiqué dans le titre, non confirmé par le registre)",
        "en": "(name stated in the credential, not confirmed by the registry)",
    },
    "recipient": {"fr": "Titulaire", "en": "Holder"},
    "achievement": {"fr": "Titre", "en": "Achievement"},
    "achievement_type": {"fr": "Type", "en": "Type"},
    "description": {"fr": "Description", "en": "Description"},
    "criteria": {"fr": "Critères d'obtention", "en": "Criteria"},
    "competencies": {"fr": "Compétences", "en": "Competencies"},
    "framework": {"fr": "Référentiel", "en": "Framework"},
    "level": {"fr": "Niveau", "en": "Level"},
    "level_definition": {"fr": "Définition du niveau", "en": "Level definition"},
    "hours": {"fr": "Durée", "en": "Duration"},
    "hours_value": {"fr": "{hours} h", "en": "{hours} h"},
    "assessment": {"fr": "Évaluation", "en": "Assessment"},
    "result": {"fr": "Résultat", "en": "Result"},
    "delivery_mode": {"fr": "Mode de prestation", "en": "Delivery mode"},
    "pacing": {"fr": "Rythme", "en": "Pacing"},
    "applied_learning": {"fr": "Apprentissage appliqué", "en": "Applied learning"},
    "yes": {"fr": "Oui", "en": "Yes"},
    "no": {"fr": "Non", "en": "No"},
    "instruction_languages": {"fr": "Langue d'enseignement", "en": "Language of instruction"},
    "credits": {"fr": "Crédits", "en": "Credits"},
    "non_credit": {"fr": "Sans crédit", "en": "Non-credit"},
    "field_of_study": {"fr": "Domaine d'études", "en": "Field of study"},
    "quality_assurance": {"fr": "Assurance qualité", "en": "Quality assurance"},
    "issued_on": {"fr": "Date d'obtention", "en": "Date earned"},
    "valid_until": {"fr": "Valide jusqu'au", "en": "Valid until"},
    "no_expiry": {"fr": "Sans date d'expiration", "en": "Does not expire"},
    "language_fallback": {
        "fr": "Ce titre n'existe pas en français; le texte est affiché dans sa langue d'origine.",
        "en": "This credential has no English version; the text is shown in its original language.",
    },
    "in_presentation": {
        "fr": "Titre n° {n} de la présentation",
        "en": "Credential {n} of the presentation",
    },
    "error_heading": {"fr": "Impossible de lire ce titre", "en": "This credential cannot be read"},
    "empty_input": {
        "fr": "Collez le contenu du titre ou choisissez un fichier.",
        "en": "Paste the credential content or choose a file.",
    },
    "skip_link": {"fr": "Aller au contenu", "en": "Skip to content"},
    "colon": {"fr": " : ", "en": ": "},
    "level_definition_link": {
        "fr": "Définition de ce niveau",
        "en": "Definition of this level",
    },
    "footer": {
        "fr": "Sceau — vérification publique des titres de compétences.",
        "en": "Sceau — public verification of credentials.",
    },
    # Warnings
    "warn_name_mismatch": {
        "fr": "Le nom de l'émetteur inscrit dans le titre (« {claimed} ») diffère du nom que le "
        "registre associe à cet identifiant (« {registered} »).",
        "en": "The issuer name in the credential (\u201c{claimed}\u201d) differs from the "
        "registry's name for this DID (\u201c{registered}\u201d).",
    },
    "warn_unregistered_name": {
        "fr": "L'émetteur se présente comme « {claimed} », mais son identifiant n'est pas "
        "inscrit au registre : ce nom n'est pas confirmé.",
        "en": "The issuer calls itself \u201c{claimed}\u201d, but its identifier is not in the "
        "registry: that name is unconfirmed.",
    },
    "warn_issuer_inactive_now": {
        "fr": "L'établissement est aujourd'hui au statut « {status} » dans le registre; il "
        "était accrédité à la date d'émission, le titre reste donc valide.",
        "en": "The institution's registry status today is \u201c{status}\u201d; it was "
        "accredited on the issuance date, so the credential stays valid.",
    },
    "warn_no_status": {
        "fr": "Ce titre ne comporte pas d'entrée de statut : une révocation ne pourrait pas "
        "être détectée.",
        "en": "This credential has no status entry: a revocation could not be detected.",
    },
}


#: Display names of the controlled values credentials carry (unknown values are shown as is).
VALUE_LABELS: Final[Mapping[str, Mapping[str, Mapping[str, str]]]] = {
    "achievementType": {
        "MicroCredential": {"fr": "Micro-titre de compétences", "en": "Micro-credential"},
        "Badge": {"fr": "Badge", "en": "Badge"},
        "Certificate": {"fr": "Certificat", "en": "Certificate"},
        "Certification": {"fr": "Certification", "en": "Certification"},
        "Course": {"fr": "Cours", "en": "Course"},
        "Diploma": {"fr": "Diplôme", "en": "Diploma"},
    },
    "courseMode": {
        "online": {"fr": "En ligne", "en": "Online"},
        "blended": {"fr": "Hybride", "en": "Hybrid"},
        "onsite": {"fr": "En personne", "en": "In person"},
    },
    "pacing": {
        "self-paced": {"fr": "À son rythme", "en": "Self-paced"},
        "synchronous": {"fr": "Synchrone", "en": "Synchronous"},
        "cohort": {"fr": "En cohorte", "en": "Cohort"},
    },
    "assessmentMethod": {
        "project": {"fr": "Projet", "en": "Project"},
        "practical": {"fr": "Tâche pratique", "en": "Practical task"},
        "quiz": {"fr": "Questionnaire", "en": "Quiz"},
        "discussion": {"fr": "Discussion", "en": "Discussion"},
        "exam": {"fr": "Examen", "en": "Exam"},
        "portfolio": {"fr": "Portfolio", "en": "Portfolio"},
        "prior-learning": {
            "fr": "Reconnaissance des acquis",
            "en": "Recognition of prior learning",
        },
        "participation": {"fr": "Participation", "en": "Participation"},
    },
    "skillType": {
        "ext:TechnicalSkill": {"fr": "compétence technique", "en": "technical skill"},
        "ext:NonTechnicalSkill": {"fr": "compétence non technique", "en": "non-technical skill"},
    },
    "language": {
        "fr": {"fr": "Français", "en": "French"},
        "en": {"fr": "Anglais", "en": "English"},
    },
}


def label(kind: str, value: str, lang: Lang) -> str:
    """The display name of a controlled ``value`` (e.g. ``courseMode`` ``online``) in ``lang``."""
    names = VALUE_LABELS.get(kind, {}).get(value)
    return names[lang] if names else value


def text(key: str, lang: Lang, **values: object) -> str:
    """Return the text ``key`` in ``lang`` with ``{placeholders}`` filled."""
    template = TEXTS[key][lang]
    return template.format(**values) if values else template


def negotiate(query_lang: str | None, accept_language: str | None) -> Lang:
    """Pick ``fr`` or ``en``: ``?lang=`` first, then the best ``Accept-Language`` match, else fr.

    French is the default because the verifier serves Ontario/Canada institutions where French
    must never be an afterthought; an English browser says so with ``Accept-Language``.
    """
    if query_lang:
        short = query_lang.strip().lower()[:2]
        if short in LANGS:
            return "fr" if short == "fr" else "en"
    best: tuple[float, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        short = tag.strip().lower()[:2]
        if short not in LANGS:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if quality <= 0:
            continue
        # Earlier entries win ties, as browsers list preferences in order.
        score = quality - position * 1e-6
        lang: Lang = "fr" if short == "fr" else "en"
        if best is None or score > best[0]:
            best = (score, lang)
    return best[1] if best else "fr"
