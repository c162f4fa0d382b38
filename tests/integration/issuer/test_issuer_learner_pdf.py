"""The PDF certificate: both languages as real text, its QR code, the signed file attached."""

from __future__ import annotations

import ctypes
import json

import pypdfium2
import pypdfium2.raw as pdfium
import pytest
import zxingcpp
from issuer_support import IssuerHarness
from learner_support import issued_with_page, share_token

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import verify_proof

pytestmark = pytest.mark.integration


def _text(pdf: pypdfium2.PdfDocument) -> str:
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def _language(pdf: pypdfium2.PdfDocument) -> str:
    """The catalog's ``/Lang`` (the catalog sits in a compressed object stream)."""
    size = pdfium.FPDFCatalog_GetLanguage(pdf.raw, None, 0)
    buffer = ctypes.create_string_buffer(size)
    wide = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort))
    pdfium.FPDFCatalog_GetLanguage(pdf.raw, wide, size)
    return buffer.raw[: size - 2].decode("utf-16-le")


def _attachment(pdf: pypdfium2.PdfDocument) -> tuple[str, bytes]:
    assert pdf.count_attachments() == 1
    attachment = pdf.get_attachment(0)
    return attachment.get_name(), bytes(attachment.get_data())


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_pdf_speaks_both_languages_and_carries_the_credential(
    harness: IssuerHarness, language: str
) -> None:
    _, detail, path = await issued_with_page(
        harness, f"pdf-{language}@example.org", language=language
    )
    response = await harness.http.get(f"{path}/credential.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    pdf = pypdfium2.PdfDocument(response.content)
    text = _text(pdf)
    french, english = text.find("Attestation de titre"), text.find("Credential certificate")
    assert french >= 0
    assert english >= 0
    assert (french < english) is (language == "fr")
    assert "Collège Test" in text
    assert "Test College" in text
    assert "Léa Tremblay" in text
    assert detail["id"] in text
    assert _language(pdf) == ("fr-CA" if language == "fr" else "en-CA")
    name, body = _attachment(pdf)
    assert name.endswith(".json")
    attached = json.loads(body)
    assert attached == detail["document"]
    assert (await verify_proof(attached, DidKeyResolver())).verified
    # Not accepted yet: no link, hence no QR code.
    image = pdf[0].render(scale=2).to_pil()
    assert zxingcpp.read_barcodes(image) == []


async def test_pdf_qr_code_opens_a_share_made_for_it(harness: IssuerHarness) -> None:
    _, detail, path = await issued_with_page(harness, "pdf-qr@example.org")
    await harness.http.post(f"{path}/accept")
    first = await harness.http.get(f"{path}/credential.pdf")
    again = await harness.http.get(f"{path}/credential.pdf")
    urls = []
    for response in (first, again):
        pdf = pypdfium2.PdfDocument(response.content)
        found = [
            code.text
            for i in range(len(pdf))
            for code in zxingcpp.read_barcodes(pdf[i].render(scale=3).to_pil())
        ]
        assert len(found) == 1
        urls.append(found[0])
    assert urls[0] == urls[1], "one share serves every download of the PDF"
    shared = await harness.http.get(f"/v1/shares/{share_token(urls[0])}")
    assert shared.status_code == 200
    assert shared.json()["document"] == detail["document"]
    assert shared.json()["expires_at"] is None
