"""The PDF certificate's accessibility structure (PDF/UA-1), read back with pdfium (pypdfium2).

The document language, its title shown as the window title, ``MarkInfo``'s ``Marked`` flag, the
structure tree (``H1``/``H2``/``P``, each language's section with its ``Lang``), every piece of
page content either bound to a structure element or marked as an artifact, the QR code and the
badge as ``Figure`` elements with alternative text in both languages, and the signed credential
attached as the PDF's source.
"""

from __future__ import annotations

import ctypes
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium
import pytest

from sceau_issuer.learners.pdf import WORDS, Certificate, render_pdf

_TEXT_OBJECT = 1  # FPDF_PAGEOBJ_TEXT
PNG = bytes.fromhex(  # one red pixel
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)
URL = "https://verifier.example/s/token"


def _certificate(language: str = "fr", *, verify_url: str | None = URL) -> Certificate:
    return Certificate(
        learner_name="Léa Tremblay",
        language=language,
        institution={"fr": "Collège Test", "en": "Test College"},
        achievement={"fr": "Soudage de base", "en": "Basic welding"},
        description={"fr": "Souder des pièces simples.", "en": "Weld simple parts."},
        competencies=[{"fr": "Souder à l'arc", "en": "Arc welding"}],
        hours=30,
        issued_at=datetime(2026, 11, 2, tzinfo=UTC),
        credential_id="urn:uuid:0b5e8f3a-1111-4222-8333-944445555666",
        verify_url=verify_url,
        signed={"id": "urn:uuid:0b5e8f3a-1111-4222-8333-944445555666"},
    )


def _string(read: Callable[[Any, Any, int], int], element: Any) -> str:
    """A structure element's UTF-16LE string attribute (type, alternative text, language)."""
    size = read(element, None, 0)
    if size <= 2:
        return ""
    buffer = ctypes.create_string_buffer(size)
    read(element, buffer, size)
    return buffer.raw[: size - 2].decode("utf-16-le")


def _elements(page: pypdfium2.PdfPage) -> Iterator[tuple[str, str, str]]:
    """(type, alternative text, language) of every structure element of ``page``."""
    tree = pdfium.FPDF_StructTree_GetForPage(page.raw)
    try:

        def walk(element: Any) -> Iterator[tuple[str, str, str]]:
            yield (
                _string(pdfium.FPDF_StructElement_GetType, element),
                _string(pdfium.FPDF_StructElement_GetAltText, element),
                _string(pdfium.FPDF_StructElement_GetLang, element),
            )
            for index in range(pdfium.FPDF_StructElement_CountChildren(element)):
                child = pdfium.FPDF_StructElement_GetChildAtIndex(element, index)
                if child:
                    yield from walk(child)

        for index in range(pdfium.FPDF_StructTree_CountChildren(tree)):
            yield from walk(pdfium.FPDF_StructTree_GetChildAtIndex(tree, index))
    finally:
        pdfium.FPDF_StructTree_Close(tree)


def _inflated(raw: bytes) -> bytes:
    """The file with its Flate streams (object streams included) inflated, to read dictionaries."""
    parts = [raw]
    for body in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", raw, re.DOTALL):
        try:
            parts.append(zlib.decompress(body))
        except zlib.error:
            continue  # not Flate-encoded (the XMP metadata is plain)
    return b"\n".join(parts)


def _wide(buffer: Any) -> Any:
    """``buffer`` as the ``FPDF_WCHAR*`` pdfium writes UTF-16LE strings into."""
    return ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort))


def _objects(page: pypdfium2.PdfPage) -> Iterator[tuple[int, int, list[str]]]:
    """(type, marked-content id or -1, mark names) of every object of ``page``."""
    for index in range(pdfium.FPDFPage_CountObjects(page.raw)):
        obj = pdfium.FPDFPage_GetObject(page.raw, index)
        names = []
        for m in range(pdfium.FPDFPageObj_CountMarks(obj)):
            mark = pdfium.FPDFPageObj_GetMark(obj, m)
            size = ctypes.c_ulong()
            pdfium.FPDFPageObjMark_GetName(mark, None, 0, ctypes.byref(size))
            buffer = ctypes.create_string_buffer(size.value)
            pdfium.FPDFPageObjMark_GetName(mark, _wide(buffer), size.value, ctypes.byref(size))
            names.append(buffer.raw[: size.value - 2].decode("utf-16-le"))
        yield pdfium.FPDFPageObj_GetType(obj), pdfium.FPDFPageObj_GetMarkedContentID(obj), names


@pytest.mark.parametrize(("language", "lang"), [("fr", "fr-CA"), ("en", "en-CA")])
def test_language_title_and_marked_flag(language: str, lang: str) -> None:
    raw = render_pdf(_certificate(language))
    pdf = pypdfium2.PdfDocument(raw)
    size = pdfium.FPDFCatalog_GetLanguage(pdf.raw, None, 0)
    buffer = ctypes.create_string_buffer(size)
    pdfium.FPDFCatalog_GetLanguage(pdf.raw, _wide(buffer), size)
    assert buffer.raw[: size - 2].decode("utf-16-le") == lang  # the document's language
    title = pdf.get_metadata_dict()["Title"]
    assert title.startswith("Soudage de base" if language == "fr" else "Basic welding")
    objects = _inflated(raw)
    assert re.search(rb"/ViewerPreferences <<[^>]*/DisplayDocTitle true", objects)
    assert pdfium.FPDFCatalog_IsTagged(pdf.raw)  # /MarkInfo << /Marked true >>
    assert b"/StructTreeRoot" in objects
    assert b'pdfuaid:part="1"' in objects  # the XMP metadata says PDF/UA-1


def test_the_qr_code_is_a_figure_with_alternative_text_in_both_languages() -> None:
    pdf = pypdfium2.PdfDocument(render_pdf(_certificate("en")))
    figures = [alt for kind, alt, _ in _elements(pdf[0]) if kind == "Figure"]
    assert figures == [f"{WORDS['en']['qr_alt']} / {WORDS['fr']['qr_alt']}"]


def test_without_a_link_there_is_no_figure() -> None:
    pdf = pypdfium2.PdfDocument(render_pdf(_certificate(verify_url=None)))
    assert [kind for kind, _, _ in _elements(pdf[0]) if kind == "Figure"] == []


def test_the_badge_is_a_figure_named_in_both_languages() -> None:
    cert = replace(_certificate("fr", verify_url=None), badge_png=PNG)
    pdf = pypdfium2.PdfDocument(render_pdf(cert))
    figures = [alt for kind, alt, _ in _elements(pdf[0]) if kind == "Figure"]
    assert figures == ["Badge du titre : Soudage de base / Credential badge: Basic welding"]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_piece_of_content_is_tagged_or_an_artifact(language: str) -> None:
    pdf = pypdfium2.PdfDocument(render_pdf(replace(_certificate(language), badge_png=PNG)))
    page = pdf[0]
    objects = list(_objects(page))
    texts = [mcid for kind, mcid, _ in objects if kind == _TEXT_OBJECT]
    assert texts, "the text is real text"
    assert all(mcid >= 0 for mcid in texts), "every text run belongs to a structure element"
    untagged = [(kind, names) for kind, mcid, names in objects if mcid < 0]
    assert all("Artifact" in names for _, names in untagged), untagged
    assert any("Artifact" in names for _, names in untagged), "the rule is decoration"


@pytest.mark.parametrize(("language", "other"), [("fr", "en-CA"), ("en", "fr-CA")])
def test_headings_paragraphs_and_each_language_part(language: str, other: str) -> None:
    pdf = pypdfium2.PdfDocument(render_pdf(_certificate(language)))
    elements = list(_elements(pdf[0]))
    kinds = [kind for kind, _, _ in elements]
    assert kinds.count("H1") == 2  # one certificate heading per language
    assert kinds.count("H2") == 2  # the achievement, per language
    assert "P" in kinds
    assert {"Table", "TH", "TD", "L", "LI"} <= set(kinds)
    sections = [lang for kind, _, lang in elements if kind == "Sect"]
    first = "fr-CA" if language == "fr" else "en-CA"
    assert sections == [first, other]


def test_the_signed_credential_is_attached_as_the_source() -> None:
    pdf = pypdfium2.PdfDocument(render_pdf(_certificate()))
    assert pdf.count_attachments() == 1
    attachment = pdf.get_attachment(0)
    assert attachment.get_name() == "credential-0b5e8f3a.json"
    assert b'"urn:uuid:0b5e8f3a-1111-4222-8333-944445555666"' in bytes(attachment.get_data())
    size = pdfium.FPDFAttachment_GetAFRelationship(attachment.raw, None, 0)
    buffer = ctypes.create_string_buffer(size)
    pdfium.FPDFAttachment_GetAFRelationship(attachment.raw, _wide(buffer), size)
    assert buffer.raw[: size - 2].decode("utf-16-le") == "Source"


def test_rendering_fetches_nothing_but_inline_images() -> None:
    cert = replace(_certificate(), learner_name='<img src="http://127.0.0.1:9/x" alt="x">')
    pdf = pypdfium2.PdfDocument(render_pdf(cert))
    text = pdf[0].get_textpage().get_text_range()
    assert '<img src="http://127.0.0.1:9/x"' in text  # escaped: shown, never fetched


def test_a_part_split_across_pages_keeps_its_language() -> None:
    many = [{"fr": f"Compétence {i}", "en": f"Competency {i}"} for i in range(60)]
    pdf = pypdfium2.PdfDocument(render_pdf(replace(_certificate("en"), competencies=many)))
    assert len(pdf) > 2
    sections = [lang for page in pdf for kind, _, lang in _elements(page) if kind == "Sect"]
    assert len(sections) > 2, "each part continues on the next page"
    switch = sections.index("fr-CA")
    assert set(sections[:switch]) == {"en-CA"}
    assert set(sections[switch:]) == {"fr-CA"}
    for page in pdf:
        assert all(mcid >= 0 for kind, mcid, _ in _objects(page) if kind == _TEXT_OBJECT)
