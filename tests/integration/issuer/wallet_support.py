"""Helpers for the wallet (OpenID4VCI) tests (unique module name: tests share one import path)."""

from __future__ import annotations

import base64
import html
import json
import re
import time
from urllib.parse import parse_qs, unquote, urlsplit

from issuer_support import IssuerHarness

from sceau_credentials.keys import SigningKey


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
