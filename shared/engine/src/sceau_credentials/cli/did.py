"""``sceau did create``: an Ed25519 key, its DID (did:key or did:web) and the DID document."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sceau_credentials.cli.common import EXIT_OK, EXIT_UNUSABLE, error, print_json
from sceau_credentials.dids import (
    DidResolutionError,
    KeyState,
    PublishedKey,
    did_key_document,
    did_web_to_url,
    institution_did_document,
    url_to_did_web,
)
from sceau_credentials.keys import SigningKey, write_key_file

__all__ = ["register_did"]


def _did_create(args: argparse.Namespace) -> int:
    fragment: str = args.fragment
    if args.web:
        try:
            did = url_to_did_web(args.web)
            key = SigningKey.generate(did, fragment)
            document = institution_did_document(
                did, [PublishedKey(fragment, key.public_key_multibase, KeyState.ACTIVE)]
            )
        except (ValueError, DidResolutionError) as exc:
            error(f"invalid --web {args.web!r}: {exc}")
            return EXIT_UNUSABLE
    else:
        key = SigningKey.generate()
        document = did_key_document(key.controller)
    summary: dict[str, Any] = {
        "did": key.controller,
        "verificationMethod": key.verification_method,
        "publicKeyMultibase": key.public_key_multibase,
        "didDocument": document,
    }
    if args.web:
        summary["didDocumentUrl"] = did_web_to_url(key.controller, allow_local=True)
    if args.out is None:
        # No file: the key file goes to stdout so it can be piped into a secret store.
        print_json({**key.to_key_file(), "didDocument": document})
        return EXIT_OK
    try:
        write_key_file(key, Path(args.out))
    except FileExistsError:
        error(f"{args.out!r} already exists; refusing to overwrite a key file")
        return EXIT_UNUSABLE
    except OSError as exc:
        error(f"cannot write {args.out!r}: {exc.strerror or exc}")
        return EXIT_UNUSABLE
    summary["keyFile"] = str(args.out)
    print_json(summary)
    return EXIT_OK


def register_did(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sceau did …``."""
    parser = subparsers.add_parser("did", help="create DIDs and signing keys")
    commands = parser.add_subparsers(dest="did_command", metavar="COMMAND")
    commands.required = True
    create = commands.add_parser(
        "create",
        help="create an Ed25519 key and its DID (did:key, or did:web with --web)",
        description=(
            "Create an Ed25519 signing key. Without --web the DID is the key's did:key; with "
            "--web DOMAIN[/path] it is did:web and the DID document to publish is printed. "
            "The key file (--out, mode 0600) holds the secret key: keep it safe."
        ),
    )
    create.add_argument(
        "--out", metavar="KEYFILE", help="write the key file here (never overwrites)"
    )
    create.add_argument(
        "--web",
        metavar="DOMAIN",
        help="create did:web for DOMAIN (e.g. badges.example.edu, example.edu:8443/issuers/a)",
    )
    create.add_argument(
        "--fragment", default="key-1", help="verification method fragment for did:web (key-1)"
    )
    create.set_defaults(func=_did_create)
