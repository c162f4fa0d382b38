"""One function verifies any credential or presentation Sceau may meet: :func:`verify`.

Input: an ``ob3-v2`` (VCDM 2.0, Data Integrity) or ``ob3-v1`` (VCDM 1.1, Ed25519Signature2020)
JSON-LD credential, a VC-JWT, or a VerifiablePresentation holding any of them — as a JSON object,
JSON text, bytes or a compact JWS. Output: a :class:`~.results.VerificationResult` with one check
per step, each passed / failed / inconclusive with a W3C problem type and a reason in English and
French. Malformed input yields a failed result with a clear reason; this function does not raise.

Checks, in order (OB 3.0 "Verification" and VCDM 2.0 §7.1):

1. **structure** — VC Data Model envelope and Open Badges 3.0 required fields; 1EdTech JSON Schema
   violations of a VCDM 2.0 badge are reported as warnings;
2. **proof** — through the proof engine (``engine.verify_proof``, injectable), and the
   signer must be the credential's issuer;
3. **validity** — ``validFrom``/``validUntil`` (2.0) or ``issuanceDate``/``expirationDate`` (1.1);
4. **status** — through a :class:`~.status.checker.StatusChecker`; without one, or when a list
   cannot be fetched, the check is *inconclusive* (never "valid");
5. **issuer** — through an :class:`IssuerTrust` registry; informative (``required=False``), so an
   unregistered issuer is shown but does not make a sound credential "not verified".

Status and issuer trust are not consulted when the proof failed: the document is then
unauthenticated, and Sceau does not fetch URLs or vouch for issuers named by forgeries.

Presentations add a **presentation** check (``challenge``/``domain`` against the expected values,
holder = signer) and verify each embedded credential with the same pipeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

from sceau_credentials.binding import requires_issuer_binding
from sceau_credentials.dids.resolver import DidResolver
from sceau_credentials.ob3.constants import OB_CREDENTIAL_TYPES
from sceau_credentials.ob3.envelope import (
    Envelope,
    ParseFailure,
    embedded_format,
    first_subject,
    open_document,
    proof_options,
)
from sceau_credentials.ob3.fields import (
    as_list,
    did_of,
    first_mapping,
    id_of,
    parse_datetime,
    types_of,
)
from sceau_credentials.ob3.validation import (
    data_model,
    presentation_problems,
    schema_problems,
    structure_problems,
)
from sceau_credentials.results import (
    CREDENTIAL_EXPIRED,
    CREDENTIAL_NOT_YET_VALID,
    CRYPTOGRAPHIC_SECURITY_ERROR,
    INVALID_CHALLENGE_ERROR,
    INVALID_DOMAIN_ERROR,
    ISSUER_NOT_TRUSTED,
    ISSUER_TRUST_UNKNOWN,
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    PROOF_VERIFICATION_ERROR,
    Check,
    CheckName,
    CheckStatus,
    CredentialSummary,
    ProofOutcome,
    ProofVerifier,
    VerificationResult,
    VerificationWarning,
)
from sceau_credentials.status.checker import StatusChecker, StatusEntryResult
from sceau_credentials.status.entries import parse_status_entries
from sceau_credentials.status.errors import StatusMalformedError

__all__ = ["IssuerTrust", "IssuerTrustInfo", "verify"]

#: More embedded credentials than this in one presentation is refused (denial of service).
MAX_PRESENTED_CREDENTIALS: Final = 50
_MAX_LISTED_PROBLEMS: Final = 5


class IssuerTrustInfo(BaseModel):
    """What an issuer registry says about an issuer (``None`` = the registry does not know).

    Attributes:
        registered: the DID belongs to a registered institution.
        accredited: that institution may issue this achievement type.
        key_valid: the signing key was valid for the institution at the issuance date.
        status: the registry entry's status (``active``, ``suspended``, ``former``).
        name_fr, name_en: the registry's canonical names, shown instead of self-asserted ones.
        registry: which registry answered.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    registered: bool | None = None
    accredited: bool | None = None
    key_valid: bool | None = None
    status: str | None = None
    name_fr: str | None = None
    name_en: str | None = None
    registry: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class IssuerTrust(Protocol):
    """An issuer registry the verifier consults (the registry service implements it)."""

    async def lookup(
        self,
        issuer: str,
        *,
        achievement_type: str | None,
        issued_at: datetime | None,
        verification_method: str | None,
    ) -> IssuerTrustInfo:
        """Return what the registry knows about ``issuer`` (a DID)."""
        ...


class _Context:
    """Per-call settings passed down the pipeline."""

    def __init__(
        self,
        resolver: DidResolver,
        status: StatusChecker | None,
        trust: IssuerTrust | None,
        now: datetime,
        proof_verifier: ProofVerifier | None,
    ) -> None:
        self.resolver = resolver
        self.status = status
        self.trust = trust
        self.now = now
        self.proof_verifier = proof_verifier

    async def verify_proof(self, secured: Mapping[str, Any] | str) -> ProofOutcome:
        verifier = self.proof_verifier
        if verifier is None:
            from sceau_credentials.engine import verify_proof

            verifier = verify_proof
        payload = secured if isinstance(secured, str) else dict(secured)
        return await verifier(payload, self.resolver)

    async def verify_presentation_proof(
        self, secured: Mapping[str, Any] | str, challenge: str | None, domain: str | None
    ) -> ProofOutcome:
        """The presentation's own proof (``authentication`` purpose, challenge, domain)."""
        if self.proof_verifier is not None:
            return await self.verify_proof(secured)
        if isinstance(secured, str):
            return _PresentationProof(
                verified=False,
                problem_type=PROOF_VERIFICATION_ERROR,
                reason="presentations secured as a JWT are not supported; present a Data "
                "Integrity-signed presentation",
            )
        from sceau_credentials.presentations import verify_presentation

        result = await verify_presentation(
            dict(secured), self.resolver, challenge=challenge, domain=domain, now=self.now
        )
        # verify_presentation also checks the embedded credentials; they are verified (and
        # reported) one by one here, so only the presentation's own proof decides this check.
        proof_valid = result.verified or (
            result.verification_method is not None and bool(result.credentials)
        )
        return _PresentationProof(
            verified=proof_valid,
            problem_type=None if proof_valid else result.problem_type,
            reason=result.reason,
            verification_method=result.verification_method,
            issuer=result.holder,
        )


@dataclass(frozen=True, slots=True)
class _PresentationProof:
    """A presentation proof outcome in the :class:`~.results.ProofOutcome` shape."""

    verified: bool
    problem_type: str | None
    reason: str | None
    verification_method: str | None = None
    issuer: str | None = None
    credential: Mapping[str, Any] | None = None
    proof_created: datetime | None = None


async def verify(
    document: object,
    *,
    resolver: DidResolver,
    status: StatusChecker | None = None,
    trust: IssuerTrust | None = None,
    now: datetime | None = None,
    expected_challenge: str | None = None,
    expected_domain: str | None = None,
    proof_verifier: ProofVerifier | None = None,
) -> VerificationResult:
    """Verify a credential or a presentation and report every check.

    Args:
        document: JSON object, JSON text, bytes, or a compact VC-JWT / VP-JWT.
        resolver: resolves the DIDs of signers (did:key offline, did:web guarded).
        status: decides credential status; ``None`` makes a status check inconclusive.
        trust: the issuer registry; ``None`` makes the issuer check inconclusive.
        now: the verification time (defaults to the current time).
        expected_challenge: for presentations, the challenge the verifier issued.
        expected_domain: for presentations, the verifier's domain.
        proof_verifier: replaces ``engine.verify_proof`` (tests inject fakes).
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    context = _Context(resolver, status, trust, moment, proof_verifier)
    try:
        envelope = open_document(document)
        if isinstance(envelope, ParseFailure):
            return _unusable(PARSING_ERROR, envelope.reason_en, envelope.reason_fr)
        if envelope.is_presentation:
            return await _verify_presentation(
                envelope, context, expected_challenge, expected_domain
            )
        return await _verify_credential(envelope, context)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raise"; report it instead
        return _unusable(
            PARSING_ERROR,
            f"The document could not be processed ({type(exc).__name__}).",
            f"Le document n'a pas pu être traité ({type(exc).__name__}).",
        )


def _unusable(problem: str, reason_en: str, reason_fr: str) -> VerificationResult:
    return VerificationResult(
        checks=(Check.failed(CheckName.STRUCTURE, problem, reason_en, reason_fr),)
    )


def _listed(problems: Sequence[tuple[str, str]]) -> str:
    shown = "; ".join(
        f"{path or '(document)'}: {message}" for path, message in problems[:_MAX_LISTED_PROBLEMS]
    )
    more = len(problems) - _MAX_LISTED_PROBLEMS
    return shown + (f"; and {more} more" if more > 0 else "")


def _structure_check(envelope: Envelope) -> tuple[Check, list[VerificationWarning]]:
    document = envelope.document
    checker = presentation_problems if envelope.is_presentation else structure_problems
    found = [(p.path, p.message) for p in checker(document)]
    found += list(envelope.problems)
    warnings: list[VerificationWarning] = []
    is_ob = bool(OB_CREDENTIAL_TYPES & set(types_of(document)))
    if not envelope.is_presentation and not is_ob and not found:
        warnings.append(
            VerificationWarning(
                message_en="This is a verifiable credential but not an Open Badges credential.",
                message_fr="Ce titre vérifiable n'est pas un badge Open Badges.",
            )
        )
    if is_ob and data_model(document) == "2.0" and not found:
        # Strict: a credential with several status entries is told it fails the official schema.
        schema = schema_problems(document)
        if schema:
            warnings.append(
                VerificationWarning(
                    problem_type=MALFORMED_VALUE_ERROR,
                    message_en="Not valid against 1EdTech's Open Badges 3.0 JSON Schema: "
                    + _listed([(p.path, p.message) for p in schema]),
                    message_fr="Non conforme au schéma JSON Open Badges 3.0 de 1EdTech : "
                    + _listed([(p.path, p.message) for p in schema]),
                )
            )
    what_en = "presentation" if envelope.is_presentation else "credential"
    what_fr = "La présentation" if envelope.is_presentation else "Le titre"
    if found:
        return (
            Check.failed(
                CheckName.STRUCTURE,
                MALFORMED_VALUE_ERROR,
                f"The {what_en} is not well-formed: {_listed(found)}.",
                f"{what_fr} est mal formé(e) : {_listed(found)}.",
                details={"problems": [{"path": p, "message": m} for p, m in found]},
            ),
            warnings,
        )
    return (
        Check.passed(
            CheckName.STRUCTURE,
            f"The {what_en} is well-formed.",
            f"{what_fr} est bien formé(e).",
        ),
        warnings,
    )


async def _proof_check(
    envelope: Envelope,
    verifier: Callable[[], Awaitable[ProofOutcome]],
    expected_signer: str | None,
    *,
    signer_role: str,
) -> tuple[Check, ProofOutcome | None]:
    if envelope.jwt_claims is None and envelope.document.get("proof") is None:
        return (
            Check.failed(
                CheckName.PROOF,
                PROOF_VERIFICATION_ERROR,
                "The document has no proof: nothing shows who issued it or that it is unchanged.",
                "Le document n'a aucune preuve : rien n'atteste son émetteur ni son intégrité.",
            ),
            None,
        )
    try:
        outcome = await verifier()
    except Exception as exc:  # noqa: BLE001 - a verifier crash is a failed proof, not a crash
        return (
            Check.failed(
                CheckName.PROOF,
                PROOF_VERIFICATION_ERROR,
                f"The proof could not be verified ({type(exc).__name__}).",
                f"La preuve n'a pas pu être vérifiée ({type(exc).__name__}).",
            ),
            None,
        )
    details = {
        "verification_method": outcome.verification_method,
        "signer": outcome.issuer,
        "proof_created": outcome.proof_created.isoformat() if outcome.proof_created else None,
    }
    if not outcome.verified:
        why = outcome.reason or "the signature does not match the document"
        return (
            Check.failed(
                CheckName.PROOF,
                outcome.problem_type or CRYPTOGRAPHIC_SECURITY_ERROR,
                f"The proof is not valid: {why}.",
                f"La preuve n'est pas valide (détail technique : {why}).",
                details=details,
            ),
            outcome,
        )
    signer = did_of(outcome.verification_method)
    role_fr = "l'émetteur" if signer_role == "issuer" else "le détenteur"
    bound = signer_role != "issuer" or requires_issuer_binding(envelope.document)
    if (
        bound
        and expected_signer is not None
        and signer is not None
        and signer != did_of(expected_signer)
    ):
        return (
            Check.failed(
                CheckName.PROOF,
                CRYPTOGRAPHIC_SECURITY_ERROR,
                f"The proof is valid but was made by {signer}, not by the {signer_role} "
                f"{expected_signer}.",
                f"La preuve est valide mais a été faite par {signer}, et non par "
                f"{role_fr} {expected_signer}.",
                details=details,
            ),
            outcome,
        )
    return (
        Check.passed(
            CheckName.PROOF,
            "The proof is valid: the document is unchanged since it was signed.",
            "La preuve est valide : le document n'a pas été modifié depuis sa signature.",
            details=details,
        ),
        outcome,
    )


def _validity_check(document: Mapping[str, Any], now: datetime) -> Check:
    start_key, end_key = (
        ("issuanceDate", "expirationDate")
        if data_model(document) == "1.1"
        else ("validFrom", "validUntil")
    )
    raw_start, raw_end = document.get(start_key), document.get(end_key)
    start, end = parse_datetime(raw_start), parse_datetime(raw_end)
    if (raw_start is not None and start is None) or (raw_end is not None and end is None):
        return Check.failed(
            CheckName.VALIDITY,
            MALFORMED_VALUE_ERROR,
            f"The validity dates ({start_key}/{end_key}) are malformed.",
            f"Les dates de validité ({start_key}/{end_key}) sont mal formées.",
        )
    details = {"valid_from": raw_start, "valid_until": raw_end, "checked_at": now.isoformat()}
    if start is not None and now < start:
        return Check.failed(
            CheckName.VALIDITY,
            CREDENTIAL_NOT_YET_VALID,
            f"The credential is not valid before {start.isoformat()}.",
            f"Le titre n'est pas valide avant le {start.isoformat()}.",
            details=details,
        )
    if end is not None and now >= end:
        return Check.failed(
            CheckName.VALIDITY,
            CREDENTIAL_EXPIRED,
            f"The credential expired on {end.isoformat()}.",
            f"Le titre a expiré le {end.isoformat()}.",
            details=details,
        )
    return Check.passed(
        CheckName.VALIDITY,
        "The credential is within its validity period."
        if end is not None
        else "The credential is valid and does not expire.",
        "Le titre est dans sa période de validité."
        if end is not None
        else "Le titre est valide et n'expire pas.",
        details=details,
    )


def _skipped(name: CheckName, *, required: bool = True) -> Check:
    return Check.inconclusive(
        name,
        None,
        "Not checked because the proof is not valid.",
        "Non vérifié parce que la preuve n'est pas valide.",
        required=required,
    )


def _combine_status(results: Sequence[StatusEntryResult]) -> Check:
    details = {"entries": [r.model_dump(mode="json") for r in results]}
    for wanted in (CheckStatus.FAILED, CheckStatus.INCONCLUSIVE):
        hits = [r for r in results if r.outcome is wanted]
        if hits:
            return Check(
                name=CheckName.STATUS,
                status=wanted,
                problem_type=hits[0].problem_type,
                reason_en=" ".join(r.reason_en for r in hits),
                reason_fr=" ".join(r.reason_fr for r in hits),
                details=details,
            )
    return Check.passed(
        CheckName.STATUS,
        "The credential is neither revoked nor suspended.",
        "Le titre n'est ni révoqué ni suspendu.",
        details=details,
    )


async def _status_check(document: Mapping[str, Any], context: _Context) -> Check:
    try:
        entries = parse_status_entries(document.get("credentialStatus"))
    except StatusMalformedError as exc:
        return Check.failed(
            CheckName.STATUS,
            MALFORMED_VALUE_ERROR,
            f"The status information is malformed: {exc.message}",
            "Les informations de statut sont mal formées.",
        )
    if not entries:
        return Check.passed(
            CheckName.STATUS,
            "The credential has no status list: its issuer cannot revoke it.",
            "Le titre n'a pas de liste de statuts : son émetteur ne peut pas le révoquer.",
        )
    if context.status is None:
        return Check.inconclusive(
            CheckName.STATUS,
            None,
            "The status (revocation, suspension) was not checked.",
            "Le statut (révocation, suspension) n'a pas été vérifié.",
        )
    try:
        results = await context.status.check(
            entries,
            issuer=id_of(document.get("issuer")),
            now=context.now,
            credential_id=id_of(document.get("id")),
        )
    except Exception as exc:  # noqa: BLE001 - a checker crash leaves the status unknown
        return Check.inconclusive(
            CheckName.STATUS,
            None,
            f"The status could not be determined ({type(exc).__name__}).",
            f"Le statut n'a pas pu être déterminé ({type(exc).__name__}).",
        )
    if not results:
        return Check.inconclusive(
            CheckName.STATUS,
            None,
            "The status checker gave no answer.",
            "Aucune réponse sur le statut.",
        )
    return _combine_status(results)


async def _issuer_check(
    document: Mapping[str, Any], context: _Context, outcome: ProofOutcome | None
) -> Check:
    issuer = id_of(document.get("issuer"))
    if context.trust is None or issuer is None:
        return Check.inconclusive(
            CheckName.ISSUER,
            ISSUER_TRUST_UNKNOWN,
            "The issuer was not checked against a registry of trusted issuers.",
            "L'émetteur n'a pas été vérifié dans un registre d'émetteurs de confiance.",
            required=False,
        )
    achievement = first_mapping((first_subject(document) or {}).get("achievement"))
    kind = achievement.get("achievementType") if achievement else None
    issued = parse_datetime(document.get("validFrom") or document.get("issuanceDate"))
    try:
        info = await context.trust.lookup(
            did_of(issuer) or issuer,
            achievement_type=kind if isinstance(kind, str) else None,
            issued_at=issued,
            verification_method=outcome.verification_method if outcome else None,
        )
    except Exception as exc:  # noqa: BLE001 - an unreachable registry leaves trust unknown
        return Check.inconclusive(
            CheckName.ISSUER,
            ISSUER_TRUST_UNKNOWN,
            f"The issuer registry could not be consulted ({type(exc).__name__}).",
            f"Le registre des émetteurs n'a pas pu être consulté ({type(exc).__name__}).",
            required=False,
        )
    details = info.model_dump(mode="json")
    name = info.name_en or issuer
    name_fr = info.name_fr or info.name_en or issuer
    if info.registered is False:
        return Check.failed(
            CheckName.ISSUER, ISSUER_NOT_TRUSTED,
            "The issuer is not in the registry of trusted issuers.",
            "L'émetteur ne figure pas au registre des émetteurs de confiance.",
            details=details, required=False,
        )  # fmt: skip
    if info.key_valid is False:
        return Check.failed(
            CheckName.ISSUER, ISSUER_NOT_TRUSTED,
            f"{name} is registered, but the signing key was not valid for it on the issue date.",
            f"{name_fr} est inscrit, mais la clé de signature n'était pas valide à la date "
            "d'émission.",
            details=details, required=False,
        )  # fmt: skip
    if info.accredited is False:
        return Check.failed(
            CheckName.ISSUER, ISSUER_NOT_TRUSTED,
            f"{name} is registered but not recognised for this kind of credential ({kind}).",
            f"{name_fr} est inscrit mais n'est pas reconnu pour ce type de titre ({kind}).",
            details=details, required=False,
        )  # fmt: skip
    if info.registered is None or info.key_valid is None:
        return Check.inconclusive(
            CheckName.ISSUER, ISSUER_TRUST_UNKNOWN,
            "The registry could not confirm the issuer and its key.",
            "Le registre n'a pas pu confirmer l'émetteur et sa clé.",
            details=details, required=False,
        )  # fmt: skip
    return Check.passed(
        CheckName.ISSUER,
        f"Issued by {name}, a registered issuer.",
        f"Émis par {name_fr}, émetteur inscrit au registre.",
        details=details,
        required=False,
    )


def _summary(envelope: Envelope) -> CredentialSummary:
    document = envelope.document
    issuer = document.get("issuer")
    subject = first_subject(document) or {}
    achievement = first_mapping(subject.get("achievement")) or {}
    names: dict[str, str] = {}
    if isinstance(achievement.get("name"), str) and isinstance(achievement.get("inLanguage"), str):
        names[achievement["inLanguage"]] = achievement["name"]
    for related in as_list(achievement.get("related")):
        if isinstance(related, Mapping):
            lang, name = related.get("inLanguage"), related.get("name")
            if isinstance(lang, str) and isinstance(name, str):
                names.setdefault(lang, name)
    two = data_model(document) != "1.1"
    kind = achievement.get("achievementType")
    return CredentialSummary(
        format=envelope.format,
        credential_id=id_of(document.get("id")),
        types=types_of(document),
        issuer_id=id_of(issuer),
        issuer_name=issuer.get("name")
        if isinstance(issuer, Mapping) and isinstance(issuer.get("name"), str)
        else None,
        subject_id=id_of(subject.get("id")),
        achievement_id=id_of(achievement.get("id")),
        achievement_type=kind if isinstance(kind, str) else None,
        achievement_name=achievement.get("name")
        if isinstance(achievement.get("name"), str)
        else None,
        achievement_names=names,
        valid_from=parse_datetime(document.get("validFrom" if two else "issuanceDate")),
        valid_until=parse_datetime(document.get("validUntil" if two else "expirationDate")),
    )


async def _verify_credential(envelope: Envelope, context: _Context) -> VerificationResult:
    structure, warnings = _structure_check(envelope)
    document = envelope.document
    proof, outcome = await _proof_check(
        envelope,
        lambda: context.verify_proof(envelope.secured),
        id_of(document.get("issuer")),
        signer_role="issuer",
    )
    checks = [structure, proof, _validity_check(document, context.now)]
    method = outcome.verification_method if outcome is not None else None
    signer = did_of(method) if isinstance(method, str) else None
    issuer = id_of(document.get("issuer"))
    if (
        proof.status is CheckStatus.PASSED
        and signer
        and isinstance(issuer, str)
        and signer != did_of(issuer)
    ):
        # Only reachable for credential types that do not require issuer binding.
        warnings = [
            *warnings,
            VerificationWarning(
                message_en=f"The proof was made by {signer}, which is not the issuer {issuer}.",
                message_fr=(
                    f"La preuve a été faite par {signer}, qui n'est pas l'émetteur {issuer}."
                ),
            ),
        ]
    if proof.status is CheckStatus.PASSED:
        checks.append(await _status_check(document, context))
        checks.append(await _issuer_check(document, context, outcome))
    else:
        checks += [_skipped(CheckName.STATUS), _skipped(CheckName.ISSUER, required=False)]
    return VerificationResult(
        checks=tuple(checks), warnings=tuple(warnings), credential=_summary(envelope)
    )


def _presentation_check(
    envelope: Envelope, expected_challenge: str | None, expected_domain: str | None
) -> Check:
    challenges, domains = proof_options(envelope)
    details = {"challenges": challenges, "domains": domains}
    if expected_challenge is not None and expected_challenge not in challenges:
        return Check.failed(
            CheckName.PRESENTATION,
            INVALID_CHALLENGE_ERROR,
            "The presentation does not answer this verifier's challenge (possible replay).",
            "La présentation ne répond pas au défi émis par ce vérificateur (rejeu possible).",
            details=details,
        )
    if expected_domain is not None and expected_domain not in domains:
        return Check.failed(
            CheckName.PRESENTATION,
            INVALID_DOMAIN_ERROR,
            "The presentation was made for another verifier (domain mismatch).",
            "La présentation a été faite pour un autre vérificateur (domaine différent).",
            details=details,
        )
    return Check.passed(
        CheckName.PRESENTATION,
        "The presentation was made for this verifier."
        if expected_challenge or expected_domain
        else "No challenge or domain was required.",
        "La présentation a été faite pour ce vérificateur."
        if expected_challenge or expected_domain
        else "Aucun défi ni domaine n'était exigé.",
        details=details,
    )


_ENVELOPED_JWT: Final = "data:application/vc+jwt,"


def _unenvelope(item: object) -> object:
    """A VCDM 2.0 ``EnvelopedVerifiableCredential`` holding a VC-JWT yields that JWT."""
    if (
        isinstance(item, Mapping)
        and "EnvelopedVerifiableCredential" in types_of(item)
        and isinstance(item.get("id"), str)
        and item["id"].startswith(_ENVELOPED_JWT)
    ):
        return item["id"][len(_ENVELOPED_JWT) :]
    return item


async def _verify_presentation(
    envelope: Envelope,
    context: _Context,
    expected_challenge: str | None,
    expected_domain: str | None,
) -> VerificationResult:
    document = envelope.document
    structure, warnings = _structure_check(envelope)
    embedded = as_list(document.get("verifiableCredential"))
    if len(embedded) > MAX_PRESENTED_CREDENTIALS:
        structure = Check.failed(
            CheckName.STRUCTURE,
            MALFORMED_VALUE_ERROR,
            f"The presentation holds more than {MAX_PRESENTED_CREDENTIALS} credentials.",
            f"La présentation contient plus de {MAX_PRESENTED_CREDENTIALS} titres.",
        )
        embedded = []
    signed = envelope.jwt_claims is not None or document.get("proof") is not None
    holder = id_of(document.get("holder"))
    if signed or expected_challenge is not None or expected_domain is not None:
        proof, _ = await _proof_check(
            envelope,
            lambda: context.verify_presentation_proof(
                envelope.secured, expected_challenge, expected_domain
            ),
            holder,
            signer_role="holder",
        )
    else:
        proof = Check.inconclusive(
            CheckName.PROOF,
            None,
            "The presentation is not signed: the holder is not authenticated.",
            "La présentation n'est pas signée : le détenteur n'est pas authentifié.",
            required=False,
        )
    checks = [structure, proof, _presentation_check(envelope, expected_challenge, expected_domain)]
    results = []
    for item in embedded:
        inner = open_document(_unenvelope(item))
        if isinstance(inner, ParseFailure):
            results.append(_unusable(PARSING_ERROR, inner.reason_en, inner.reason_fr))
        elif inner.is_presentation:
            results.append(
                _unusable(
                    MALFORMED_VALUE_ERROR,
                    "A presentation cannot contain another presentation.",
                    "Une présentation ne peut pas contenir une autre présentation.",
                )
            )
        else:
            results.append(await _verify_credential(inner, context))
    return VerificationResult(
        checks=tuple(checks),
        warnings=tuple(warnings),
        credentials=tuple(results),
        is_presentation=True,
        credential=CredentialSummary(
            format=envelope.format if envelope.format == "jwt" else embedded_format(document),
            credential_id=id_of(document.get("id")),
            types=types_of(document),
            subject_id=holder,
        ),
    )
