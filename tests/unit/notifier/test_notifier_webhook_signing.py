"""Standard Webhooks signatures, secret storage and the SSRF refusal of endpoint URLs."""

from __future__ import annotations

import base64
import os

import pytest

from sceau_notifier.settings import WebhookSettings
from sceau_notifier.webhooks.client import endpoint_url_checker
from sceau_notifier.webhooks.secretbox import SecretBox, SecretBoxError
from sceau_notifier.webhooks.signatures import generate_secret, secret_key_bytes, sign, verify
from sceau_shared.errors import InvalidInput

# Test vector of the Standard Webhooks reference library: repository
# standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py (test_sign_function).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_standard_webhooks_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_verify_accepts_any_listed_signature_and_rejects_tampering() -> None:
    header = f"v1,AAAA {SPEC_SIGNATURE}"
    assert verify(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, header)
    assert not verify(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY + b" ", header)
    assert not verify(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY, header)


def test_ids_with_dots_are_refused() -> None:
    with pytest.raises(ValueError, match="must not contain"):
        sign(SPEC_SECRET, "msg.1", 1, b"{}")


def test_generated_secrets_follow_the_whsec_format() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(secret_key_bytes(secret)) == 32
    assert generate_secret() != secret


def test_secret_box_round_trip_is_bound_to_its_endpoint() -> None:
    box = SecretBox(base64.b64encode(os.urandom(32)).decode())
    sealed = box.seal("whsec_abc", context="ep_1")
    assert "whsec_abc" not in sealed
    assert box.open(sealed, context="ep_1") == "whsec_abc"
    with pytest.raises(SecretBoxError):
        box.open(sealed, context="ep_2")
    other = SecretBox(base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(SecretBoxError):
        other.open(sealed, context="ep_1")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "https://localhost/hook",
        "http://93.184.216.34/hook",  # public, but plain HTTP
        "https://user:pw@93.184.216.34/hook",
    ],
)
async def test_private_and_unsafe_endpoints_are_refused(url: str) -> None:
    check = endpoint_url_checker(WebhookSettings())
    with pytest.raises(InvalidInput):
        await check(url)


async def test_loopback_is_accepted_only_when_the_setting_allows_it() -> None:
    allowed = WebhookSettings(allow_private=True, allowed_schemes=frozenset({"http", "https"}))
    check = endpoint_url_checker(allowed)
    await check("http://127.0.0.1:8080/hook")
    await check("https://10.1.2.3/hook")
    with pytest.raises(InvalidInput):
        await check("https://224.0.0.1/hook")  # multicast: never


async def test_public_https_literal_is_accepted() -> None:
    check = endpoint_url_checker(WebhookSettings())
    await check("https://93.184.216.34/hook")
