"""DIDs: resolver interface, did:key and did:jwk (offline), did:web (SSRF-guarded), documents.

Typical composition (a service's composition root)::

    web = settings.did_web
    client = httpx.AsyncClient(transport=GuardedTransport(allow_private=web.allow_private_hosts))
    resolver = CompositeResolver({"key": DidKeyResolver(), "web": DidWebResolver(client, web)})
"""

from sceau_credentials.dids.did_jwk import DidJwkResolver, did_jwk_document
from sceau_credentials.dids.did_key import DidKeyResolver, did_key_document
from sceau_credentials.dids.did_web import (
    DidWebResolver,
    DidWebSettings,
    did_web_to_url,
    url_to_did_web,
)
from sceau_credentials.dids.documents import (
    KeyState,
    PublishedKey,
    institution_did_document,
    verification_method_ids,
)
from sceau_credentials.dids.resolver import (
    CompositeResolver,
    DidResolutionError,
    DidResolver,
    ResolutionErrorCode,
    StaticResolver,
    find_verification_method,
)

__all__ = [
    "CompositeResolver",
    "DidJwkResolver",
    "DidKeyResolver",
    "DidResolutionError",
    "DidResolver",
    "DidWebResolver",
    "DidWebSettings",
    "KeyState",
    "PublishedKey",
    "ResolutionErrorCode",
    "StaticResolver",
    "did_jwk_document",
    "did_key_document",
    "did_web_to_url",
    "find_verification_method",
    "institution_did_document",
    "url_to_did_web",
    "verification_method_ids",
]
