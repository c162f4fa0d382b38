"""Baked badges at the verifier: the API and the page read the credential a PNG/SVG carries.

Real signed credentials baked by the engine; the verifier app with a loopback registry. A
tampered image fails the proof check; an image that carries nothing readable is a 400 problem
explained in French and English.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from verifier_support import (
    Issuer,
    RegistryStandIn,
    StatusList,
    serve,
    settings_for,
    tiny_png,
    verifier_client,
)

from sceau_credentials.baking import bake_png, bake_svg
from sceau_shared.settings import HttpSettings

SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">' + (
    b'<title>Badge</title><rect width="4" height="4"/></svg>'
)


@dataclass
class World:
    client: httpx.AsyncClient
    issuer: Issuer
    revocation: StatusList

    async def credential(self, profile: str = "ob3-v2") -> dict[str, Any] | str:
        # VC-JWTs take StatusList2021 entries; this world's list is a Bitstring Status List.
        lists = [self.revocation] if profile == "ob3-v2" else []
        credential, _ = await self.issuer.issue(profile, lists=lists)
        return credential


@pytest.fixture
async def world() -> AsyncIterator[World]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        settings = settings_for(base, http=HttpSettings(max_body_bytes=2_000_000))
        async with verifier_client(settings) as client:
            yield World(client, issuer, revocation)


def checks(answer: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in answer["checks"]}


@pytest.mark.parametrize("profile", ["ob3-v2", "jwt"])
async def test_a_baked_png_and_svg_verify_like_the_credential(world: World, profile: str) -> None:
    credential = await world.credential(profile)
    for media, image, kind in (
        ("image/png", bake_png(tiny_png(), credential), "png"),
        ("image/svg+xml", bake_svg(SVG, credential), "svg"),
    ):
        response = await world.client.post(
            "/v1/verify", content=image, headers={"Content-Type": media}
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["verified"] is True, answer["checks"]
        assert answer["baked_in"] == kind
        # The same image as a multipart upload (what a form or a script sends).
        upload = await world.client.post(
            "/v1/verify", files={"file": (f"badge.{kind}", image, "application/octet-stream")}
        )
        assert upload.status_code == 200, upload.text
        assert upload.json()["verified"] is True
        assert upload.json()["baked_in"] == kind


async def test_a_tampered_baked_credential_fails_its_proof(world: World) -> None:
    credential = await world.credential()
    assert isinstance(credential, dict)
    credential["credentialSubject"]["achievement"]["name"] = "Doctorat"
    for media, image in (
        ("image/png", bake_png(tiny_png(), credential)),
        ("image/svg+xml", bake_svg(SVG, credential)),
    ):
        answer = (
            await world.client.post("/v1/verify", content=image, headers={"Content-Type": media})
        ).json()
        assert answer["verified"] is False
        assert checks(answer)["proof"] == "failed"
    # Bytes changed inside the PNG without fixing the CRC: the image itself is damaged.
    image = bytearray(bake_png(tiny_png(), await world.credential()))
    image[image.index(b"Enseigner") + 1] ^= 0x01
    damaged = await world.client.post(
        "/v1/verify", content=bytes(image), headers={"Content-Type": "image/png"}
    )
    assert damaged.status_code == 400


@pytest.mark.parametrize(
    ("media", "image", "reason"),
    [
        ("image/png", tiny_png(), "baked_nothing_inside"),
        ("image/svg+xml", SVG, "baked_nothing_inside"),
        ("image/png", tiny_png()[:20], "baked_unreadable"),
        ("image/svg+xml", b"<svg><unclosed></svg>", "baked_unreadable"),
        ("image/svg+xml", b'<!DOCTYPE s [<!ENTITY a "aaaa">]><svg/>', "baked_unreadable"),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 1_100_000, "baked_too_large"),
    ],
)
async def test_unusable_images_are_bilingual_400_problems(
    world: World, media: str, image: bytes, reason: str
) -> None:
    response = await world.client.post(
        "/v1/verify", content=image, headers={"Content-Type": media}, params={"lang": "fr"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["reason"] == reason
    assert problem["detail"] == problem["detail_fr"]
    assert problem["detail_en"] != problem["detail_fr"]


async def test_the_page_reads_an_uploaded_badge_in_both_languages(world: World) -> None:
    credential = await world.credential()
    image = bake_png(tiny_png(), credential)
    for lang, note in (("fr", "image du badge (PNG)."), ("en", "(PNG).")):
        page = await world.client.post(
            f"/?lang={lang}",
            data={"lang": lang},
            files={"file": ("badge.png", image, "image/png")},
        )
        assert page.status_code == 200, page.text
        assert note in page.text
        assert "outcome-verified" in page.text
    empty = await world.client.post(
        "/?lang=en", data={"lang": "en"}, files={"file": ("plain.png", tiny_png(), "image/png")}
    )
    assert empty.status_code == 400
    assert "carries no Open Badges credential" in empty.text


async def test_a_credential_file_uploaded_as_multipart_is_verified_as_is(world: World) -> None:
    credential = await world.credential()
    upload = await world.client.post(
        "/v1/verify",
        files={"file": ("badge.json", json.dumps(credential).encode(), "application/octet-stream")},
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["verified"] is True
    assert upload.json()["baked_in"] is None
    empty = await world.client.post("/v1/verify", files={"other": ("x.txt", b"x", "text/plain")})
    assert empty.status_code == 400
    assert empty.headers["content-type"].startswith("application/problem+json")
