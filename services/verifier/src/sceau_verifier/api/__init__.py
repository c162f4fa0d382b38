"""The verifier's HTTP routers: the public JSON API (``verify``) and the page (``pages``).

Routers are module-level declarations; each route reads the process's
:class:`~sceau_verifier.graph.VerifierGraph` through :data:`~sceau_verifier.api.deps.GraphDep`.
"""
