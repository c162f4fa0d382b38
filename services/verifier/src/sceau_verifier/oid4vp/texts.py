"""The OpenID4VP texts a person reads (the employer's page, refusals), in French and English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sceau_verifier.schemas import Lang

__all__ = ["REFUSALS", "TEXTS", "refusal", "table"]

#: Why a wallet's answer was refused: (English, French). The wallet gets both in the problem.
REFUSALS: Final[Mapping[str, tuple[str, str]]] = {
    "not_found": (
        "No presentation request has this address.",
        "Aucune demande de présentation n'a cette adresse.",
    ),
    "expired": (
        "This presentation request has expired: ask the employer for a new one.",
        "Cette demande de présentation a expiré : demandez-en une nouvelle à l'employeur.",
    ),
    "already_answered": (
        "This presentation request was already answered (a replayed answer is refused).",
        "Cette demande de présentation a déjà reçu une réponse (une réponse rejouée est refusée).",
    ),
    "wrong_state": (
        "The answer does not carry this request's state.",
        "La réponse ne porte pas l'état (state) de cette demande.",
    ),
    "malformed": (
        "The answer holds no readable vp_token for this request's credential query.",
        "La réponse ne contient pas de vp_token lisible pour la requête de titre demandée.",
    ),
    "wrong_nonce": (
        "The presentation does not answer this request's nonce (challenge): possible replay.",
        "La présentation ne répond pas au nonce (défi) de cette demande : rejeu possible.",
    ),
    "wrong_audience": (
        "The presentation was made for another verifier (its domain is not this client_id).",
        "La présentation a été faite pour un autre vérificateur (son domaine n'est pas ce "
        "client_id).",
    ),
    "holder_proof": (
        "The presentation's signature does not prove the holder's key.",
        "La signature de la présentation ne prouve pas la clé du détenteur.",
    ),
    "holder_binding": (
        "A presented credential was not issued to the holder who signed the presentation.",
        "Un titre présenté n'a pas été délivré au détenteur qui a signé la présentation.",
    ),
    "not_requested": (
        "No presented credential is of the requested achievement or institution.",
        "Aucun titre présenté ne correspond à la formation ou à l'établissement demandés.",
    ),
}


def refusal(reason: str, lang: Lang) -> str:
    """The refusal text of ``reason`` in ``lang``."""
    en, fr = REFUSALS[reason]
    return fr if lang == "fr" else en


#: The employer's page: key -> (French, English).
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "title": ("Demander un titre à un portefeuille", "Ask a wallet for a credential"),
    "intro": (
        "Demandez à une personne candidate de présenter un titre depuis son portefeuille "
        "numérique (OpenID4VP). Indiquez la formation ou l'établissement attendu : la "
        "personne scanne le code QR avec son portefeuille, choisit le titre et le présente; "
        "cette page montre alors la vérification expliquée.",
        "Ask a candidate to present a credential from their digital wallet (OpenID4VP). Say "
        "which achievement or institution you expect: the candidate scans the QR code with "
        "their wallet, chooses the credential and presents it; this page then shows the "
        "explained verification.",
    ),
    "achievement_label": ("Identifiant de la formation (URL)", "Achievement identifier (URL)"),
    "achievement_hint": (
        "L'identifiant de la formation, tel qu'il figure dans les titres "
        "(« achievement.id »). Facultatif si l'établissement est indiqué.",
        'The achievement\'s identifier as it appears in credentials ("achievement.id"). '
        "Optional when the institution is given.",
    ),
    "issuer_label": ("Établissement émetteur (DID)", "Issuing institution (DID)"),
    "issuer_hint": (
        "Le DID de l'établissement (commence par « did: »). Facultatif si la formation est "
        "indiquée.",
        'The institution\'s DID (starts with "did:"). Optional when the achievement is given.',
    ),
    "create": ("Créer la demande", "Create the request"),
    "waiting_title": ("Demande de présentation", "Presentation request"),
    "asked_for": ("Titre demandé", "Credential asked for"),
    "achievement": ("Formation", "Achievement"),
    "issuer": ("Établissement", "Institution"),
    "scan": (
        "Avec le portefeuille de la personne candidate, scannez ce code QR, ou, sur le "
        "téléphone où le portefeuille est installé, touchez « Ouvrir dans le portefeuille ».",
        "With the candidate's wallet, scan this QR code or, on the phone where the wallet is "
        'installed, tap "Open in the wallet".',
    ),
    "qr": ("Code QR de la demande de présentation", "QR code of the presentation request"),
    "open_wallet": ("Ouvrir dans le portefeuille", "Open in the wallet"),
    "expires": ("La demande expire à {time} (UTC).", "The request expires at {time} (UTC)."),
    "waiting": (
        "En attente de la réponse du portefeuille…",
        "Waiting for the wallet's answer…",
    ),
    "check_again": ("Vérifier si la réponse est arrivée", "Check whether the answer arrived"),
    "answered_title": ("Titre présenté", "Presented credential"),
    "presented_by": ("Présenté par le détenteur", "Presented by the holder"),
    "presentation_checks": (
        "Contrôles de la présentation",
        "Presentation checks",
    ),
    "check_nonce": (
        "La présentation répond au défi (nonce) de cette demande : ce n'est pas un rejeu.",
        "The presentation answers this request's challenge (nonce): it is not a replay.",
    ),
    "check_audience": (
        "La présentation a été faite pour ce vérificateur (domaine = client_id).",
        "The presentation was made for this verifier (domain = client_id).",
    ),
    "check_holder": (
        "Le détenteur a signé la présentation et les titres lui ont été délivrés.",
        "The holder signed the presentation and the credentials were issued to them.",
    ),
    "check_query": (
        "Le titre présenté correspond à la demande.",
        "The presented credential matches the request.",
    ),
    "declined_title": ("Le portefeuille a refusé", "The wallet declined"),
    "declined": (
        "Le portefeuille a répondu sans présenter de titre ({code}).",
        "The wallet answered without presenting a credential ({code}).",
    ),
    "expired_title": ("Demande expirée", "Request expired"),
    "expired": (
        "Aucun portefeuille n'a répondu à temps. Créez une nouvelle demande.",
        "No wallet answered in time. Create a new request.",
    ),
    "new_request": ("Nouvelle demande", "New request"),
    "unavailable_title": (
        "Demandes de présentation indisponibles",
        "Presentation requests unavailable",
    ),
    "unavailable": (
        "Les demandes de présentation (OpenID4VP) ne sont pas disponibles sur ce vérificateur "
        "pour le moment. Vous pouvez toujours vérifier un fichier ou un lien de partage.",
        "Presentation requests (OpenID4VP) are not available on this verifier right now. You "
        "can still verify a file or a share link.",
    ),
    "not_found_title": ("Demande introuvable", "Request not found"),
    "not_found": (
        "Cette demande n'existe pas ou n'a pas été créée dans ce navigateur.",
        "This request does not exist or was not created in this browser.",
    ),
    "invalid_query": (
        "Indiquez une formation (URL absolue) ou un établissement (DID), ou les deux.",
        "Give an achievement (absolute URL) or an institution (DID), or both.",
    ),
    "verify_file": ("Vérifier un fichier", "Verify a file"),
}


def table(lang: Lang) -> dict[str, str]:
    """Every page text in ``lang`` (the templates read them as ``O['key']``)."""
    position = 0 if lang == "fr" else 1
    return {key: pair[position] for key, pair in TEXTS.items()}
