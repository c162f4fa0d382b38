"""A signed JSON credential is stored as its text and read back as the object it was.

FerretDB pays for every field it stores (0.70 against 0.19 ms of its CPU a credential in a
250-credential insert, nested against text); nothing queries inside a credential. The real
server round trip is covered by every integration test that reads a credential back.
"""

from __future__ import annotations

import json
from typing import Any, cast

from sceau_issuer.issuing.repository import (
    DOCUMENT_TEXT,
    SUMMARY_PROJECTION,
    CredentialRepository,
    read_form,
    stored_form,
)

SIGNED = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "name": "Soudure · Welding",
    "credentialSubject": {"result": [{"value": 3.5}], "awarded": True},
    "proof": [{"type": "DataIntegrityProof", "proofValue": "z3x"}],
}


class Recording:
    """The credentials collection: what was inserted, found by ``_id``."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def insert_many(self, docs: list[dict[str, Any]], *, ordered: bool = True) -> None:
        for doc in docs:
            self.docs[doc["_id"]] = dict(doc)

    async def insert_one(self, doc: dict[str, Any]) -> None:
        self.docs[doc["_id"]] = dict(doc)

    async def find_one(self, query: dict[str, Any], projection: Any = None) -> Any:
        doc = self.docs.get(query["_id"])
        return None if doc is None else dict(doc)

    @property
    def database(self) -> Any:
        return {"outbox_pending": self}


def test_a_json_credential_is_stored_as_compact_text_and_read_back_equal() -> None:
    doc = {"_id": "c1", "institution_id": "i1", "document": SIGNED}
    stored = stored_form(doc)
    assert "document" not in stored
    assert json.loads(stored[DOCUMENT_TEXT]) == SIGNED
    assert "Soudure · Welding" in stored[DOCUMENT_TEXT]  # UTF-8 text, not \\u escapes
    assert doc["document"] is SIGNED  # the caller's dict is unchanged
    assert read_form(dict(stored)) == doc


def test_a_compact_jwt_and_an_old_nested_document_are_kept_as_they_are() -> None:
    jwt = {"_id": "c2", "document": "eyJhbGciOiJFZERTQSJ9.e30.sig"}
    assert stored_form(jwt) is jwt
    nested = {"_id": "c3", "document": SIGNED}
    assert read_form(dict(nested)) == nested
    assert read_form(None) is None


def test_listings_leave_the_text_out() -> None:
    assert SUMMARY_PROJECTION[DOCUMENT_TEXT] == 0
    assert SUMMARY_PROJECTION["document"] == 0


async def test_the_repository_stores_text_and_gives_objects_back() -> None:
    collection = Recording()
    credentials = CredentialRepository(cast(Any, collection))
    taken = await credentials.insert_many(
        [{"_id": "c1", "institution_id": "i1", "document": SIGNED}], marked=True
    )
    assert taken == set()
    assert isinstance(collection.docs["c1"][DOCUMENT_TEXT], str)
    assert "document" not in collection.docs["c1"]
    got = await credentials.get("i1", "c1")
    assert got is not None
    assert got["document"] == SIGNED
    by_id = await credentials.by_id("c1")
    assert by_id is not None
    assert DOCUMENT_TEXT not in by_id
