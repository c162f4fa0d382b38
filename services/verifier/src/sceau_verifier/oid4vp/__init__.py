"""OpenID4VP 1.0 at the verifier: an employer asks a wallet for a credential (docs/verifier.md).

``rules`` holds the protocol's decisions (the request object, the DCQL query, what a wallet's
answer must satisfy), ``repository`` the optional MongoDB store every replica shares,
``service`` the use case the routes (``sceau_verifier.api.oid4vp``) call.
"""
