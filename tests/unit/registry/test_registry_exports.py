"""DCC known-DID registry shape, trust list content and hosted DID documents."""

from __future__ import annotations

from datetime import timedelta

from registry_samples import T0, at, institution, key, scope

from sceau_registry.keys.didhosting import hosted_did, hosted_document, registry_did
from sceau_registry.trust.exports import (
    content_fingerprint,
    dcc_registry,
    trust_list_credential,
    trust_list_subject,
)
from sceau_shared.events import InstitutionStatus as S

ACTIVE = institution((S.ACTIVE, T0), scopes=(scope(),), dids=("did:web:a.example", "did:key:z1"))
SUSPENDED = institution((S.ACTIVE, T0), (S.SUSPENDED, at(2)), scopes=(scope(),), iid="b")
NO_SCOPE = institution((S.ACTIVE, T0), iid="c", dids=("did:web:c.example",))


class TestDcc:
    def test_shape_matches_dcc_registry_json(self) -> None:
        exported = dcc_registry([ACTIVE, SUSPENDED, NO_SCOPE], now=at(3), language="en")
        assert set(exported) == {"meta", "registry"}
        assert set(exported["meta"]) == {"created", "updated"}
        assert exported["meta"]["created"] == "2025-01-01T00:00:00Z"
        # One entry per DID of each institution accredited now; others left out.
        assert exported["registry"] == {
            "did:key:z1": {
                "name": "College A",
                "location": "CA-QC",
                "url": "https://example.edu",
            },
            "did:web:a.example": {
                "name": "College A",
                "location": "CA-QC",
                "url": "https://example.edu",
            },
        }
        for entry in exported["registry"].values():
            assert isinstance(entry["name"], str)

    def test_name_language(self) -> None:
        exported = dcc_registry([ACTIVE], now=at(3), language="fr")
        assert exported["registry"]["did:key:z1"]["name"] == "Cégep A"

    def test_empty_registry(self) -> None:
        exported = dcc_registry([], now=at(3), language="en")
        assert exported["registry"] == {}


class TestTrustList:
    def test_lists_accredited_institutions_and_their_dids(self) -> None:
        entries = trust_list_subject([SUSPENDED, ACTIVE, NO_SCOPE], at(3))
        assert [e["institutionId"] for e in entries] == ["cegep-a"]
        assert entries[0]["dids"] == ["did:key:z1", "did:web:a.example"]
        assert entries[0]["legalName"] == {"fr": "Cégep A", "en": "College A"}

    def test_fingerprint_changes_only_with_content(self) -> None:
        one = trust_list_subject([ACTIVE], at(3))
        assert content_fingerprint(one) == content_fingerprint(trust_list_subject([ACTIVE], at(4)))
        suspended = ACTIVE.transition(SUSPENDED.history[-1])
        assert content_fingerprint(trust_list_subject([suspended], at(3))) != content_fingerprint(
            one
        )

    def test_credential_shape(self) -> None:
        credential = trust_list_credential(
            trust_list_subject([ACTIVE], at(3)),
            issuer_did="did:web:registry.example",
            issuer_name="Registry",
            list_url="https://registry.example/v1/trust-list",
            now=at(3),
            validity=timedelta(days=7),
            serial="0000",
        )
        assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
        assert credential["issuer"]["id"] == "did:web:registry.example"
        assert credential["validUntil"] == "2025-03-08T00:00:00Z"
        assert "proof" not in credential
        used = set(credential["credentialSubject"]["institutions"][0]) - {"type"}
        assert used <= set(credential["@context"][1])  # every term defined, so signed


class TestHostedDids:
    BASE = "http://127.0.0.1:8002"

    def test_identifiers(self) -> None:
        assert registry_did(self.BASE) == "did:web:127.0.0.1%3A8002"
        assert hosted_did(self.BASE, "abc") == "did:web:127.0.0.1%3A8002:institutions:abc"
        assert registry_did("https://registry.example.ca/") == "did:web:registry.example.ca"

    def test_document_keeps_rotated_and_drops_revoked(self) -> None:
        did = hosted_did(self.BASE, "abc")
        keys = [
            key(did, fragment="k1", rotated=at(2), seed=1),
            key(did, fragment="k2", start=at(2), seed=2),
            key(did, fragment="k3", revoked=at(2), seed=3),
        ]
        document = hosted_document(did, keys, now=at(3))
        assert document is not None
        ids = {m["id"] for m in document["verificationMethod"]}
        assert ids == {f"{did}#k1", f"{did}#k1-2020", f"{did}#k2", f"{did}#k2-2020"}
        assert f"{did}#k1" in document["assertionMethod"]
        assert f"{did}#k1" not in document["authentication"]
        assert f"{did}#k2" in document["authentication"]

    def test_only_rotated_keys_still_verify(self) -> None:
        did = hosted_did(self.BASE, "abc")
        document = hosted_document(did, [key(did, fragment="k1", rotated=at(2))], now=at(3))
        assert document is not None
        assert document["assertionMethod"] == [f"{did}#k1", f"{did}#k1-2020"]
        assert document["authentication"] == []

    def test_nothing_to_publish(self) -> None:
        did = hosted_did(self.BASE, "abc")
        assert hosted_document(did, [], now=at(3)) is None
        assert hosted_document(did, [key(did, fragment="k", revoked=at(1))], now=at(3)) is None
