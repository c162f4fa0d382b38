"""Baked badges: PNG iTXt and SVG openbadges:credential, both ways, and tampering caught by
verifying what is extracted."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest
from engine_samples import did_key_signer, ob3_v1_credential, ob3_v2_credential, resolver_for

from sceau_credentials.baking import (
    BakingError,
    bake,
    bake_png,
    bake_svg,
    extract,
    extract_png,
    extract_svg,
)
from sceau_credentials.engine import Profile, sign_credential, verify_proof

JWT = "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2lnbmF0dXJl"
CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Évaluation ]]> finale",  # a CDATA terminator and non-ASCII text inside the JSON
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(*extra: bytes) -> bytes:
    """A valid 1x1 greyscale PNG, with optional extra chunks after IHDR."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = _chunk(b"IDAT", zlib.compress(b"\x00\x7f"))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(extra) + pixels + _chunk(b"IEND", b"")


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" data-x="a>b">\n'
    b'  <circle cx="256" cy="256" r="200"/>\n</svg>\n'
)


@pytest.mark.parametrize("credential", [CREDENTIAL, JWT], ids=["json", "jwt"])
def test_png_round_trip(credential: dict[str, Any] | str) -> None:
    baked = bake_png(tiny_png(), credential)
    assert extract_png(baked) == credential
    assert extract(baked) == credential
    assert baked.count(b"openbadgecredential") == 1


def test_png_rebake_replaces_and_keeps_other_chunks() -> None:
    comment = _chunk(b"tEXt", b"Comment\0hello")
    original = tiny_png(comment)
    once = bake_png(original, CREDENTIAL)
    twice = bake(once, JWT)
    assert twice.count(b"openbadgecredential") == 1
    assert extract_png(twice) == JWT
    assert comment in twice
    start = twice.index(b"openbadgecredential") - 8
    (length,) = struct.unpack(">I", twice[start : start + 4])
    assert twice[:start] + twice[start + 12 + length :] == original  # nothing else changed


def test_png_itxt_layout_is_uncompressed() -> None:
    baked = bake_png(tiny_png(), JWT)
    start = baked.index(b"iTXt") + 4
    assert baked[start : start + 24] == b"openbadgecredential\0\0\0\0\0"


def test_png_errors() -> None:
    with pytest.raises(BakingError, match="signature"):
        extract_png(b"GIF89a")
    with pytest.raises(BakingError, match="no baked"):
        extract_png(tiny_png())
    damaged = bytearray(bake_png(tiny_png(), JWT))
    damaged[damaged.index(b"eyJ")] ^= 1
    with pytest.raises(BakingError, match="CRC"):
        extract_png(bytes(damaged))
    compressed = _chunk(b"iTXt", b"openbadgecredential\0\1\0\0\0" + zlib.compress(JWT.encode()))
    with pytest.raises(BakingError, match="compressed"):
        extract_png(tiny_png(compressed))
    with pytest.raises(BakingError, match="compact JWS"):
        bake_png(tiny_png(), "not a jwt")
    with pytest.raises(BakingError, match="IEND"):
        bake_png(tiny_png()[:-12], JWT)


@pytest.mark.parametrize("credential", [CREDENTIAL, JWT], ids=["json", "jwt"])
def test_svg_round_trip(credential: dict[str, Any] | str) -> None:
    baked = bake_svg(SVG, credential)
    assert extract_svg(baked) == credential
    assert extract(baked) == credential
    assert baked.count(b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"') == 1
    root_tail = b'data-x="a>b" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
    root_end = baked.index(root_tail) + len(root_tail)
    assert baked[root_end:].startswith(b"<openbadges:credential")  # directly after <svg>
    assert b'<circle cx="256" cy="256" r="200"/>' in baked


def test_svg_jwt_form_and_rebake() -> None:
    baked = bake_svg(SVG, JWT)
    assert f'<openbadges:credential verify="{JWT}"></openbadges:credential>'.encode() in baked
    again = bake_svg(bake_svg(baked, CREDENTIAL), JWT)
    assert again.count(b"<openbadges:credential") == 1
    assert again == baked


def test_svg_accepts_existing_self_closing_element_and_namespace() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        f'<openbadges:credential verify="{JWT}"/><rect/></svg>'
    )
    assert extract_svg(svg) == JWT
    baked = bake_svg(svg, CREDENTIAL)
    assert baked.count(b"xmlns:openbadges") == 1
    assert baked.count(b"<openbadges:credential") == 1
    assert extract_svg(baked) == CREDENTIAL


def test_svg_errors() -> None:
    with pytest.raises(BakingError, match="no baked"):
        extract_svg(SVG)
    with pytest.raises(BakingError, match="not an SVG"):
        extract_svg(b"<html/>")
    with pytest.raises(BakingError, match="well-formed"):
        bake_svg(b"<svg", JWT)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    )
    with pytest.raises(BakingError, match="entity"):
        extract_svg(laughs)
    with pytest.raises(BakingError, match="binds"):
        bake_svg(
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="urn:x"><g/></svg>', JWT
        )


async def test_extracted_credentials_verify_and_tampering_is_caught() -> None:
    key = did_key_signer(5)
    secured = await sign_credential(ob3_v2_credential(key.controller), key, Profile.OB3_V2)
    token = await sign_credential(ob3_v1_credential(key.controller), key, Profile.JWT)
    assert isinstance(secured, dict)
    assert isinstance(token, str)
    for image in (bake_png(tiny_png(), secured), bake_svg(SVG, secured), bake_svg(SVG, token)):
        extracted = extract(image)
        assert (await verify_proof(extracted, resolver_for())).verified  # type: ignore[arg-type]
    # Someone edits the baked SVG by hand: the image still parses, the proof no longer holds.
    tampered = bake_svg(SVG, secured).replace(b"Introduction to Python", b"Advanced Python")
    outcome = await verify_proof(extract(tampered), resolver_for())  # type: ignore[arg-type]
    assert not outcome.verified
    # ...or rebakes a PNG with a changed credential (CRCs recomputed): same verdict.
    changed = extract_png(bake_png(tiny_png(), secured))
    assert isinstance(changed, dict)
    changed["name"] = "Advanced Python"
    outcome = await verify_proof(extract(bake_png(tiny_png(), changed)), resolver_for())  # type: ignore[arg-type]
    assert not outcome.verified
