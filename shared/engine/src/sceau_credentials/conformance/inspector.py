"""Inspect one credential as 1EdTech's OB 3.0 validator would, offline, and list what departs.

The pipeline follows the validator's (its OB30Inspector): the document rules of
:mod:`sceau_credentials.conformance.rules` (context, type, subject, official JSON Schema, proof
type and cryptosuite or JWT algorithm, validity dates, status entry types), then what needs the
outside world, each through something the caller passes in so nothing is fetched behind its back:

* the verification method must resolve (``resolver``: did:key offline; did:web through whatever
  the caller provides — see :func:`offline_resolver`), and the proof must verify with it;
* when a ``status_lists`` fetcher is given, every Bitstring status list a credential points to must
  hold at least 131,072 entries (the group-privacy minimum the validator enforces);
* embedded endorsements (``endorsement`` on the credential, its issuer or its achievement, and
  ``endorsementJwt``) are inspected with the same rules, their findings located under them.

The clock is passed in too: a test session judges a credential at the moment it was signed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Final

from sceau_credentials.conformance.findings import Code, Finding, under
from sceau_credentials.conformance.rules import (
    Kind,
    context_findings,
    date_findings,
    endorsement_schema_findings,
    jwt_algorithm_findings,
    proof_type_findings,
    schema_findings,
    status_findings,
    subject_findings,
    type_findings,
)
from sceau_credentials.dids import (
    CompositeResolver,
    DidKeyResolver,
    DidResolutionError,
    DidResolver,
    find_verification_method,
)
from sceau_credentials.engine import verify_proof
from sceau_credentials.multiformats import MultiformatError, base64url_nopad_decode
from sceau_credentials.ob3.constants import BITSTRING_STATUS_LIST_ENTRY, ENDORSEMENT_CREDENTIAL
from sceau_credentials.ob3.fields import as_list, types_of
from sceau_credentials.proofs.errors import ProofError
from sceau_credentials.proofs.jwt import decode_jwt
from sceau_credentials.status.bitstring import MIN_ENTRIES, decode_bitstring_status_list
from sceau_credentials.status.checker import StatusListFetcher
from sceau_credentials.status.errors import StatusListLengthError

__all__ = ["inspect_credential", "offline_resolver"]

_MAX_DEPTH: Final = 2
"""An endorsement may carry endorsements; deeper nesting is not followed."""

#: Where OB 3.0 lets a credential embed endorsements (JSON pointer of the holder, key).
_ENDORSEMENT_HOLDERS: Final = (
    ("", ()),
    ("/issuer", ("issuer",)),
    ("/credentialSubject/achievement", ("credentialSubject", "achievement")),
)


class _CallableWeb:
    """A did:web resolver made of the caller's callable (a saved copy, a fetch, a registry)."""

    def __init__(self, fetch: Callable[[str], Awaitable[Mapping[str, Any]]]) -> None:
        self._fetch = fetch

    async def resolve(self, did: str) -> dict[str, Any]:
        return dict(await self._fetch(did.split("#", 1)[0]))


def offline_resolver(
    did_web: Callable[[str], Awaitable[Mapping[str, Any]]] | DidResolver | None = None,
) -> DidResolver:
    """did:key resolved offline; did:web through ``did_web`` (a resolver or an async callable).

    Without ``did_web``, did:web keys are reported unresolvable: the conformance check never
    reaches the network on its own.
    """
    resolvers: dict[str, DidResolver] = {"key": DidKeyResolver()}
    if isinstance(did_web, DidResolver):
        resolvers["web"] = did_web
    elif did_web is not None:
        resolvers["web"] = _CallableWeb(did_web)
    return CompositeResolver(resolvers)


def _finding(code: Code, where: str, fr: str, en: str) -> Finding:
    return Finding(code=code, pointer=where, message_fr=fr, message_en=en)


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The JWT's header and credential (its ``vc`` claim with the claims applied, or payload)."""
    try:
        decoded = decode_jwt(token)
    except ProofError:
        try:
            header_part, payload_part, _ = token.split(".")
            header = json.loads(base64url_nopad_decode(header_part))
            payload = json.loads(base64url_nopad_decode(payload_part))
        except (ValueError, MultiformatError):
            return None
        if not isinstance(header, dict) or not isinstance(payload, dict):
            return None
        return header, payload  # VC-JOSE: the payload is the credential itself
    return decoded.header, decoded.credential


def _methods(
    credential: Mapping[str, Any], header: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    """The verification methods to resolve, with where each is named."""
    if header is not None:
        kid = header.get("kid")
        return [("", kid)] if isinstance(kid, str) else [("", "")]
    raw = credential.get("proof")
    found = []
    for i, proof in enumerate(as_list(raw)):
        where = f"/proof/{i}" if isinstance(raw, list) else "/proof"
        method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
        found.append((f"{where}/verificationMethod", method if isinstance(method, str) else ""))
    return found


async def _key_findings(methods: list[tuple[str, str]], resolver: DidResolver) -> list[Finding]:
    findings = []
    for where, method in methods:
        if not method:
            findings.append(
                _finding(
                    Code.KEY_UNRESOLVABLE,
                    where,
                    "la preuve ne nomme aucune clé de vérification",
                    "the proof names no verification method",
                )
            )
            continue
        try:
            document = await resolver.resolve(method)
            find_verification_method(document, method, "assertionMethod")
        except DidResolutionError as exc:
            findings.append(
                _finding(
                    Code.KEY_UNRESOLVABLE,
                    where,
                    f"clé de vérification {method!r} introuvable : {exc.message}",
                    f"verification method {method!r} cannot be resolved: {exc.message}",
                )
            )
    return findings


async def _status_list_findings(
    credential: Mapping[str, Any], fetcher: StatusListFetcher
) -> list[Finding]:
    raw = credential.get("credentialStatus")
    findings = []
    checked: set[str] = set()
    for i, entry in enumerate(as_list(raw)):
        if not isinstance(entry, Mapping) or entry.get("type") != BITSTRING_STATUS_LIST_ENTRY:
            continue
        url = entry.get("statusListCredential")
        where = f"/credentialStatus/{i}" if isinstance(raw, list) else "/credentialStatus"
        if not isinstance(url, str) or url in checked:
            continue
        checked.add(url)
        size = entry.get("statusSize", 1)
        try:
            listed = await fetcher.fetch(url)
            list_credential = decode_jwt(listed).credential if isinstance(listed, str) else listed
            subject = list_credential.get("credentialSubject")
            encoded = subject.get("encodedList") if isinstance(subject, Mapping) else None
            decode_bitstring_status_list(
                str(encoded), status_size=int(size), minimum_entries=MIN_ENTRIES
            )
        except StatusListLengthError as exc:
            findings.append(
                _finding(
                    Code.STATUS_LIST_SIZE,
                    f"{where}/statusListCredential",
                    f"la liste de statut {url} compte moins de {MIN_ENTRIES} entrées",
                    f"the status list {url} is too short: {exc}",
                )
            )
        except Exception as exc:  # noqa: BLE001 - any failure to read the list is reported
            findings.append(
                _finding(
                    Code.STATUS_LIST_UNAVAILABLE,
                    f"{where}/statusListCredential",
                    f"liste de statut {url} illisible ou injoignable ({type(exc).__name__})",
                    f"status list {url} cannot be read ({type(exc).__name__}: {exc})",
                )
            )
    return findings


def _embedded(credential: Mapping[str, Any]) -> list[tuple[str, object]]:
    """Every embedded endorsement, with its JSON pointer."""
    found: list[tuple[str, object]] = []
    for prefix, keys in _ENDORSEMENT_HOLDERS:
        node: object = credential
        for key in keys:
            node = node.get(key) if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping):
            continue
        for name in ("endorsement", "endorsementJwt"):
            for i, item in enumerate(as_list(node.get(name))):
                found.append((f"{prefix}/{name}/{i}", item))
    return found


async def inspect_credential(
    document: object,
    *,
    resolver: DidResolver,
    now: datetime,
    status_lists: StatusListFetcher | None = None,
    verify_signatures: bool = True,
) -> list[Finding]:
    """Every finding 1EdTech's validator would make about ``document`` (empty: conformant).

    Args:
        document: a secured credential: a JSON object with an embedded proof, or a compact
            VC-JWT string. An ``EndorsementCredential`` is inspected as an endorsement.
        resolver: resolves verification methods (see :func:`offline_resolver`).
        now: the moment the credential is judged at (aware datetime).
        status_lists: fetches status list credentials; without it, list sizes are not checked.
        verify_signatures: also check each proof cryptographically (what the validator does).

    Never raises for bad input: what cannot be read is a ``document.unreadable`` finding.
    """
    return await _inspect(document, resolver, now, status_lists, verify_signatures, depth=0)


async def _inspect(
    document: object,
    resolver: DidResolver,
    now: datetime,
    status_lists: StatusListFetcher | None,
    verify_signatures: bool,
    *,
    depth: int,
    kind: Kind | None = None,
) -> list[Finding]:
    header: dict[str, Any] | None = None
    secured: dict[str, Any] | str
    if isinstance(document, str):
        parts = _jwt_parts(document.strip())
        if parts is None:
            return [_unreadable()]
        header, credential = parts
        secured = document.strip()
    elif isinstance(document, Mapping):
        credential = dict(document)
        secured = credential
    else:
        return [_unreadable()]
    if kind is None:  # what a top-level document says it is; an embedded one is an endorsement
        endorses = ENDORSEMENT_CREDENTIAL in types_of(credential)
        kind = Kind.ENDORSEMENT if endorses else Kind.ACHIEVEMENT
    findings = [
        *(jwt_algorithm_findings(header) if header is not None else []),
        *context_findings(credential),
        *type_findings(credential, kind),
        *subject_findings(credential, kind),
        # An embedded endorsement is already under its parent's schema (EndorsementCredential).
        *(_schema_findings(credential, kind) if depth == 0 else []),
        *(proof_type_findings(credential) if header is None else []),
        *date_findings(credential, now),
        *status_findings(credential),
    ]
    if not any(f.code is Code.PROOF_MISSING for f in findings):
        keys = await _key_findings(_methods(credential, header), resolver)
        findings += keys
        if verify_signatures and not keys:
            findings += await _signature_findings(secured, resolver, now)
    if status_lists is not None:
        findings += await _status_list_findings(credential, status_lists)
    if depth < _MAX_DEPTH:
        for prefix, endorsement in _embedded(credential):
            inner = await _inspect(
                endorsement,
                resolver,
                now,
                status_lists,
                verify_signatures,
                depth=depth + 1,
                kind=Kind.ENDORSEMENT,
            )
            findings += [under(prefix, f) for f in inner]
    return _unique(findings)


def _schema_findings(credential: Mapping[str, Any], kind: Kind) -> list[Finding]:
    if kind is Kind.ENDORSEMENT:
        return endorsement_schema_findings(credential)
    return schema_findings(credential)


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def _unreadable() -> Finding:
    return _finding(
        Code.UNREADABLE,
        "",
        "ni un objet JSON signé ni un VC-JWT compact",
        "neither a signed JSON object nor a compact VC-JWT",
    )


async def _signature_findings(
    secured: dict[str, Any] | str, resolver: DidResolver, now: datetime
) -> list[Finding]:
    outcome = await verify_proof(secured, resolver, now=now)
    if outcome.verified:
        return []
    return [
        _finding(
            Code.PROOF_INVALID,
            "/proof" if not isinstance(secured, str) else "",
            f"la preuve ne se vérifie pas : {outcome.reason}",
            f"the proof does not verify: {outcome.reason}",
        )
    ]
