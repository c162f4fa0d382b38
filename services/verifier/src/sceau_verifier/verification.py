"""One verification: the credential engine's ``verify`` with the verifier's caches and policy.

The engine (``sceau_credentials.verification.verify``) runs every check; the verifier
provides:

* the DID resolver — did:key and did:jwk offline, did:web through the engine's SSRF-guarded
  resolver (loopback over http only with the ``did_web.allow_private_hosts`` development switch);
* the status checker — the engine's ``ListStatusChecker`` over :class:`StatusListCache` (allow-list,
  SSRF guard, ttl/ETag cache, event invalidation), with :class:`ProofMemo` so a cached list's
  signature is not re-verified on every request;
* issuer trust — :class:`RegistryTrust`, one per request;
* the proof verifier — the engine's, behind :class:`ProofMemo`: the exact bytes of a credential
  verified within the DID cache's TTL are not canonicalized again (an applicant-tracking system
  re-checking the same file is the common case). Any change to the document changes its digest.

One policy differs from the engine's default: the engine treats issuer trust as informative, but
this public verifier answers "is this a credential from a recognised institution?", so the issuer
check is *required* (``require_trusted_issuer``, on by default) and carries the verifier's own
dated reasons (status at the issuance date, accreditation for the achievement type, key validity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sceau_credentials.dids import DidResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.ob3.fields import did_of
from sceau_credentials.presentations import verify_presentation
from sceau_credentials.results import (
    CheckName,
    CheckStatus,
    ProofOutcome,
    VerificationResult,
)
from sceau_credentials.status import ListStatusChecker
from sceau_credentials.verification import verify
from sceau_verifier.proof_memo import ProofMemo
from sceau_verifier.reachability import explain, watch
from sceau_verifier.registry import RegistryClient
from sceau_verifier.service import EngineCall, IssuerLookups
from sceau_verifier.status_lists import StatusListCache
from sceau_verifier.trust import RegistryTrust, trust_key

__all__ = ["apply_trust_policy", "engine_call", "engine_proof_verifier"]


@dataclass(frozen=True)
class HolderProof:
    """A presentation's own proof outcome, in the engine's ``ProofOutcome`` shape."""

    verified: bool
    problem_type: str | None
    reason: str | None
    verification_method: str | None = None
    issuer: str | None = None
    credential: Mapping[str, Any] | None = None
    proof_created: datetime | None = None


def _is_presentation(document: Any) -> bool:
    if not isinstance(document, Mapping):
        return False
    types = document.get("type")
    return "VerifiablePresentation" in (types if isinstance(types, list) else [types])


async def engine_proof_verifier(document: Any, resolver: Any) -> ProofOutcome:
    """The engine's proof verification (what :class:`ProofMemo` wraps).

    A Data Integrity presentation is signed by its holder for ``authentication``, not
    ``assertionMethod`` as credentials are: it is checked as a presentation (its holder and
    proof purpose; the engine's presentation check compares challenge and domain, and the
    embedded credentials are verified one by one). Checking it as a credential refused every
    signed presentation (found by OpenID4VP, the first caller that sends them).
    """
    if _is_presentation(document):
        result = await verify_presentation(
            dict(document), resolver, challenge=None, domain=None, holder_only=True
        )
        return HolderProof(
            verified=result.verified,
            problem_type=result.problem_type,
            reason=result.reason,
            verification_method=result.verification_method,
            issuer=result.holder,
        )
    return await verify_proof(document, resolver)


def apply_trust_policy(
    result: VerificationResult, trust: RegistryTrust, *, required: bool
) -> VerificationResult:
    """Replace the engine's issuer checks with the verifier's dated decisions.

    Checks the engine skipped (proof invalid: status and issuer not consulted) are left as
    they are. Presentations are processed credential by credential.
    """
    inner = tuple(apply_trust_policy(r, trust, required=required) for r in result.credentials)
    checks = list(result.checks)
    summary = result.credential
    for position, check in enumerate(checks):
        if check.name is not CheckName.ISSUER or summary is None or not summary.issuer_id:
            continue
        decision = trust.decisions.get(
            trust_key(did_of(summary.issuer_id) or summary.issuer_id, summary.valid_from)
        )
        if decision is not None:
            checks[position] = decision.model_copy(update={"required": required})
        elif check.status is not CheckStatus.INCONCLUSIVE or check.problem_type is not None:
            checks[position] = check.model_copy(update={"required": required})
    return result.model_copy(update={"checks": tuple(checks), "credentials": inner})


def engine_call(
    *,
    resolver: DidResolver,
    status_lists: StatusListCache,
    registry: RegistryClient,
    proofs: ProofMemo,
    require_trusted_issuer: bool,
) -> EngineCall:
    """The engine call the service uses: ``verify`` with this process's resolver and caches."""
    status = ListStatusChecker(status_lists, resolver, proof_verifier=proofs)

    async def call(
        document: Mapping[str, Any] | str,
        *,
        challenge: str | None,
        domain: str | None,
        now: datetime,
    ) -> tuple[VerificationResult, IssuerLookups]:
        trust = RegistryTrust(registry, now=now)
        unreachable = watch()  # an unfetchable DID document: inconclusive (reachability.py)
        result = await verify(
            document,
            resolver=resolver,
            status=status,
            trust=trust,
            now=now,
            expected_challenge=challenge,
            expected_domain=domain,
            proof_verifier=proofs,
        )
        result = explain(result, unreachable)
        return apply_trust_policy(result, trust, required=require_trusted_issuer), trust

    return call
