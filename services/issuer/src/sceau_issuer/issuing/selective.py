"""``ecdsa-sd-2023`` base proofs at issuance, for institutions that choose selective disclosure.

An institution with a P-256 key (did:web) that turns ``selective_disclosure`` on gets, for each
``ob3-v2`` credential signed from then on, a second copy of the same credential (same ``id``,
same content) secured with an ``ecdsa-sd-2023`` *base proof* made with its P-256 key, stored
beside the ``eddsa-rdfc-2022`` document (``sd_document``, never listed by the institution API).
The credential everyone receives is unchanged. When the learner shares it hiding their result or
evidence, the share serves a disclosure *derived* from that base copy (:func:`disclose`): the
original credential, its original ``id`` and the institution's signature, minus the withheld
fields — nothing is signed again. Without a base copy (credentials issued before, other
profiles, did:key institutions) the share keeps the issuer-signed derived copy
(``learners/derived.py``).

Every disclosure must show what a verifier needs to judge the credential: its id, type, issuer,
dates, status entries and the achievement with the recipient's identity. Those are the
*mandatory pointers* signed together by the institution's key; a holder can hide only the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.proofs.ecdsa_sd import add_base_proof, derive
from sceau_credentials.proofs.sd_primitives import pointers_except

#: Always disclosed (when the credential has them): a holder cannot leave these out.
MANDATORY: Final = (
    "/id",
    "/type",
    "/issuer",
    "/name",
    "/validFrom",
    "/validUntil",
    "/credentialStatus",
    "/credentialSubject/type",
    "/credentialSubject/id",
    "/credentialSubject/identifier",
    "/credentialSubject/achievement",
)

#: Where the fields a learner may withhold sit (``learners.derived.HIDEABLE``).
WITHHELD_AT: Final = {"result": "/credentialSubject/result", "evidence": "/evidence"}


def _present(document: Mapping[str, Any], pointer: str) -> bool:
    value: Any = document
    for token in pointer.lstrip("/").split("/"):
        if not isinstance(value, Mapping) or token not in value:
            return False
        value = value[token]
    return True


def mandatory_pointers(document: Mapping[str, Any]) -> list[str]:
    """The :data:`MANDATORY` pointers that name something in ``document``."""
    return [pointer for pointer in MANDATORY if _present(document, pointer)]


def base_proof_copy(signed: Mapping[str, Any], key: P256SigningKey) -> dict[str, Any]:
    """The signed credential's content under an ``ecdsa-sd-2023`` base proof instead."""
    content = {name: value for name, value in signed.items() if name != "proof"}
    return add_base_proof(
        content, key, as_array=True, mandatory_pointers=mandatory_pointers(content)
    )


def disclose(base: Mapping[str, Any], withheld: Sequence[str]) -> dict[str, Any]:
    """Derive the disclosure of ``base`` without the ``withheld`` fields (names of HIDEABLE)."""
    content = {name: value for name, value in base.items() if name != "proof"}
    hidden = [WITHHELD_AT[name] for name in withheld if _present(content, WITHHELD_AT[name])]
    return derive(base, pointers_except(content, hidden))
