from __future__ import annotations

import os
import time

import pytest

from sceau_issuer.apikeys.service import parse_token
from sceau_issuer.vault import DecryptionError, EncryptedSecret, Vault, WalletGrant


def test_encrypts_with_context_binding(vault: Vault) -> None:
    secret = vault.encrypt(b"seed" * 8, context="inst-a:k1")
    assert b"seed" not in secret.ciphertext
    restored = EncryptedSecret.from_doc(secret.to_doc())  # type: ignore[arg-type]
    assert vault.decrypt(restored, context="inst-a:k1") == b"seed" * 8
    with pytest.raises(DecryptionError):
        vault.decrypt(restored, context="inst-b:k1")


def test_other_master_key_cannot_decrypt(vault: Vault) -> None:
    secret = vault.encrypt(b"x" * 32, context="c")
    with pytest.raises(DecryptionError):
        Vault(os.urandom(32)).decrypt(secret, context="c")


def test_claim_token_round_trip_tamper_and_expiry(vault: Vault) -> None:
    token = vault.claim_token(credential_id="abc", institution_id="inst", ttl_s=60)
    assert vault.read_claim_token(token) == ("inst", "abc")
    body, mac = token.split(".")
    assert vault.read_claim_token(body + "." + mac[:-2] + "AA") is None
    assert vault.read_claim_token(token, now=time.time() + 3600) is None
    assert vault.read_claim_token("garbage") is None
    assert Vault(os.urandom(32)).read_claim_token(token) is None


def test_api_key_hash_is_keyed(vault: Vault) -> None:
    assert vault.hash_api_key("s") == vault.hash_api_key("s")
    assert vault.hash_api_key("s") != Vault(os.urandom(32)).hash_api_key("s")


def test_parse_token() -> None:
    assert parse_token("sceau.abc.secret") == ("abc", "secret")
    for bad in ("", "sceau.abc", "other.abc.def", "sceau..x", "sceau.a.b.c"):
        assert parse_token(bad) is None


def test_a_wallet_access_token_carries_its_grant_signed_and_expiring() -> None:
    vault = Vault(bytes(range(32)))
    grant = WalletGrant("inst-1", "cred-1", "a" * 64, "OpenBadgeCredential_ldp_vc")
    token = vault.wallet_access_token(grant, ttl_s=300)
    assert vault.read_wallet_access_token(token) == grant
    assert len(token) <= 512
    # Two tokens for one grant differ (a random part); neither names the code.
    assert vault.wallet_access_token(grant, ttl_s=300) != token
    # Expired, tampered, another vault's, or another kind of token: refused.
    assert vault.read_wallet_access_token(token, now=time.time() + 301) is None
    body, mac = token.split(".")
    assert vault.read_wallet_access_token(f"{body}x.{mac}") is None
    assert Vault(bytes(32)).read_wallet_access_token(token) is None
    nonce = vault.wallet_nonce(institution_id="inst-1", ttl_s=300)
    assert vault.read_wallet_access_token(nonce) is None
    assert vault.read_wallet_nonce(token) is None
