"""The PDF certificate: bilingual, A4, real text, document language set, the signed file inside.

fpdf2 (pure Python) writes real text in an embedded DejaVu font (French accents, typographic
quotes), sets the document language and title (shown as the window title: ViewerPreferences
``DisplayDocTitle``), records the QR code's alternative text in the structure tree (a
``Figure`` with ``Alt``) and lists headings in the outline; the signed credential travels as an
embedded file (associated file "Source"), so the paper copy carries its own verifiable original.

Not a tagged PDF in the PDF/UA sense yet: fpdf2 2.8.9 has no public API to tag text. Its
structure tree is one flat ``Document`` element whose only public producers are images with
``alt_text`` (``Figure``) and links; the text ``cell``/``multi_cell`` write is outside any
marked-content sequence, so headings cannot be ``H1``/``H2`` nor paragraphs ``P``, the second
language's part cannot carry its own ``Lang``, and decorative content cannot be marked as an
artifact. The only way in today is fpdf2's private ``_marked_sequence``/``_add_marked_content``
(``struct_type`` fixed to ``/Figure`` for the former, no nesting, and an error when a page
break falls inside one), which fpdf2 documents as internal (py-pdf/fpdf2#355). The test
``tests/unit/issuer/test_issuer_pdf_tagging.py`` states what is missing as a strict expected
failure.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fpdf import FPDF, ViewerPreferences

from sceau_issuer.learners.qr import qr_png

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"

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
        "verify": "Vérifier ce titre : balayez le code QR ou ouvrez",
        "qr_alt": "Code QR menant à la vérification en ligne de ce titre",
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
        "verify": "Verify this credential: scan the QR code or open",
        "qr_alt": "QR code leading to this credential's online verification",
        "attached": "The signed credential (verifiable file) is attached to this PDF.",
    },
}


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


def _date(moment: datetime | None, lang: str) -> str:
    if moment is None:
        return ""
    return moment.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")


def _text(values: dict[str, str], lang: str) -> str:
    return values.get(lang) or values.get("fr") or values.get("en") or ""


def render_pdf(cert: Certificate) -> bytes:
    """The certificate as PDF bytes (learner's language first, then the other)."""
    first = cert.language if cert.language in WORDS else "fr"
    order = [first, "en" if first == "fr" else "fr"]
    pdf = FPDF(format="A4")
    pdf.set_lang("fr-CA" if first == "fr" else "en-CA")
    pdf.set_title(f"{_text(cert.achievement, first)} — {_text(cert.institution, first)}")
    pdf.set_author(_text(cert.institution, first))
    pdf.set_subject(WORDS[first]["heading"])
    pdf.set_creator("Sceau")
    pdf.set_display_mode("fullwidth")
    # Readers show the title (above), not the file name, as the window title.
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not (regular.is_file() and bold.is_file()):
        raise FileNotFoundError(
            f"DejaVu fonts missing in {FONT_DIR}: install fonts-dejavu-core "
            "(scripts/setup-fonts.sh)"
        )
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    for lang in order:
        _section(pdf, cert, lang)
    if cert.verify_url:
        words = " / ".join(WORDS[lang]["verify"] for lang in order)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5, f"{words} : {cert.verify_url}", new_x="LMARGIN", new_y="NEXT")
        alt = " / ".join(WORDS[lang]["qr_alt"] for lang in order)
        pdf.image(io.BytesIO(qr_png(cert.verify_url, scale=6)), w=40, alt_text=alt)
    if cert.signed is not None:
        pdf.set_font(FONT, "", 9)
        attached = " / ".join(WORDS[lang]["attached"] for lang in order)
        pdf.multi_cell(0, 5, attached, new_x="LMARGIN", new_y="NEXT")
        body, name, mime = _attachment(cert)
        pdf.embed_file(
            bytes=body,
            basename=name,
            mime_type=mime,
            desc="Signed credential / Titre signé",
            associated_file_relationship="Source",
        )
    return bytes(pdf.output())


def _attachment(cert: Certificate) -> tuple[bytes, str, str]:
    short = cert.credential_id.removeprefix("urn:uuid:").split("-")[0]
    if isinstance(cert.signed, str):
        return cert.signed.encode(), f"credential-{short}.jwt", "application/vc+jwt"
    text = json.dumps(cert.signed, ensure_ascii=False, indent=2)
    return text.encode(), f"credential-{short}.json", "application/ld+json"


def _section(pdf: FPDF, cert: Certificate, lang: str) -> None:
    words = WORDS[lang]
    pdf.set_font(FONT, "B", 16)
    pdf.start_section(f"{words['heading']} ({lang.upper()})")
    pdf.multi_cell(0, 9, words["heading"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(0, 7, _text(cert.achievement, lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    description = _text(cert.description, lang)
    if description:
        pdf.multi_cell(0, 5, description, new_x="LMARGIN", new_y="NEXT")
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
    pdf.ln(2)
    for label, value in rows:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    if cert.competencies:
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(0, 7, words["competencies"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 10)
        for competency in cert.competencies:
            pdf.multi_cell(0, 5, f"• {_text(competency, lang)}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
