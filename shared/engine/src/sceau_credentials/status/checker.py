"""Checking a credential's status entries against their (fetched, verified) status lists.

The verifier service plugs in how lists are fetched (:class:`StatusListFetcher`: SSRF guard,
cache honouring ``ttl``/``Cache-Control``) or replaces the whole :class:`StatusChecker`. The
default :class:`ListStatusChecker` follows the Bitstring Status List v1.0 validate algorithm,
and the same steps for StatusList2021:

1. fetch the list credential — failure is STATUS_RETRIEVAL_ERROR and the entry is
   **inconclusive**: an unreachable list never makes a credential look valid;
2. verify the list's proof, check its type, that its issuer is the credential's issuer, and that
   it is within its validity period — failure is STATUS_VERIFICATION_ERROR;
3. check the entry's purpose is one of the list's purposes (STATUS_VERIFICATION_ERROR);
4. expand ``encodedList`` and check the 131,072-entry minimum (STATUS_LIST_LENGTH_ERROR);
5. read the entry's bits (RANGE_ERROR when outside the list).

A set ``revocation`` or ``suspension`` bit fails the check. Other purposes (``message``,
``refresh``) never invalidate a credential; their value is reported in the result.

``1EdTechRevocationList`` entries (:mod:`.revocation_list`) take the same first two steps (fetch;
proof when the list is signed, issuer, validity period), then look the credential's ``id`` up
among the list's revoked ids: found is revoked (with the list's ``revocationReason``).

Requiring the list's issuer to equal the credential's issuer is stricter than the specification
(which allows a different status authority): Sceau issuers always publish their own lists, and a
verifier has no registry of delegated status authorities to consult.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from sceau_credentials.ob3.constants import (
    BITSTRING_STATUS_LIST,
    BITSTRING_STATUS_LIST_CREDENTIAL,
    BITSTRING_STATUS_LIST_ENTRY,
    STATUS_LIST_2021,
    STATUS_LIST_2021_CREDENTIAL,
    STATUS_LIST_2021_ENTRY,
)
from sceau_credentials.ob3.fields import as_list, did_of, id_of, parse_datetime, types_of
from sceau_credentials.results import (
    CREDENTIAL_REVOKED,
    CREDENTIAL_STATUS_SET,
    CREDENTIAL_SUSPENDED,
    MALFORMED_VALUE_ERROR,
    CheckStatus,
    ProofOutcome,
    ProofVerifier,
)
from sceau_credentials.status.bitstring import (
    MIN_ENTRIES,
    Bitstring,
    decode_bitstring_status_list,
    decode_status_list_2021,
)
from sceau_credentials.status.entries import StatusEntry
from sceau_credentials.status.errors import (
    StatusListError,
    StatusRetrievalError,
    StatusVerificationError,
)
from sceau_credentials.status.revocation_list import (
    REVOCATION_LIST_1EDTECH,
    RevocationList,
    is_signed,
    read_revocation_list,
)

__all__ = [
    "ListStatusChecker",
    "StatusChecker",
    "StatusEntryResult",
    "StatusListFetcher",
]


class StatusEntryResult(BaseModel):
    """The outcome for one ``credentialStatus`` entry (one purpose)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: str
    list_url: str
    index: int
    outcome: CheckStatus
    status: int | None = None
    problem_type: str | None = None
    reason_en: str
    reason_fr: str
    message: str | None = None


class StatusListFetcher(Protocol):
    """Fetches a status list credential (a JSON-LD object, or a VC-JWT string).

    Implementations apply the SSRF guard and caching; any exception means "could not retrieve".
    """

    async def fetch(self, url: str) -> Mapping[str, Any] | str:
        """Return the status list credential published at ``url``."""
        ...


class StatusChecker(Protocol):
    """Decides the status of a credential from its parsed ``credentialStatus`` entries."""

    async def check(
        self,
        entries: Sequence[StatusEntry],
        *,
        issuer: str | None,
        now: datetime,
        credential_id: str | None = None,
    ) -> list[StatusEntryResult]:
        """Return one result per entry, in order. Must not raise for bad lists.

        ``credential_id`` is the credential's ``id``: lists that name revoked credentials
        (``1EdTechRevocationList``) are searched for it.
        """
        ...


_DECODINGS = 32
"""Decoded lists a checker keeps (a verifier sees a handful of lists again and again)."""

_SUPPORTED = {
    BITSTRING_STATUS_LIST_ENTRY: (BITSTRING_STATUS_LIST_CREDENTIAL, BITSTRING_STATUS_LIST),
    STATUS_LIST_2021_ENTRY: (STATUS_LIST_2021_CREDENTIAL, STATUS_LIST_2021),
}
_INVALIDATING = {
    "revocation": (
        CREDENTIAL_REVOKED,
        "The credential has been revoked.",
        "Le titre a été révoqué.",
    ),
    "suspension": (
        CREDENTIAL_SUSPENDED,
        "The credential is suspended.",
        "Le titre est suspendu.",
    ),
}


class _EntryFailure(Exception):
    """Internal: carries the outcome of a failed step for one entry."""

    def __init__(
        self, outcome: CheckStatus, problem_type: str | None, reason_en: str, reason_fr: str
    ) -> None:
        super().__init__(reason_en)
        self.outcome = outcome
        self.problem_type = problem_type
        self.reason_en = reason_en
        self.reason_fr = reason_fr


def _check_window(document: Mapping[str, Any], now: datetime, what_en: str, what_fr: str) -> None:
    """A list outside its validity period says nothing about today: the status is unknown."""
    starts = parse_datetime(document.get("validFrom") or document.get("issuanceDate"))
    ends = parse_datetime(document.get("validUntil") or document.get("expirationDate"))
    if (starts is not None and now < starts) or (ends is not None and now >= ends):
        raise _EntryFailure(
            CheckStatus.INCONCLUSIVE,
            StatusVerificationError.problem_type,
            f"The {what_en} is outside its validity period; the current status is unknown.",
            f"La {what_fr} est hors de sa période de validité; le statut actuel est inconnu.",
        )


class ListStatusChecker:
    """Default :class:`StatusChecker` for Bitstring Status List v1.0 and StatusList2021.

    Args:
        fetcher: gets status list credentials.
        resolver: a ``dids.DidResolver`` used to verify the lists' proofs.
        proof_verifier: ``verify_proof(document, resolver)``; defaults to the engine's.
        minimum_entries: the group-privacy minimum (131,072 unless an ecosystem sets another).
    """

    def __init__(
        self,
        fetcher: StatusListFetcher,
        resolver: Any,
        *,
        proof_verifier: ProofVerifier | None = None,
        minimum_entries: int = MIN_ENTRIES,
    ) -> None:
        self._fetcher = fetcher
        self._resolver = resolver
        self._proof_verifier = proof_verifier
        self._minimum_entries = minimum_entries
        self._decodings: dict[tuple[str, bool, int], Bitstring] = {}
        self._revocation_lists: dict[str, tuple[Mapping[str, Any], RevocationList]] = {}

    async def check(
        self,
        entries: Sequence[StatusEntry],
        *,
        issuer: str | None,
        now: datetime,
        credential_id: str | None = None,
    ) -> list[StatusEntryResult]:
        """Check every entry; lists shared by several entries are fetched and verified once."""
        lists: dict[str, Mapping[str, Any] | _EntryFailure] = {}
        results = []
        for entry in entries:
            try:
                if entry.type == REVOCATION_LIST_1EDTECH:
                    results.append(
                        await self._check_revocation_list(entry, issuer, now, credential_id)
                    )
                    continue
                if entry.type not in _SUPPORTED:
                    raise _EntryFailure(
                        CheckStatus.INCONCLUSIVE,
                        None,
                        f"Status method {entry.type!r} is not supported.",
                        f"La méthode de statut {entry.type!r} n'est pas prise en charge.",
                    )
                if entry.list_url not in lists:
                    lists[entry.list_url] = await self._load_list(entry, issuer, now)
                loaded = lists[entry.list_url]
                if isinstance(loaded, _EntryFailure):
                    raise loaded
                results.append(self._read_entry(entry, loaded))
            except _EntryFailure as failure:
                one_list = entry.type == REVOCATION_LIST_1EDTECH
                results.append(
                    StatusEntryResult(
                        purpose=entry.purpose or ("revocation" if one_list else ""),
                        list_url=entry.list_url,
                        index=entry.index,
                        outcome=failure.outcome,
                        problem_type=failure.problem_type,
                        reason_en=failure.reason_en,
                        reason_fr=failure.reason_fr,
                    )
                )
        return results

    async def _load_list(
        self, entry: StatusEntry, issuer: str | None, now: datetime
    ) -> Mapping[str, Any] | _EntryFailure:
        """Fetch, verify and sanity-check one list credential (failures are returned, cached)."""
        try:
            fetched = await self._fetcher.fetch(entry.list_url)
        except Exception as exc:  # noqa: BLE001 - any fetch failure is a retrieval error
            return _EntryFailure(
                CheckStatus.INCONCLUSIVE,
                StatusRetrievalError.problem_type,
                f"The status list could not be retrieved ({type(exc).__name__}); the status is "
                "unknown.",
                f"La liste de statuts n'a pas pu être obtenue ({type(exc).__name__}); le statut "
                "est inconnu.",
            )
        try:
            return await self._verify_list(fetched, entry, issuer, now)
        except _EntryFailure as failure:
            return failure

    async def _verify_list(
        self,
        fetched: Mapping[str, Any] | str,
        entry: StatusEntry,
        issuer: str | None,
        now: datetime,
    ) -> Mapping[str, Any]:
        bad = StatusVerificationError.problem_type
        proof = await self._proof_of(fetched, "status list", "liste de statuts")
        document = proof.credential if isinstance(fetched, str) else fetched
        if not isinstance(document, Mapping):
            raise _EntryFailure(
                CheckStatus.FAILED,
                bad,
                "The status list is not a credential.",
                "La liste de statuts n'est pas un titre vérifiable.",
            )
        credential_type, subject_type = _SUPPORTED[entry.type]
        subject = document.get("credentialSubject")
        if credential_type not in types_of(document) or subject_type not in types_of(subject):
            raise _EntryFailure(
                CheckStatus.FAILED,
                bad,
                f"The status list is not a {credential_type}.",
                f"La liste de statuts n'est pas un {credential_type}.",
            )
        list_issuer = did_of(id_of(document.get("issuer")))
        signer = did_of(proof.issuer)
        if issuer is None or list_issuer != did_of(issuer) or (signer and signer != list_issuer):
            raise _EntryFailure(
                CheckStatus.FAILED,
                bad,
                "The status list was not issued by the credential's issuer.",
                "La liste de statuts n'a pas été émise par l'émetteur du titre.",
            )
        _check_window(document, now, "status list", "liste de statuts")
        return document

    def _decoded(self, encoded: Any, entry: StatusEntry) -> Bitstring:
        """Decode a list, reusing the last few decodings (the same list serves every request).

        The key is the encoded text itself (Python keeps a string's hash, and a cached list is
        the same string object each time), so a re-signed list is a new key.
        """
        key = (encoded, entry.is_bitstring, entry.size)
        known = self._decodings.get(key) if isinstance(encoded, str) else None
        if known is not None:
            return known
        if entry.is_bitstring:
            bitstring = decode_bitstring_status_list(
                encoded, status_size=entry.size, minimum_entries=self._minimum_entries
            )
        else:
            bitstring = decode_status_list_2021(encoded, minimum_entries=self._minimum_entries)
        if isinstance(encoded, str):
            if len(self._decodings) >= _DECODINGS:
                self._decodings.clear()
            self._decodings[key] = bitstring
        return bitstring

    def _read_entry(self, entry: StatusEntry, document: Mapping[str, Any]) -> StatusEntryResult:
        subject = document.get("credentialSubject")
        assert isinstance(subject, Mapping)  # checked by _verify_list  # noqa: S101
        purposes = [p for p in as_list(subject.get("statusPurpose")) if isinstance(p, str)]
        if entry.purpose not in purposes:
            raise _EntryFailure(
                CheckStatus.FAILED,
                StatusVerificationError.problem_type,
                f"The status list does not serve the purpose {entry.purpose!r}.",
                f"La liste de statuts ne sert pas l'usage {entry.purpose!r}.",
            )
        try:
            bitstring = self._decoded(subject.get("encodedList"), entry)
            status = bitstring.get(entry.index, entry.size)
        except StatusListError as exc:
            raise _EntryFailure(
                CheckStatus.FAILED,
                exc.problem_type,
                f"The status list cannot be read: {exc.message}",
                "La liste de statuts est illisible ou l'index est hors limites.",
            ) from exc
        base = {"purpose": entry.purpose, "list_url": entry.list_url, "index": entry.index}
        if status == 0:
            return StatusEntryResult(
                **base,
                outcome=CheckStatus.PASSED,
                status=0,
                reason_en=f"Not flagged for {entry.purpose}.",
                reason_fr=f"Aucun signalement pour l'usage « {entry.purpose} ».",
            )
        message = entry.messages.get(hex(status))
        if entry.purpose in _INVALIDATING:
            problem, reason_en, reason_fr = _INVALIDATING[entry.purpose]
            return StatusEntryResult(
                **base,
                outcome=CheckStatus.FAILED,
                status=status,
                problem_type=problem,
                reason_en=reason_en,
                reason_fr=reason_fr,
                message=message,
            )
        return StatusEntryResult(
            **base,
            outcome=CheckStatus.PASSED,
            status=status,
            problem_type=CREDENTIAL_STATUS_SET,
            reason_en=f"Status {hex(status)} for {entry.purpose}: {message or 'no message'}.",
            reason_fr=f"Statut {hex(status)} pour l'usage « {entry.purpose} » : "
            f"{message or 'aucun message'}.",
            message=message,
        )

    # --- 1EdTechRevocationList -------------------------------------------------------------

    async def _check_revocation_list(
        self, entry: StatusEntry, issuer: str | None, now: datetime, credential_id: str | None
    ) -> StatusEntryResult:
        """Fetch the list at the entry's ``id``, check it, look ``credential_id`` up in it."""
        if not entry.list_url:
            raise _EntryFailure(
                CheckStatus.FAILED,
                MALFORMED_VALUE_ERROR,
                "The 1EdTech revocation list entry has no id (the list's URL).",
                "L'entrée de liste de révocation 1EdTech n'a pas d'identifiant (l'URL de la "
                "liste).",
            )
        if credential_id is None:
            raise _EntryFailure(
                CheckStatus.INCONCLUSIVE,
                None,
                "The credential has no id, so it cannot be looked up in its revocation list.",
                "Le titre n'a pas d'identifiant : il ne peut pas être cherché dans sa liste de "
                "révocation.",
            )
        try:
            fetched = await self._fetcher.fetch(entry.list_url)
        except Exception as exc:
            raise _EntryFailure(
                CheckStatus.INCONCLUSIVE,
                StatusRetrievalError.problem_type,
                f"The revocation list could not be retrieved ({type(exc).__name__}); the status "
                "is unknown.",
                f"La liste de révocation n'a pas pu être obtenue ({type(exc).__name__}); le "
                "statut est inconnu.",
            ) from exc
        parsed = await self._revocation_list(fetched, entry, issuer, now)
        base = {"purpose": "revocation", "list_url": entry.list_url, "index": 0}
        if credential_id in parsed.revoked:
            reason = parsed.revoked[credential_id]
            shown = f" ({reason})" if reason else ""
            return StatusEntryResult(
                **base,
                outcome=CheckStatus.FAILED,
                status=1,
                problem_type=CREDENTIAL_REVOKED,
                reason_en=f"The credential has been revoked: it is on its issuer's revocation "
                f"list{shown}.",
                reason_fr=f"Le titre a été révoqué : il figure sur la liste de révocation de son "
                f"émetteur{shown}.",
                message=reason,
            )
        return StatusEntryResult(
            **base,
            outcome=CheckStatus.PASSED,
            status=0,
            reason_en="Not on its issuer's revocation list.",
            reason_fr="Absent de la liste de révocation de son émetteur.",
        )

    async def _revocation_list(
        self,
        fetched: Mapping[str, Any] | str,
        entry: StatusEntry,
        issuer: str | None,
        now: datetime,
    ) -> RevocationList:
        """Verify (when signed) and parse a fetched list; the last few parsings are reused."""
        held = self._revocation_lists.get(entry.list_url)
        document: Mapping[str, Any]
        if held is not None and held[0] is fetched:
            # The same (cached) object as last time: its proof was verified then.
            document, parsed = held
        else:
            if is_signed(fetched):
                document = await self._signed_list_payload(fetched, issuer)
            elif isinstance(fetched, Mapping):
                document = fetched
            else:  # pragma: no cover - a string is always "signed" (a VC-JWT)
                raise TypeError("unreachable")
            try:
                parsed = read_revocation_list(document)
            except StatusListError as exc:
                raise _EntryFailure(
                    CheckStatus.FAILED,
                    StatusVerificationError.problem_type,
                    f"The revocation list cannot be read: {exc.message}.",
                    "La liste de révocation est illisible.",
                ) from exc
            if isinstance(fetched, Mapping):
                if len(self._revocation_lists) >= _DECODINGS:
                    self._revocation_lists.clear()
                self._revocation_lists[entry.list_url] = (fetched, parsed)
        bad = StatusVerificationError.problem_type
        if parsed.list_id is not None and parsed.list_id != entry.list_url:
            raise _EntryFailure(
                CheckStatus.FAILED,
                bad,
                f"The revocation list served at {entry.list_url} says it is {parsed.list_id}.",
                f"La liste de révocation servie à {entry.list_url} dit être {parsed.list_id}.",
            )
        if issuer is None or parsed.issuer is None or did_of(parsed.issuer) != did_of(issuer):
            raise _EntryFailure(
                CheckStatus.FAILED,
                bad,
                "The revocation list was not issued by the credential's issuer.",
                "La liste de révocation n'a pas été émise par l'émetteur du titre.",
            )
        _check_window(document, now, "revocation list", "liste de révocation")
        return parsed

    async def _proof_of(
        self, fetched: Mapping[str, Any] | str, what_en: str, what_fr: str
    ) -> ProofOutcome:
        """Verify a fetched list's proof (a failure is raised, named ``what`` in both languages).

        A dict is passed as it is (verifiers never modify documents), so a verifier that
        memoises by identity recognises a cached list served again.
        """
        verifier = self._proof_verifier
        if verifier is None:
            from sceau_credentials.engine import verify_proof

            verifier = verify_proof
        bad = StatusVerificationError.problem_type
        try:
            payload = fetched if isinstance(fetched, str | dict) else dict(fetched)
            proof = await verifier(payload, self._resolver)
        except Exception as exc:  # a crashing verifier must not crash verification
            raise _EntryFailure(
                CheckStatus.FAILED,
                bad,
                f"The {what_en}'s proof could not be checked ({type(exc).__name__}).",
                f"La preuve de la {what_fr} n'a pas pu être vérifiée ({type(exc).__name__}).",
            ) from exc
        if not proof.verified:
            raise _EntryFailure(
                CheckStatus.FAILED,
                bad,
                f"The {what_en}'s proof is not valid: {proof.reason or 'no reason given'}.",
                f"La preuve de la {what_fr} n'est pas valide.",
            )
        return proof

    async def _signed_list_payload(
        self, fetched: Mapping[str, Any] | str, issuer: str | None
    ) -> Mapping[str, Any]:
        """Verify a signed revocation list's proof; return its payload (signer = issuer)."""
        bad = StatusVerificationError.problem_type
        proof = await self._proof_of(fetched, "revocation list", "liste de révocation")
        document = proof.credential if isinstance(fetched, str) else fetched
        signer = did_of(proof.issuer)
        if not isinstance(document, Mapping) or (
            signer is not None and issuer is not None and signer != did_of(issuer)
        ):
            raise _EntryFailure(
                CheckStatus.FAILED,
                bad,
                "The revocation list was not signed by the credential's issuer.",
                "La liste de révocation n'a pas été signée par l'émetteur du titre.",
            )
        return document
