"""Status lists against the Digital Bazaar library (@digitalbazaar/vc-bitstring-status-list).

Pins Sceau's bit order (index j = bit j, most significant bit of byte 0 first) and encoding in
both directions, then runs the whole revocation flow: a credential and its status list, both
signed by our engine, checked by the library's ``checkStatus`` (which verifies the list's proof
and that the list's issuer is the credential's issuer) and by our own verifier.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from interop_js import DigitalBazaar

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import AchievementVersion, IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.results import CREDENTIAL_REVOKED, CheckName, CheckStatus
from sceau_credentials.status import (
    MIN_ENTRIES,
    Bitstring,
    ListStatusChecker,
    bitstring_status_list_credential,
    decode_bitstring_status_list,
    encode_bitstring_status_list,
    status_entry,
)
from sceau_credentials.verification import verify

pytestmark = pytest.mark.interop

JS = Path(__file__).resolve().parent / "js"
LIST_URL = "https://cegep.example.edu/status/1"
INDEXES = [0, 1, 7, 8, 15, 94_567, MIN_ENTRIES - 1]


def run(payload: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None
    completed = subprocess.run(
        [node, str(JS / "status-list.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=JS,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"status-list.mjs crashed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@pytest.fixture(scope="module")
def js(digital_bazaar: DigitalBazaar) -> None:
    """Ensures the npm packages are installed (the fixture runs the setup script if needed)."""
    if not (JS / "node_modules" / "@digitalbazaar" / "vc-bitstring-status-list").is_dir():
        pytest.fail(
            "run scripts/setup-interop.sh: @digitalbazaar/vc-bitstring-status-list is missing"
        )


def test_we_read_lists_written_by_digital_bazaar(js: None) -> None:
    encoded = run({"op": "encode", "length": MIN_ENTRIES, "set": INDEXES})["encodedList"]
    decoded = decode_bitstring_status_list(encoded)
    assert len(decoded) == MIN_ENTRIES
    assert list(decoded.set_bits()) == INDEXES


def test_digital_bazaar_reads_lists_written_by_us(js: None) -> None:
    bits = Bitstring()
    for index in INDEXES:
        bits.set(index, True)
    probe = sorted({*INDEXES, 2, 9, 8 * 1 + 7 + 1000, 94_566, 94_568})
    out = run({"op": "decode", "encodedList": encode_bitstring_status_list(bits), "indexes": probe})
    assert out["length"] == MIN_ENTRIES
    assert dict(zip(probe, out["statuses"], strict=True)) == {i: i in INDEXES for i in probe}


def test_revoking_j_does_not_flag_8j_plus_7(js: None) -> None:
    """The byte-per-entry bug: revoking j showed 8j+7. The library must see j, and only j."""
    bits = Bitstring()
    bits.set(5, True)
    out = run(
        {"op": "decode", "encodedList": encode_bitstring_status_list(bits), "indexes": [5, 47]}
    )
    assert out["statuses"] == [True, False]


@dataclass
class ListServer:
    """Our verifier's view of the published list (the fetcher the verifier service plugs in)."""

    lists: dict[str, Any] = field(default_factory=dict)

    async def fetch(self, url: str) -> Any:
        return self.lists[url]


async def _issue(key: SigningKey, index: int) -> dict[str, Any]:
    achievement = AchievementVersion(
        id="https://cegep.example.edu/achievements/soudage-201",
        version="1",
        default_language="fr",
        name={"fr": "Soudage avancé", "en": "Advanced welding"},
        description={"fr": "Techniques TIG.", "en": "TIG techniques."},
        criteria={"fr": "Épreuve pratique.", "en": "Practical test."},
    )
    unsigned = build_credential(
        achievement,
        Recipient(email="apprenant@example.edu"),
        IssuerProfile(id=key.did_key, name={"fr": "Cégep Exemple", "en": "Example College"}),
        "ob3-v2",
        credential_id="urn:uuid:3f1d2c4b-0000-4000-8000-000000000001",
        issued_at=datetime(2025, 3, 1, tzinfo=UTC),
        status=[status_entry("ob3-v2", "revocation", LIST_URL, index)],
    )
    signed = await sign_credential(unsigned, key, Profile.OB3_V2)
    assert isinstance(signed, dict)
    return signed


async def _publish(key: SigningKey, revoked: list[int]) -> dict[str, Any]:
    bits = Bitstring()
    for index in revoked:
        bits.set(index, True)
    unsigned = bitstring_status_list_credential(
        list_url=LIST_URL,
        issuer=key.did_key,
        purpose="revocation",
        bitstring=bits,
        valid_from=datetime(2025, 3, 1, tzinfo=UTC),
    )
    signed = await sign_credential(unsigned, key, Profile.OB3_V2)
    assert isinstance(signed, dict)
    return signed


async def test_revocation_flow_agrees_with_digital_bazaar_check_status(js: None) -> None:
    key = SigningKey.generate()
    index = 94_567
    credential = await _issue(key, index)
    server = ListServer()
    checker = ListStatusChecker(server, DidKeyResolver())
    now = datetime(2025, 6, 1, tzinfo=UTC)

    for revoked, expected in (([index - 1, index + 1, 8 * index + 7 - 8], False), ([index], True)):
        status_list = await _publish(key, [i for i in revoked if i < MIN_ENTRIES])
        server.lists[LIST_URL] = status_list
        theirs = run({"op": "check", "credential": credential, "statusListCredential": status_list})
        assert theirs["verified"], theirs["error"]
        assert theirs["results"] == [{"purpose": "revocation", "status": expected}]
        ours = await verify(credential, resolver=DidKeyResolver(), status=checker, now=now)
        status = ours.check(CheckName.STATUS)
        assert status is not None
        if expected:
            assert status.status is CheckStatus.FAILED
            assert status.problem_type == CREDENTIAL_REVOKED
            assert not ours.verified
        else:
            assert status.status is CheckStatus.PASSED
            assert ours.verified


async def test_both_reject_a_list_signed_by_someone_else(js: None) -> None:
    key, intruder = SigningKey.generate(), SigningKey.generate()
    credential = await _issue(key, 12)
    forged = await _publish(intruder, [12])
    theirs = run({"op": "check", "credential": credential, "statusListCredential": forged})
    assert not theirs["verified"]
    ours = await verify(
        credential,
        resolver=DidKeyResolver(),
        status=ListStatusChecker(ListServer({LIST_URL: forged}), DidKeyResolver()),
    )
    status = ours.check(CheckName.STATUS)
    assert status is not None
    assert status.status is CheckStatus.FAILED
    assert not ours.verified
