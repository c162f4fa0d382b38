"""Offline JSON-LD document loader over the contexts bundled in ``credentials/contexts/``.

Why offline: a signature over JSON-LD covers the RDF the document *means*, and that meaning comes
from its contexts. Fetching a context at verification time would let whoever controls that URL (or
the network path to it) change what a signed credential says, and would make verification depend
on third-party uptime. So every context we accept ships inside the package, copied from its
authoritative npm package (see ``contexts/manifest.json`` and ``contexts/SOURCES.md``), and an
unknown URL is refused with :class:`UnknownContextError` instead of being fetched.

The loader serves contexts only. DID documents are resolved by ``sceau_credentials.dids``
(did:key offline, did:web through the SSRF-guarded resolver), never through JSON-LD loading.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

__all__ = [
    "ContextBundle",
    "ContextSource",
    "UnknownContextError",
    "bundled_contexts",
]

_PACKAGE: Final = "sceau_credentials.contexts"
_MANIFEST: Final = "manifest.json"


class UnknownContextError(KeyError):
    """A JSON-LD document asked for a context URL that is not in the offline bundle.

    It is a :class:`KeyError` so that the bundle behaves as a normal mapping (``get``, ``in``).

    Attributes:
        url: the context URL that was requested.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.message = (
            f"JSON-LD context {url!r} is not bundled with Sceau; contexts are never fetched "
            "from the network, so a document using it cannot be processed"
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class ContextSource:
    """Where a bundled context comes from (one entry of ``contexts/manifest.json``).

    Attributes:
        url: the context URL documents refer to.
        file: file name inside ``credentials/contexts/``.
        package: npm package the file was copied from, or ``None`` for the hand-kept ones.
        version: version of that npm package.
        sha256: SHA-256 (hex) of the file, checked when the bundle is loaded.
    """

    url: str
    file: str
    package: str | None
    version: str | None
    sha256: str


class ContextBundle(Mapping[str, Mapping[str, Any]]):
    """An immutable URL → JSON-LD context document mapping that never touches the network.

    It is a :class:`~collections.abc.Mapping` (so pyoxigraph-based code can inline contexts from
    it) and is callable with pyld's document loader signature ``(url, options)``.
    """

    def __init__(
        self,
        documents: Mapping[str, Mapping[str, Any]],
        sources: Mapping[str, ContextSource] | None = None,
    ) -> None:
        self._documents: dict[str, Mapping[str, Any]] = dict(documents)
        self._sources: dict[str, ContextSource] = dict(sources or {})

    @classmethod
    def from_package(cls) -> ContextBundle:
        """Read every context listed in the packaged manifest and check its SHA-256.

        Raises:
            RuntimeError: the package data is missing or does not match the manifest (a broken
                installation must not silently process credentials with other contexts).
        """
        import hashlib

        folder = resources.files(_PACKAGE)
        manifest = json.loads(folder.joinpath(_MANIFEST).read_text(encoding="utf-8"))
        documents: dict[str, Mapping[str, Any]] = {}
        sources: dict[str, ContextSource] = {}
        for entry in manifest["contexts"]:
            raw = folder.joinpath(entry["file"]).read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            if digest != entry["sha256"]:
                raise RuntimeError(
                    f"bundled context {entry['file']} does not match its manifest checksum"
                )
            documents[entry["url"]] = json.loads(raw)
            sources[entry["url"]] = ContextSource(
                url=entry["url"],
                file=entry["file"],
                package=entry.get("package"),
                version=entry.get("version"),
                sha256=digest,
            )
        return cls(documents, sources)

    def __getitem__(self, url: str) -> Mapping[str, Any]:
        try:
            return self._documents[url]
        except KeyError:
            raise UnknownContextError(url) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)

    def __contains__(self, url: object) -> bool:
        return url in self._documents

    @property
    def sources(self) -> Mapping[str, ContextSource]:
        """Provenance of each bundled context, keyed by URL."""
        return dict(self._sources)

    def document(self, url: str) -> dict[str, Any]:
        """Return a private deep copy of the context document for ``url``.

        Raises:
            UnknownContextError: ``url`` is not bundled.
        """
        return copy.deepcopy(dict(self[url]))

    def context_value(self, url: str) -> Any:
        """Return the ``@context`` value of the document at ``url`` (for inlining).

        Raises:
            UnknownContextError: ``url`` is not bundled.
        """
        return copy.deepcopy(self[url]["@context"])

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Load ``url`` the way pyld expects a document loader to (a RemoteDocument dict).

        Raises:
            UnknownContextError: ``url`` is not bundled (pyld wraps it in a JsonLdError whose
                cause chain keeps this exception).
        """
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": self.document(url),
            # Lets pyld cache the processed context (in the caller's own resolver cache):
            # bundled contexts never change.
            "tag": "static",
        }

    def with_documents(self, extra: Mapping[str, Mapping[str, Any]]) -> ContextBundle:
        """Return a new bundle that also serves ``extra`` (tests and special deployments only)."""
        merged = dict(self._documents)
        merged.update(extra)
        return ContextBundle(merged, self._sources)


@functools.cache
def bundled_contexts() -> ContextBundle:
    """Return the bundle of packaged contexts, read once per process.

    The result is immutable data shipped with the package (like a constant), so caching it is not
    shared mutable state; callers that need another set of contexts build their own bundle.
    """
    return ContextBundle.from_package()
