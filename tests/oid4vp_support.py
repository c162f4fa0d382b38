"""Helpers of the OpenID4VP tests: credentials bound to a holder, settings, the JS wallet.

The wallet is ``tests/interop/js/oid4vp-wallet.mjs`` (``@openid4vc/openid4vp`` resolving and
answering, Digital Bazaar's ``@digitalbazaar/vc`` signing the presentation).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_dev.testing.credentials import Issuer, achievement
from sceau_verifier.settings import Oid4vpSettings

__all__ = ["JS", "bound_credential", "holder_keys", "oid4vp_settings", "wallet"]

JS = Path(os.environ.get("SCEAU_INTEROP_JS") or Path(__file__).resolve().parent / "interop" / "js")


async def bound_credential(
    issuer: Issuer, holder: SigningKey, achievement_id: str
) -> dict[str, Any]:
    """An ob3-v2 credential of ``achievement_id`` issued to ``holder``'s did:key, signed."""
    moment = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    unsigned = build_credential(
        achievement("MicroCredential", achievement_id=achievement_id),
        Recipient(did=holder.did_key, name="Alex Tremblay"),
        IssuerProfile(id=issuer.did, name=issuer.name),
        "ob3-v2",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=moment,
        status=[],
    )
    signed = await sign_credential(unsigned, issuer.key, Profile.OB3_V2, created=moment)
    if not isinstance(signed, dict):
        raise TypeError("an ob3-v2 credential is a JSON object")
    return signed


def holder_keys(holder: SigningKey) -> dict[str, str]:
    """The holder's key as the JS wallet takes it (Multikey public and secret multibase)."""
    return {
        "publicKeyMultibase": holder.public_key_multibase,
        "secretKeyMultibase": holder.secret_key_multibase,
    }


def oid4vp_settings(uri: str, database: str, **overrides: Any) -> Oid4vpSettings:
    """OpenID4VP on a private database, with a fresh request key."""
    seed = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    values: dict[str, Any] = {
        "mongodb_uri": SecretStr(uri),
        "database": database,
        "request_key": SecretStr(seed),
    }
    values.update(overrides)
    return Oid4vpSettings(**values)


async def wallet(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the JS wallet on ``payload``; its JSON output."""
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("interop tests need Node.js 20+ on PATH")
    if not (JS / "node_modules" / "@openid4vc" / "openid4vp").is_dir():
        pytest.fail(f"@openid4vc/openid4vp is not installed in {JS}: run scripts/setup-interop.sh")
    process = await asyncio.create_subprocess_exec(
        executable,
        str(JS / "oid4vp-wallet.mjs"),
        cwd=JS,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(json.dumps(payload).encode()), 120)
    if process.returncode != 0:
        pytest.fail(f"oid4vp-wallet.mjs crashed (exit {process.returncode}):\n{err.decode()}")
    result: dict[str, Any] = json.loads(out)
    return result
