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
    "file_hint": {
        "fr": "Un fichier JSON ou JWT, ou l'image du badge (PNG ou SVG) qui contient le titre.",
        "en": "A JSON or JWT file, or the badge image (PNG or SVG) that carries the credential.",
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
    "endorsements_heading": {"fr": "Approbations", "en": "Endorsements"},
    "endorsements_note": {
        "fr": "Chaque approbation est vérifiée séparément; une approbation non vérifiée "
        "ne change pas le résultat du titre.",
        "en": "Each endorsement is checked on its own; an unverified endorsement does not "
        "change the credential's result.",
    },
    "endorsement_comment": {"fr": "Commentaire", "en": "Comment"},
    "endorsement_why": {"fr": "Pourquoi", "en": "Why"},
    "endorsement_claimed_name": {
        "fr": "(nom indiqué dans l'approbation, non confirmé par le registre)",
        "en": "(name stated in the endorsement, not confirmed by the registry)",
    },
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
    "credit_bearing": {"fr": "Avec crédits", "en": "Credit-bearing"},
    "field_of_study": {"fr": "Domaine d'études", "en": "Field of study"},
    "quality_assurance": {"fr": "Assurance qualité", "en": "Quality assurance"},
    "qa_body": {"fr": "Organisme d'AQ (registre)", "en": "Quality assurance body (registry)"},
    "approvals": {"fr": "Approbations (registre)", "en": "Approvals (registry)"},
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
    # Share links (GET /s/{token}) and the home page's explanation of them
    "share_title": {"fr": "Titre de compétences partagé", "en": "Shared credential"},
    "share_intro": {
        "fr": "Une personne vous a transmis ce lien vers son titre de compétences. Sceau "
        "vient de le vérifier, à l'instant, auprès de l'établissement qui l'a décerné.",
        "en": "Someone sent you this link to their credential. Sceau has just verified it, "
        "at this very moment, with the institution that awarded it.",
    },
    "share_checked_at": {
        "fr": "Vérifié le {moment} (UTC).",
        "en": "Verified on {moment} (UTC).",
    },
    "share_link_expires": {
        "fr": "Ce lien de partage expire le {date}.",
        "en": "This share link expires on {date}.",
    },
    "share_hidden": {
        "fr": "La personne a choisi de ne pas partager certains éléments : {fields}. Le "
        "document présenté a été signé par l'établissement sans eux.",
        "en": "The person chose not to share some parts: {fields}. The document shown was "
        "signed by the institution without them.",
    },
    "hidden_result": {"fr": "le résultat", "en": "the result"},
    "hidden_evidence": {"fr": "les preuves", "en": "the evidence"},
    "share_revoked_credential": {
        "fr": "Ce titre a été révoqué ou suspendu par l'établissement : il n'est plus valide.",
        "en": "The institution has revoked or suspended this credential: it is no longer valid.",
    },
    "share_expired_credential": {
        "fr": "Ce titre est expiré (ou n'est pas encore en vigueur) : il n'est pas valide "
        "aujourd'hui.",
        "en": "This credential has expired (or is not in force yet): it is not valid today.",
    },
    "share_download": {
        "fr": "Télécharger le titre signé présenté ici",
        "en": "Download the signed credential shown here",
    },
    "share_download_hint": {
        "fr": "Vous pouvez vérifier ce fichier vous-même sur la page d'accueil de Sceau ou avec "
        "tout outil compatible avec les attestations vérifiables du W3C.",
        "en": "You can check this file yourself on Sceau's home page or with any tool that "
        "supports W3C Verifiable Credentials.",
    },
    "verify_another": {"fr": "Vérifier un autre titre", "en": "Verify another credential"},
    "gone_title": {"fr": "Ce lien n'est plus valide", "en": "This link is no longer valid"},
    "gone_revoked": {
        "fr": "La personne qui vous a transmis ce lien l'a retiré. Demandez-lui un nouveau "
        "lien si vous avez encore besoin de vérifier son titre.",
        "en": "The person who sent you this link has withdrawn it. Ask them for a new link if "
        "you still need to check their credential.",
    },
    "gone_expired": {
        "fr": "Ce lien de partage est arrivé à expiration. Demandez un nouveau lien à la "
        "personne qui vous l'a transmis.",
        "en": "This share link has expired. Ask the person who sent it for a new link.",
    },
    "not_found_title": {"fr": "Lien introuvable", "en": "Link not found"},
    "not_found_body": {
        "fr": "Aucun titre ne correspond à ce lien. Vérifiez qu'il a été copié en entier, "
        "ou demandez-en un nouveau à la personne qui vous l'a transmis.",
        "en": "No credential matches this link. Check that it was copied in full, or ask the "
        "person who sent it for a new one.",
    },
    "unavailable_title": {
        "fr": "Vérification momentanément impossible",
        "en": "Verification temporarily unavailable",
    },
    "unavailable_body": {
        "fr": "Le service qui conserve ce lien ne répond pas. Réessayez dans quelques minutes.",
        "en": "The service that keeps this link is not answering. Try again in a few minutes.",
    },
    "links_title": {
        "fr": "Vous avez reçu un lien ou un code QR?",
        "en": "Did you receive a link or a QR code?",
    },
    "links_body": {
        "fr": "Les titulaires peuvent partager leur titre au moyen d'un lien qui commence par "
        "l'adresse de ce site suivie de « /s/ », ou d'un code QR qui mène au même lien. "
        "Ouvrez le lien, ou lisez le code QR avec l'appareil photo de votre téléphone : le "
        "titre est vérifié au moment où vous l'ouvrez et le résultat s'affiche, sans fichier "
        "à télécharger ni compte à créer.",
        "en": "Holders can share their credential with a link made of this site's address "
        "followed by \u201c/s/\u201d, or with a QR code that leads to the same link. Open "
        "the link, or scan the QR code with your phone's camera: the credential is verified "
        "at the moment you open it and the result is shown, with no file to download and no "
        "account to create.",
    },
    "links_privacy": {
        "fr": "Un lien de partage peut expirer ou être retiré par son titulaire : il "
        "affiche alors « lien plus valide ». Il n'est jamais répertorié par les moteurs de "
        "recherche.",
        "en": "A share link may expire or be withdrawn by its holder: it then says the link "
        "is no longer valid. Search engines never list it.",
    },
    # Baked badges
    "baked_from": {
        "fr": "Titre lu dans l'image du badge ({kind}).",
        "en": "Credential read from the badge image ({kind}).",
    },
    "baked_too_large": {
        "fr": "L'image dépasse 1 Mio : ce n'est pas un badge.",
        "en": "The image is larger than 1 MiB: it is not a badge.",
    },
    "baked_nothing_inside": {
        "fr": "Cette image ne contient aucun titre Open Badges : téléversez le badge tel "
        "qu'il a été remis (PNG ou SVG « cuit »), ou le fichier du titre.",
        "en": "This image carries no Open Badges credential: upload the badge as it was "
        "handed out (a baked PNG or SVG), or the credential file.",
    },
    "baked_unreadable": {
        "fr": "Le titre contenu dans cette image est illisible : le fichier est endommagé ou "
        "n'est pas une image PNG ou SVG valide.",
        "en": "The credential in this image cannot be read: the file is damaged or is not a "
        "valid PNG or SVG image.",
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
    "warn_superseded": {
        "fr": "Ce titre a été remplacé : l'établissement a émis à sa place le titre {by}. "
        "Demandez au titulaire la version à jour.",
        "en": "This credential has been superseded: the institution issued {by} in its place. "
        "Ask its holder for the current version.",
    },
    "warn_superseded_revoked": {
        "fr": "Ce titre a été révoqué parce qu'il a été remplacé par une version corrigée, le "
        "titre {by}. Demandez au titulaire la version à jour.",
        "en": "This credential was revoked because a corrected version replaces it: {by}. "
        "Ask its holder for the current version.",
    },
    "superseded_label": {"fr": "Remplacé par", "en": "Superseded by"},
    "warn_refreshed_verified": {
        "fr": "Le service d'actualisation de l'établissement fournit une version à jour de ce "
        "titre; elle a été vérifiée à son tour : vérifiée.",
        "en": "The institution's refresh service provides an up-to-date version of this "
        "credential; it was verified too: verified.",
    },
    "warn_refreshed_not-verified": {
        "fr": "Le service d'actualisation de l'établissement fournit une version à jour de ce "
        "titre; elle a été vérifiée à son tour : NON vérifiée.",
        "en": "The institution's refresh service provides an up-to-date version of this "
        "credential; it was verified too: NOT verified.",
    },
    "warn_refreshed_inconclusive": {
        "fr": "Le service d'actualisation de l'établissement fournit une version à jour de ce "
        "titre; sa vérification n'a pas abouti (résultat incertain).",
        "en": "The institution's refresh service provides an up-to-date version of this "
        "credential; its verification was inconclusive.",
    },
    "warn_refresh_failed": {
        "fr": "Le service d'actualisation indiqué dans le titre n'a pas fourni de version à "
        "jour; le titre est vérifié tel qu'il a été présenté.",
        "en": "The refresh service named in the credential gave no up-to-date version; the "
        "credential is verified as presented.",
    },
    "warn_refresh_other_issuer": {
        "fr": "Le service d'actualisation a fourni un document qui n'est pas un titre du même "
        "établissement; il a été ignoré.",
        "en": "The refresh service returned a document that is not a credential of the same "
        "institution; it was ignored.",
    },
    "refreshed_heading": {
        "fr": "Version à jour fournie par l'établissement",
        "en": "Up-to-date version from the institution",
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
    "approval": {
        "institutional-approval": {
            "fr": "Approbation par l'établissement",
            "en": "Institutional approval",
        },
        "ministry-approval": {"fr": "Approbation du ministère", "en": "Ministry approval"},
        "osap-eligible": {"fr": "Admissible au RAFEO", "en": "OSAP-eligible"},
        "sector-review": {"fr": "Examen par le secteur", "en": "Sector or industry review"},
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
