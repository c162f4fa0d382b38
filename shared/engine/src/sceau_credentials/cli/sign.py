"""``sceau credential sign``: check an Open Badges 3.0 credential, then sign it in a profile."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from sceau_credentials.cli.common import (
    EXIT_OK,
    EXIT_UNUSABLE,
    UnusableInputError,
    error,
    load_document,
    print_json,
)
from sceau_credentials.keys import InvalidKeyError, read_key_file

__all__ = ["add_sign_parser"]

_VCDM_1_CONTEXT = "https://www.w3.org/2018/credentials/v1"


async def _run_sign(args: argparse.Namespace) -> dict[str, Any] | str:
    from sceau_credentials.engine import Profile, sign_credential
    from sceau_credentials.ob3.validation import (
        CredentialValidationError,
        validate_for_signing,
    )
    from sceau_credentials.proofs.errors import ProofError

    try:
        key = read_key_file(Path(args.key))
    except InvalidKeyError as exc:
        raise UnusableInputError(str(exc)) from exc
    document = load_document(args.file)
    if not isinstance(document, dict):
        raise UnusableInputError(
            f"{args.file!r} is already a JWT; sign an unsigned JSON credential"
        )
    if "proof" in document:
        raise UnusableInputError(f"{args.file!r} already has a proof; refusing to sign it again")
    _complete(document, key.controller, args.profile)
    try:
        # Strict unless asked by name: several status entries fail 1EdTech's OB 3.0 schema.
        validate_for_signing(document, allow_status_array=args.allow_status_array)
    except CredentialValidationError as exc:
        raise UnusableInputError(str(exc)) from exc
    try:
        return await sign_credential(document, key, Profile(args.profile))
    except ProofError as exc:
        raise UnusableInputError(f"cannot sign: {exc.reason}") from exc


def _complete(document: dict[str, Any], did: str, profile: str) -> None:
    """Fill in what the key and the profile decide, so a hand-written credential signs as is.

    The issuer is the key's DID when the document names none (or gives an issuer object without
    an ``id``); an ``ob3-v1`` credential gets the Ed25519Signature2020 suite context its proof
    needs (the builder adds it too). A VC Data Model 2.0 document cannot become ``ob3-v1``.

    Raises:
        UnusableInputError: the document's data model does not fit the profile.
    """
    from sceau_credentials.ob3.constants import ED25519_2020_CONTEXT

    issuer = document.get("issuer")
    if issuer is None:
        document["issuer"] = did
    elif isinstance(issuer, dict) and "id" not in issuer:
        document["issuer"] = {"id": did, **issuer}
    if profile != "ob3-v1":
        return
    contexts = document.get("@context")
    if not isinstance(contexts, list) or contexts[:1] != [_VCDM_1_CONTEXT]:
        raise UnusableInputError(
            f"--profile ob3-v1 signs a VC Data Model 1.1 credential: its @context must start "
            f"with {_VCDM_1_CONTEXT} (use the default ob3-v2 for a VC Data Model 2.0 one)"
        )
    if ED25519_2020_CONTEXT not in contexts:
        document["@context"] = [*contexts, ED25519_2020_CONTEXT]


def _credential_sign(args: argparse.Namespace) -> int:
    try:
        secured = asyncio.run(_run_sign(args))
    except UnusableInputError as exc:
        error(str(exc))
        return EXIT_UNUSABLE
    if isinstance(secured, str):
        sys.stdout.write(secured + "\n")
    else:
        print_json(secured)
    return EXIT_OK


def add_sign_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sign`` to the ``sceau credential`` commands."""
    sign = commands.add_parser(
        "sign",
        help="sign an unsigned Open Badges 3.0 credential and print it",
        description=(
            "Check the credential against the Open Badges 3.0 requirements, then sign it with "
            "the key file's key. Without an issuer (or an issuer id) the key's DID is used; "
            "--profile ob3-v1 adds the Ed25519Signature2020 context when missing. Exit 0 "
            "signed, 2 refused (the reason is printed)."
        ),
    )
    sign.add_argument("file", metavar="FILE", help="unsigned credential (JSON); - for stdin")
    sign.add_argument("--key", required=True, metavar="KEYFILE", help="key file (sceau did create)")
    sign.add_argument(
        "--profile",
        default="ob3-v2",
        choices=["ob3-v2", "ob3-v1", "jwt"],
        help="ob3-v2: VCDM 2.0 + eddsa-rdfc-2022 (default); ob3-v1: VCDM 1.1 + "
        "Ed25519Signature2020; jwt: VC-JWT (a VCDM 2.0 file: VC-JOSE-COSE, the payload is the "
        "credential; a VCDM 1.1 file: a vc claim)",
    )
    sign.add_argument(
        "--allow-status-array",
        action="store_true",
        help="ob3-v2 only: accept several credentialStatus entries (e.g. revocation and "
        "suspension), each still checked against the schema's CredentialStatus; 1EdTech's Open "
        "Badges 3.0 JSON Schema allows one entry, so the signed credential does not pass it",
    )
    sign.set_defaults(func=_credential_sign)
