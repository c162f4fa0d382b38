"""Conformance: the checks 1EdTech's Open Badges 3.0 validator applies, offline, as findings.

:func:`inspect_credential` lists every :class:`Finding` (code, JSON pointer, FR/EN message) about
one secured credential; no finding means 1EdTech's validator would accept it. The rules are in
:mod:`~sceau_credentials.conformance.rules`, the pipeline in
:mod:`~sceau_credentials.conformance.inspector`; ``sceau-credentials conformance FILE...`` runs it
from the command line and docs/credentials.md ("Conformance") says what is checked.
"""

from sceau_credentials.conformance.findings import Code, Finding, pointer
from sceau_credentials.conformance.inspector import inspect_credential, offline_resolver
from sceau_credentials.conformance.rules import (
    ACCEPTED_CRYPTOSUITES,
    ACCEPTED_JWT_ALGORITHMS,
    ACCEPTED_STATUS_TYPES,
)

__all__ = [
    "ACCEPTED_CRYPTOSUITES",
    "ACCEPTED_JWT_ALGORITHMS",
    "ACCEPTED_STATUS_TYPES",
    "Code",
    "Finding",
    "inspect_credential",
    "offline_resolver",
    "pointer",
]
