"""A wallet library nobody here wrote takes a credential through OpenID4VCI from the real issuer.

The wallet is ``@openid4vc/openid4vci`` (OpenWallet Foundation Labs' oid4vc-ts), driven by
``tests/interop/js/oid4vci-wallet.mjs`` against the issuer served by uvicorn on 127.0.0.1 (real
Kafka and FerretDB): it opens the deep link the learner's page shows, reads the metadata, trades
the pre-authorized code (with its transaction code), asks for a nonce, proves its key and gets
the credential. The credential it got must then verify in the Digital Bazaar stack
(``verify.mjs``; its status entry, the original's, is checked by Sceau's own tests).

The VC-API exchange is driven by ``vcapi-wallet.mjs``: Digital Bazaar's ``@digitalbazaar/vc``
signs the DIDAuth presentation (Ed25519Signature2020, as the Learner Credential Wallet does, or
eddsa-rdfc-2022) with a fresh did:key, through the VC-API interaction or the LCW deep link.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from issuer_support import IssuerHarness
from learner_support import issued_with_page
from wallet_support import lcw_link, make_offer

from sceau_dev.infra.process import free_port
from sceau_dev.testing.registry_stand_in import serve
from sceau_issuer.app import create_api
from sceau_issuer.settings import IssuerSettings

pytestmark = [pytest.mark.integration, pytest.mark.interop]

#: The interop scripts and their npm install; ``SCEAU_INTEROP_JS`` may name a copy of that
#: directory installed elsewhere (``npm ci`` there), e.g. while a shared install lags behind.
JS = Path(
    os.environ.get("SCEAU_INTEROP_JS") or Path(__file__).resolve().parents[2] / "interop" / "js"
)
CLIENT = "@openid4vc/openid4vci"


async def node(script: str, payload: dict[str, Any]) -> dict[str, Any]:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("interop tests need Node.js 20+ on PATH")
    if not (JS / "node_modules" / CLIENT).is_dir():
        pytest.fail(f"{CLIENT} is not installed in {JS}: run scripts/setup-interop.sh (npm ci)")
    process = await asyncio.create_subprocess_exec(
        executable,
        str(JS / script),
        cwd=JS,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(json.dumps(payload).encode()), 120)
    if process.returncode != 0:
        pytest.fail(f"{script} crashed (exit {process.returncode}):\n{err.decode()}")
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.fixture
async def served(settings: IssuerSettings) -> AsyncIterator[IssuerHarness]:
    """The issuer on a real port, its public URL being that port (the wallet fetches it)."""
    port = free_port()
    http = settings.http.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    live = settings.model_copy(update={"http": http})
    app = create_api(live)
    async with serve(app, port, lifespan=True) as base, httpx.AsyncClient(base_url=base) as client:
        yield IssuerHarness(app, client, live)


@pytest.mark.parametrize(
    ("profile", "binding", "tx", "configuration"),
    [
        ("ob3-v2", "did:key", True, "OpenBadgeCredential_ldp_vc"),
        ("ob3-v2", "jwk", False, "OpenBadgeCredential_ldp_vc"),
        ("jwt", "did:key", False, "OpenBadgeCredential_jwt_vc_json"),
    ],
)
async def test_the_wallet_library_takes_the_credential(
    served: IssuerHarness, profile: str, binding: str, tx: bool, configuration: str
) -> None:
    email = f"{binding.replace(':', '-')}.{profile}@example.org"
    _, detail, path = await issued_with_page(served, email, profile=profile)
    deep_link, _, tx_code = await make_offer(served, path, tx=tx)
    wallet = {"offer": deep_link, "txCode": tx_code, "binding": binding}
    got = await node("oid4vci-wallet.mjs", wallet)
    assert "error" not in got, got
    assert got["configurationId"] == configuration
    assert got["version"] == "V1"  # the library read our metadata as OpenID4VCI 1.0
    credential = got["credential"]
    if profile == "jwt":
        # A VC-JWT: jose with Digital Bazaar's did:key decoding checks it (jwt.mjs).
        assert isinstance(credential, str)
        checked = await node("jwt.mjs", {"op": "verify", "token": credential})
        assert checked["verified"], checked
        # VC-JOSE-COSE under jwt_vc_json: the library takes the compact JWT as it comes.
        assert checked["payload"]["credentialSubject"]["id"] == got["holder"]
        assert checked["header"]["typ"] == "vc+jwt"
        return
    subject_id = credential["credentialSubject"]["id"]
    if binding == "did:key":
        assert subject_id == got["holder"]
    else:
        assert subject_id.startswith("did:jwk:")
    assert credential["id"] == detail["document"]["id"]
    verified = await node("verify.mjs", {"credential": credential, "statusUnchecked": True})
    assert verified["verified"], verified["errors"]
    # The offer is spent: the same deep link gives the wallet nothing more.
    again = await node("oid4vci-wallet.mjs", {"offer": deep_link, "txCode": tx_code})
    assert "error" in again


async def exchange_link(harness: IssuerHarness, path: str) -> str:
    """Make a wallet offer on the page; return its Learner Credential Wallet deep link."""
    await make_offer(harness, path, tx=False)
    link, _, _ = lcw_link((await harness.http.get(path)).text)
    return link


@pytest.mark.parametrize(
    ("profile", "mode", "suite"),
    [
        ("ob3-v2", "vcapi", "Ed25519Signature2020"),
        ("ob3-v2", "vcapi", "eddsa-rdfc-2022"),
        ("ob3-v1", "link", "Ed25519Signature2020"),
    ],
)
async def test_a_digital_bazaar_wallet_takes_the_credential_by_exchange(
    served: IssuerHarness, profile: str, mode: str, suite: str
) -> None:
    """DIDAuth signed by @digitalbazaar/vc, as the Learner Credential Wallet signs it."""
    _, detail, path = await issued_with_page(served, f"{mode}.{suite}@example.org", profile=profile)
    link = await exchange_link(served, path)
    url = parse_qs(urlsplit(link).query)["vc_request_url"][0]
    got = await node(
        "vcapi-wallet.mjs", {"mode": mode, "url": url, "link": link, "suite": suite, "replay": True}
    )
    assert got["status"] == 200, got
    if mode == "vcapi":
        assert got["request"]["query"][0]["type"] == "DIDAuthentication"
        presentation = got["body"]["verifiablePresentation"]
    else:
        presentation = got["body"]
    [credential] = presentation["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == got["holder"]
    assert credential["id"] == detail["document"]["id"]
    verified = await node("verify.mjs", {"credential": credential, "statusUnchecked": True})
    assert verified["verified"], verified["errors"]
    # The same presentation again: the exchange is spent.
    assert got["replayStatus"] == 410, got["replayBody"]


async def test_a_digital_bazaar_wallet_is_refused_clearly(served: IssuerHarness) -> None:
    """Wrong challenge, wrong domain, another key's holder: 400 each, nothing delivered."""
    _, detail, path = await issued_with_page(served, "refused.wallet@example.org")
    link = await exchange_link(served, path)
    url = parse_qs(urlsplit(link).query)["vc_request_url"][0]
    cases = [
        ({"challenge": "not-the-challenge"}, "challenge"),
        ({"domain": "evil.example"}, "domain"),
        ({"holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}, "holder"),
    ]
    for override, words in cases:
        got = await node("vcapi-wallet.mjs", {"mode": "vcapi", "url": url, **override})
        assert got["status"] == 400, got
        assert words in got["body"]["detail"], got["body"]
    deliveries = served.db["wallet_deliveries"]
    assert await deliveries.count_documents({"credential_id": detail["credential_id"]}) == 0
    # Nothing was spent: an honest wallet still gets it.
    honest = await node("vcapi-wallet.mjs", {"mode": "vcapi", "url": url})
    assert honest["status"] == 200, honest
