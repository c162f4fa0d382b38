"""The PDF certificate: bilingual, A4 or Letter, tagged (PDF/UA-1), real text, its signed file.

WeasyPrint renders a small HTML template (``templates/certificate.html``) with
``pdf_variant="pdf/ua-1"``, which writes the structure tree from the HTML: ``section`` → ``Sect``,
``h1``/``h2``/``h3`` → ``H1``/``H2``/``H3``, ``p`` → ``P``, the label/value table as
``Table``/``TR``/``TH``/``TD`` (headers linked to their cells), the competencies as ``L``/``LI``,
images as ``Figure`` with their ``alt`` as ``Alt``; every text run sits in a marked-content
sequence bound to its element, and borders/backgrounds are marked as artifacts. It also sets the
document language, the title shown as the window title (``DisplayDocTitle``), ``MarkInfo
/Marked true`` and the PDF/UA identification in the XMP metadata.

WeasyPrint 70 does not carry an element's ``lang`` attribute into the structure tree, so
:func:`_finish` (its public ``finisher`` hook) writes ``Lang`` on each language's ``Sect``, and
marks the signed credential, attached as an embedded file, as the PDF's ``Source`` (associated
file) so the paper copy carries its own verifiable original. Nothing is fetched while rendering:
images are ``data:`` URLs and any other URL is refused.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pydyf
from jinja2 import Environment, PackageLoader, select_autoescape
from weasyprint import HTML, Attachment, Document, URLFetcher

from sceau_issuer.learners.qr import qr_png

WORDS = {
    "fr": {
        "heading": "Attestation de titre de compétences",
        "awarded": "Décerné à",
        "issuer": "Établissement",
        "competencies": "Compétences",
        "hours": "Durée",
        "hours_unit": "heures",
        "issued": "Délivré le",
        "valid_until": "Valide jusqu'au",
        "credential_id": "Identifiant du titre",
        "verify": "Vérifier ce titre : balayez le code QR ou ouvrez :",
        "qr_alt": "Code QR menant à la vérification en ligne de ce titre",
        "badge_alt": "Badge du titre",
        "attached": "Le titre signé (fichier vérifiable) est joint à ce PDF.",
    },
    "en": {
        "heading": "Credential certificate",
        "awarded": "Awarded to",
        "issuer": "Institution",
        "competencies": "Competencies",
        "hours": "Duration",
        "hours_unit": "hours",
        "issued": "Issued on",
        "valid_until": "Valid until",
        "credential_id": "Credential id",
        "verify": "Verify this credential: scan the QR code or open:",
        "qr_alt": "QR code leading to this credential's online verification",
        "badge_alt": "Credential badge",
        "attached": "The signed credential (verifiable file) is attached to this PDF.",
    },
}
LANG_TAGS = {"fr": "fr-CA", "en": "en-CA"}

_ENV = Environment(
    loader=PackageLoader("sceau_issuer.learners", "templates"),
    autoescape=select_autoescape(["html"]),
)


@dataclass(frozen=True)
class Certificate:
    """What the PDF says, in both languages where the data has both."""

    learner_name: str | None
    language: str
    institution: dict[str, str]
    achievement: dict[str, str]
    description: dict[str, str]
    competencies: list[dict[str, str]] = field(default_factory=list)
    hours: float | None = None
    issued_at: datetime | None = None
    valid_until: datetime | None = None
    credential_id: str = ""
    verify_url: str | None = None
    signed: dict[str, object] | str | None = None
    badge_png: bytes | None = None
    paper: str = "a4"
    """``a4`` or ``letter`` (North American paper), the CSS page size of the certificate."""


PAPER_SIZES: dict[str, str] = {"a4": "A4", "letter": "letter"}
"""The paper sizes a learner can ask for (CSS ``@page`` size keywords)."""


def _date(moment: datetime | None, lang: str) -> str:
    if moment is None:
        return ""
    return moment.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")


def _text(values: dict[str, str], lang: str) -> str:
    return values.get(lang) or values.get("fr") or values.get("en") or ""


def _png_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _part(cert: Certificate, lang: str) -> dict[str, Any]:
    words = WORDS[lang]
    rows = []
    if cert.learner_name:
        rows.append((words["awarded"], cert.learner_name))
    rows.append((words["issuer"], _text(cert.institution, lang)))
    if cert.hours:
        rows.append((words["hours"], f"{cert.hours:g} {words['hours_unit']}"))
    rows.append((words["issued"], _date(cert.issued_at, lang)))
    if cert.valid_until:
        rows.append((words["valid_until"], _date(cert.valid_until, lang)))
    rows.append((words["credential_id"], cert.credential_id))
    return {
        "lang": LANG_TAGS[lang],
        "words": words,
        "achievement": _text(cert.achievement, lang),
        "description": _text(cert.description, lang),
        "rows": rows,
        "competencies": [_text(c, lang) for c in cert.competencies],
    }


def _html(cert: Certificate, order: list[str]) -> str:
    first = order[0]
    return _ENV.get_template("certificate.html").render(
        lang=LANG_TAGS[first],
        title=f"{_text(cert.achievement, first)} — {_text(cert.institution, first)}",
        author=_text(cert.institution, first),
        subject=WORDS[first]["heading"],
        parts=[_part(cert, lang) for lang in order],
        page_size=PAPER_SIZES[cert.paper],
        verify_url=cert.verify_url,
        attached=cert.signed is not None,
        qr=_png_url(qr_png(cert.verify_url, scale=6)) if cert.verify_url else None,
        qr_alt=" / ".join(WORDS[lang]["qr_alt"] for lang in order),
        badge=_png_url(cert.badge_png) if cert.badge_png else None,
        badge_alt=" / ".join(
            f"{WORDS[lang]['badge_alt']} : {_text(cert.achievement, lang)}"
            if lang == "fr"
            else f"{WORDS[lang]['badge_alt']}: {_text(cert.achievement, lang)}"
            for lang in order
        ),
    )


def _data_only() -> URLFetcher:
    """A URL fetcher for inline ``data:`` URLs only: rendering never makes the issuer call out."""
    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


def render_pdf(cert: Certificate) -> bytes:
    """The certificate as tagged PDF/UA-1 bytes (learner's language first, then the other)."""
    first = cert.language if cert.language in WORDS else "fr"
    order = [first, "en" if first == "fr" else "fr"]
    attachments = []
    if cert.signed is not None:
        body, name = _attachment(cert)
        attachments.append(
            Attachment(
                string=body,
                name=name,
                description="Signed credential / Titre signé",
                relationship="Source",
            )
        )
    langs = [LANG_TAGS[lang] for lang in order]

    def finish(document: Document, pdf: pydyf.PDF) -> None:
        _finish(pdf, langs)

    html = HTML(string=_html(cert, order), url_fetcher=_data_only())
    out = html.write_pdf(pdf_variant="pdf/ua-1", attachments=attachments, finisher=finish)
    return bytes(out or b"")  # no target given: WeasyPrint returns the bytes


def _attachment(cert: Certificate) -> tuple[str, str]:
    short = cert.credential_id.removeprefix("urn:uuid:").split("-")[0]
    if isinstance(cert.signed, str):
        return cert.signed, f"credential-{short}.jwt"
    return json.dumps(cert.signed, ensure_ascii=False, indent=2), f"credential-{short}.json"


def _finish(pdf: pydyf.PDF, langs: list[str]) -> None:
    """Per-language ``Lang`` on each ``Sect``; the attachment as the ``Source`` associated file.

    WeasyPrint lists each page's top-level elements in order under the ``Document`` element; a
    language's section starts with its ``H1`` (a section split by a page break continues on the
    next page as a ``Sect`` without one, and keeps the language of the one before).
    """

    def resolve(reference: bytes) -> Any:  # b"12 0 R"
        return pdf.objects[int(reference.split()[0])]

    root = resolve(pdf.catalog["StructTreeRoot"])
    part = -1
    for document in (resolve(ref) for ref in root["K"]):
        for element in (resolve(ref) for ref in document["K"]):
            if element.get("S") != "/Sect":
                continue
            first = element["K"][0] if element["K"] else None
            if isinstance(first, bytes) and resolve(first).get("S") == "/H1":
                part += 1
            element["Lang"] = pydyf.String(langs[min(max(part, 0), len(langs) - 1)])
    files = [
        item
        for item in pdf.objects
        if isinstance(item, pydyf.Dictionary) and item.get("Type") == "/Filespec"
    ]
    for filespec in files:
        filespec["AFRelationship"] = "/Source"
    if files:
        pdf.catalog["AF"] = pydyf.Array(filespec.reference for filespec in files)
