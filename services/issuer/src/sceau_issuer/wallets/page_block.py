"""The learner page's "add to my wallet" block: words (FR/EN), deep links, QR codes, tx code."""

from __future__ import annotations

from typing import Any

from sceau_issuer.learners.qr import qr_svg
from sceau_issuer.wallets.service import OfferView

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Ajouter à mon portefeuille numérique",
        "intro": "Votre portefeuille (application compatible OpenID4VCI) reçoit une copie de ce "
        "titre signée pour lui. Prendre l'offre vaut acceptation du titre. Chaque offre ne "
        "sert qu'une fois et expire vite.",
        "make": "Créer une offre pour mon portefeuille",
        "with_code": "La protéger par un code à 6 chiffres (à saisir dans le portefeuille)",
        "scan": "Scannez ce code avec votre portefeuille, ou ouvrez le lien sur ce téléphone :",
        "open": "Ouvrir dans mon portefeuille",
        "code": "Code à saisir dans le portefeuille",
        "expires": "Offre valable jusqu'à",
        "qr": "Code QR de l'offre pour votre portefeuille",
        "declined": "Vous avez refusé ce titre : acceptez-le pour l'ajouter à un portefeuille.",
        "lcw_title": "Avec le Learner Credential Wallet (DCC)",
        "lcw_intro": "Le Learner Credential Wallet ne lit pas les offres OpenID4VCI : ouvrez ce "
        "lien sur le téléphone où il est installé, ou scannez ce code depuis l'application "
        "(Ajouter un titre, puis Scanner un code QR). La même offre sert une seule fois, quel "
        "que soit le portefeuille qui la prend.",
        "lcw_open": "Ouvrir dans le Learner Credential Wallet",
        "lcw_qr": "Code QR pour le Learner Credential Wallet",
    },
    "en": {
        "title": "Add to my digital wallet",
        "intro": "Your wallet (an OpenID4VCI-compatible app) receives a copy of this credential "
        "signed for it. Taking the offer counts as accepting the credential. Each offer works "
        "once and expires soon.",
        "make": "Make an offer for my wallet",
        "with_code": "Protect it with a 6-digit code (to type into the wallet)",
        "scan": "Scan this code with your wallet, or open the link on this phone:",
        "open": "Open in my wallet",
        "code": "Code to type into the wallet",
        "expires": "Offer valid until",
        "qr": "QR code of the offer for your wallet",
        "declined": "You declined this credential: accept it to add it to a wallet.",
        "lcw_title": "With the Learner Credential Wallet (DCC)",
        "lcw_intro": "The Learner Credential Wallet does not read OpenID4VCI offers: open this "
        "link on the phone where it is installed, or scan this code from the app (Add "
        "credential, then Scan QR code). The same offer works once, whichever wallet takes it.",
        "lcw_open": "Open in the Learner Credential Wallet",
        "lcw_qr": "Learner Credential Wallet QR code",
    },
}


def offer_block(offer: OfferView | None, *, lang: str, declined: bool) -> dict[str, Any]:
    """What the page's wallet section shows (the template lays it out)."""
    t = TEXTS[lang]
    block: dict[str, Any] = {"t": t, "declined": declined, "offer": None}
    if offer is not None and not declined:
        block["offer"] = {
            "deep_link": offer.deep_link,
            "tx_code": offer.tx_code,
            "expires": offer.expires_at.strftime("%H:%M UTC"),
            "qr_svg": qr_svg(offer.deep_link, title=t["qr"]),
            "lcw_link": offer.lcw_link,
            "lcw_qr_svg": qr_svg(offer.lcw_link, title=t["lcw_qr"]),
        }
    return block
