"""A signer's DID document that cannot be fetched makes the answer *inconclusive*, not a forgery.

The engine reports any failure to resolve the signing key as an invalid proof. For a did:web
issuer that is wrong when the document simply could not be fetched (timeout, refused
connection, 5xx, 429): the registry hosting it may be paused, the institution's site down. The
verifier cannot tell a genuine credential from a forgery then, so it says so — "inconclusive,
try again later" — instead of calling the credential invalid. A document that *was* fetched and
does not hold the key (revoked, never there) still fails the proof. The same holds for a
presentation's holder, whose DID document its proof needs.

How it is known: :class:`ReachabilityResolver` wraps the process's resolver and notes the DIDs
whose resolution failed with ``retrievalError`` in a set held by a context variable, which
:func:`watch` creates for one verification (each request, each batch item, runs in its own task
and so sees its own set; the proof worker threads carry the caller's context over, see
proof_threads.py). :func:`explain` then rewrites that credential's failed proof check — and a
status check that failed only because the list's signature could not be checked — as
inconclusive, with the reason in French and English.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Final

from sceau_credentials.dids import DidResolutionError, DidResolver, ResolutionErrorCode
from sceau_credentials.dids.resolver import split_did_url
from sceau_credentials.ob3.fields import did_of
from sceau_credentials.results import (
    STATUS_VERIFICATION_ERROR,
    Check,
    CheckName,
    CheckStatus,
    VerificationResult,
)

__all__ = ["DID_DOCUMENT_UNREACHABLE", "ReachabilityResolver", "explain", "watch"]

DID_DOCUMENT_UNREACHABLE: Final = "https://sceau.dev/problems/did-document-unreachable"

_UNREACHABLE: ContextVar[set[str] | None] = ContextVar("sceau_unreachable_dids", default=None)


def watch() -> set[str]:
    """Start noting, for the current task, the DIDs whose documents could not be fetched."""
    seen: set[str] = set()
    _UNREACHABLE.set(seen)
    return seen


class ReachabilityResolver:
    """A resolver that notes retrieval failures for the verification being run (see module)."""

    def __init__(self, inner: DidResolver) -> None:
        self._inner = inner

    async def resolve(self, did: str) -> dict[str, Any]:
        """Resolve through the wrapped resolver; note ``did`` when it could not be fetched."""
        try:
            return await self._inner.resolve(did)
        except DidResolutionError as exc:
            seen = _UNREACHABLE.get()
            if exc.code is ResolutionErrorCode.RETRIEVAL_ERROR and seen is not None:
                seen.add(split_did_url(did)[0])
            raise


def _unreachable_proof(did: str, check: Check, *, holder: bool) -> Check:
    role_en, role_fr = ("holder", "du détenteur") if holder else ("issuer", "de l'émetteur")
    shown_en, shown_fr = (
        ("presentation", "la présentation") if holder else ("credential", "le titre")
    )
    return Check.inconclusive(
        CheckName.PROOF,
        DID_DOCUMENT_UNREACHABLE,
        f"The {role_en}'s DID document ({did}) could not be retrieved just now, so the "
        f"signature could not be checked. This says nothing against the {shown_en}: try again "
        "later.",
        f"Le document DID {role_fr} ({did}) n'a pas pu être obtenu pour l'instant; la "
        f"signature n'a donc pas pu être vérifiée. Cela ne met pas {shown_fr} en cause : "
        "réessayez plus tard.",
        details=check.details | {"did": did, "engine_reason": check.reason_en},
        required=check.required,
    )


def _signer(result: VerificationResult) -> str | None:
    """The DID whose document the proof needed: the issuer's, or a presentation's holder's.

    A presentation is signed by its holder (issue 18, item 11: an unreachable holder DID read
    as a forgery); without a ``holder`` the proof's verification method names the signer.
    """
    summary = result.credential
    if summary is None:
        return None
    if not result.is_presentation:
        return did_of(summary.issuer_id) if summary.issuer_id else None
    proof = result.check(CheckName.PROOF)
    method = proof.details.get("verification_method") if proof is not None else None
    signer = summary.subject_id or (method if isinstance(method, str) else None)
    return did_of(signer) if signer else None


def _not_checked(check: Check) -> Check:
    return check.model_copy(
        update={
            "status": CheckStatus.INCONCLUSIVE,
            "reason_en": "Not checked because the signature could not be checked yet.",
            "reason_fr": "Non vérifié parce que la signature n'a pas encore pu être vérifiée.",
        }
    )


def explain(result: VerificationResult, unreachable: set[str]) -> VerificationResult:
    """Rewrite checks that failed only because a DID document could not be fetched."""
    if not unreachable:
        return result
    inner = tuple(explain(r, unreachable) for r in result.credentials)
    did = _signer(result)
    if did is None or did not in unreachable:
        return result.model_copy(update={"credentials": inner})
    proof = result.check(CheckName.PROOF)
    proof_unreachable = proof is not None and proof.status is CheckStatus.FAILED
    checks: list[Check] = []
    for check in result.checks:
        if proof_unreachable and check.name is CheckName.PROOF:
            checks.append(_unreachable_proof(did, check, holder=result.is_presentation))
        elif (
            proof_unreachable
            and check.status is CheckStatus.INCONCLUSIVE
            and (check.name in (CheckName.STATUS, CheckName.ISSUER) and check.problem_type is None)
        ):
            checks.append(_not_checked(check))
        elif (
            check.name is CheckName.STATUS
            and check.status is CheckStatus.FAILED
            and check.problem_type == STATUS_VERIFICATION_ERROR
        ):
            checks.append(
                check.model_copy(
                    update={
                        "status": CheckStatus.INCONCLUSIVE,
                        "reason_en": "The status list's signature could not be checked: the "
                        f"issuer's DID document ({did}) could not be retrieved just now. The "
                        "status is unknown; try again later.",
                        "reason_fr": "La signature de la liste de statuts n'a pas pu être "
                        f"vérifiée : le document DID de l'émetteur ({did}) n'a pas pu être "
                        "obtenu pour l'instant. Le statut est inconnu; réessayez plus tard.",
                    }
                )
            )
        else:
            checks.append(check)
    return result.model_copy(update={"checks": tuple(checks), "credentials": inner})
