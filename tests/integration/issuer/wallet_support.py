"""Helpers for the wallet (OpenID4VCI) tests (unique module name: tests share one import path)."""

from __future__ import annotations

import base64
import html
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from issuer_support import IssuerHarness

from sceau_credentials.keys import SigningKey
from sceau_issuer.wallets.schemas import PRE_AUTHORIZED_GRANT


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def holder_proof(
    key: SigningKey, audience: str, nonce: str, *, signer: SigningKey | None = None
) -> str:
    header = {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": key.verification_method}
    payload = {"aud": audience, "iat": int(time.time()), "nonce": nonce}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64((signer or key).sign(signing_input.encode()))}"


def local(url: str) -> str:
    """The path of one of the issuer's public URLs (the test client speaks ASGI)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def make_offer(harness: IssuerHarness, path: str, *, tx: bool) -> tuple[str, str, str | None]:
    """Press the page's wallet button; return the deep link, its offer URI and the tx code."""
    made = await harness.http.post(f"{path}/wallet-offer", data={"tx_code": "1"} if tx else {})
    assert made.status_code == 303, made.text
    page = (await harness.http.get(path)).text
    [link] = re.findall(r'href="(openid-credential-offer://[^"]+)"', page)
    query = parse_qs(urlsplit(html.unescape(link)).query)
    [offer_uri] = query["credential_offer_uri"]
    codes = re.findall(r"<strong>(\d{6})</strong>", page)
    assert "<svg" in page
    return html.unescape(link), unquote(offer_uri), (codes[0] if codes else None)


def lcw_link(page: str) -> tuple[str, str, str]:
    """The page's Learner Credential Wallet link: (link, vc_request_url, challenge)."""
    [link] = re.findall(r'href="(dccrequest://request\?[^"]+)"', page)
    link = html.unescape(link)
    query = parse_qs(urlsplit(link).query)
    assert query["auth_type"] == ["bearer"]
    assert query["issuer"][0].startswith("http")
    return link, query["vc_request_url"][0], query["challenge"][0]


async def redeem(
    harness: IssuerHarness, offer_uri: str, tx_code: str | None
) -> tuple[dict[str, Any], dict[str, Any], httpx.Response]:
    offer = (await harness.http.get(local(offer_uri))).json()
    issuer = offer["credential_issuer"]
    form = {
        "grant_type": PRE_AUTHORIZED_GRANT,
        "pre-authorized_code": offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"],
    }
    if tx_code:
        form["tx_code"] = tx_code
    token = await harness.http.post(local(f"{issuer}/token"), data=form)
    return offer, form, token


async def nonce(harness: IssuerHarness, issuer: str) -> str:
    answer = await harness.http.post(local(f"{issuer}/nonce"))
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    return str(answer.json()["c_nonce"])


async def ask(
    harness: IssuerHarness, issuer: str, access_token: str, body: dict[str, Any]
) -> httpx.Response:
    return await harness.http.post(
        local(f"{issuer}/credential"),
        json=body,
        headers={"Authorization": f"Bearer {access_token}"},
    )


def request_for(offer: dict[str, Any], jwt: str) -> dict[str, Any]:
    return {
        "credential_configuration_id": offer["credential_configuration_ids"][0],
        "proofs": {"jwt": [jwt]},
    }
