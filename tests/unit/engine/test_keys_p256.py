"""P-256 keys: Multikey ``zDn…``, JWK, did:key and the JOSE ``r || s`` signature form."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from sceau_credentials.dids import DidKeyResolver, DidResolutionError, find_verification_method
from sceau_credentials.keys import InvalidKeyError
from sceau_credentials.keys_p256 import (
    P256SigningKey,
    decode_p256_public_multikey,
    es256_verify,
    is_p256_did_key,
    p256_public_key_from_jwk,
)
from sceau_credentials.multiformats import base64url_nopad_decode

# RFC 7515 Appendix A.3: the ES256 example key (a published P-256 key pair).
RFC7515_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
}
# The Multikey of that key, computed by Digital Bazaar's @digitalbazaar/ecdsa-multikey 1.8.0
# (EcdsaMultikey.fromJwk({jwk, secretKey: true}).export({publicKey: true, secretKey: true})).
RFC7515_MULTIKEY = "zDnaerGBD7Zxzau2fdfEFaaaTDYBu5XEBYdGV2BmERp3MDSov"
RFC7515_SECRET_MULTIKEY = "z42tsUz6tiEwPwPz2xPTT6hffjwvpp3sgavKPT7QfjgWzANM"


# RFC 7515 Appendix A.3.1: the ES256 JWS made with that key (signing input and r || s value).
RFC7515_SIGNING_INPUT = (
    b"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    b"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
)
RFC7515_SIGNATURE = (
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
)


def test_rfc7515_es256_example_verifies() -> None:
    key = P256SigningKey.from_jwk(RFC7515_JWK)
    signature = base64url_nopad_decode(RFC7515_SIGNATURE)
    assert es256_verify(key.public_key, signature, RFC7515_SIGNING_INPUT)
    assert not es256_verify(key.public_key, signature, RFC7515_SIGNING_INPUT + b"x")


def test_jwk_round_trip_and_multikey_prefix() -> None:
    key = P256SigningKey.from_jwk(RFC7515_JWK)
    assert key.to_jwk(private=True) == RFC7515_JWK
    assert key.public_key_multibase.startswith("zDn")
    assert key.secret_key_multibase.startswith("z42t")
    assert key.controller == f"did:key:{key.public_key_multibase}"
    assert key.verification_method == f"{key.controller}#{key.public_key_multibase}"
    assert P256SigningKey.from_secret_multibase(key.secret_key_multibase) == key
    assert is_p256_did_key(key.controller)


def test_multikey_matches_digital_bazaar() -> None:
    key = P256SigningKey.from_jwk(RFC7515_JWK)
    assert key.public_key_multibase == RFC7515_MULTIKEY
    assert key.secret_key_multibase == RFC7515_SECRET_MULTIKEY


def test_public_decoders_agree() -> None:
    key = P256SigningKey.generate()
    jwk = key.to_jwk()
    from_multikey = decode_p256_public_multikey(key.public_key_multibase)
    assert from_multikey.public_numbers() == p256_public_key_from_jwk(jwk).public_numbers()


def test_signature_is_64_byte_r_s_and_not_der() -> None:
    key = P256SigningKey.generate()
    signature = key.sign(b"hello")
    assert len(signature) == 64
    assert es256_verify(key.public_key, signature, b"hello")
    assert not es256_verify(key.public_key, signature, b"hellO")
    assert not es256_verify(P256SigningKey.generate().public_key, signature, b"hello")
    der = key.ec_key.sign(b"hello", ec.ECDSA(hashes.SHA256()))
    assert not es256_verify(key.public_key, der, b"hello")


def test_bad_keys_are_refused() -> None:
    with pytest.raises(InvalidKeyError):
        P256SigningKey.from_jwk({**RFC7515_JWK, "x": RFC7515_JWK["y"]})
    with pytest.raises(InvalidKeyError):
        p256_public_key_from_jwk(RFC7515_JWK)  # carries the private part
    with pytest.raises(InvalidKeyError):
        decode_p256_public_multikey("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    with pytest.raises(InvalidKeyError):
        P256SigningKey.from_private_key(b"\xff" * 32)  # above the group order
    with pytest.raises(InvalidKeyError):
        P256SigningKey(P256SigningKey.generate().ec_key, RFC7515_MULTIKEY, "x")


async def test_did_key_document_for_p256() -> None:
    key = P256SigningKey.generate()
    document = await DidKeyResolver().resolve(key.controller)
    method = find_verification_method(document, key.verification_method, "assertionMethod")
    assert method == {
        "id": key.verification_method,
        "type": "Multikey",
        "controller": key.controller,
        "publicKeyMultibase": key.public_key_multibase,
    }
    with pytest.raises(DidResolutionError):
        await DidKeyResolver().resolve("did:key:zDnXXXXXXXXXXXXXXXX")
