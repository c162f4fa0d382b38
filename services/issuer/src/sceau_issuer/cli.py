"""``sceau issuer …``: operators' commands (API keys, key rotation), against the issuer database.

Settings come from the same ``ISSUER_*`` environment as the service, so the command talks to the
database the running service uses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sceau_issuer.apikeys.repository import ApiKeyRepository
from sceau_issuer.apikeys.service import ApiKeyService, Scope
from sceau_issuer.settings import ENV_PREFIX, SERVICE_NAME, IssuerSettings
from sceau_issuer.status.repository import StatusListRepository
from sceau_issuer.tenants.repository import AccreditationRepository, TenantRepository
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import Vault
from sceau_shared.errors import ServiceError
from sceau_shared.mongo import create_client, database
from sceau_shared.runner import StartupError, load_settings
from sceau_shared.settings import decode_master_key

SubParsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _scopes(text: str) -> list[Scope]:
    try:
        return [Scope(s.strip()) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"scopes are a comma-separated subset of {', '.join(s.value for s in Scope)}"
        ) from exc


def _run(job: Callable[[IssuerSettings, Any], Awaitable[int]], args: argparse.Namespace) -> int:
    try:
        settings = load_settings(IssuerSettings, env_prefix=ENV_PREFIX)
    except StartupError as exc:
        print(f"sceau issuer: {exc}", file=sys.stderr)  # noqa: T201
        return 2

    async def main() -> int:
        client = create_client(settings.mongo, app_name=f"{SERVICE_NAME}-cli")
        try:
            return await job(settings, (database(client, settings.mongo), args))
        finally:
            await client.close()

    try:
        return asyncio.run(main())
    except ServiceError as exc:
        print(f"sceau issuer: {exc.detail}", file=sys.stderr)  # noqa: T201
        return 1


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, indent=2, default=str))  # noqa: T201
    else:
        for key, value in data.items():
            print(f"{key}: {value}")  # noqa: T201


async def _create(settings: IssuerSettings, ctx: Any) -> int:
    db, args = ctx
    vault = Vault(decode_master_key(settings.master_key))
    tenants = _tenants(settings, db)
    await tenants.get(args.institution)  # refuse keys for unknown institutions
    created = await ApiKeyService(ApiKeyRepository(db["api_keys"]), vault).create(
        args.institution, args.name, args.scopes
    )
    data = {
        "key_id": created.key_id,
        "institution_id": created.institution_id,
        "scopes": ",".join(created.scopes),
        "token": created.token,
    }
    _print(data, args.json)
    if not args.json:
        print("(the token is shown once; store it now)", file=sys.stderr)  # noqa: T201
    return 0


async def _list(settings: IssuerSettings, ctx: Any) -> int:
    db, args = ctx
    vault = Vault(decode_master_key(settings.master_key))
    keys = await ApiKeyService(ApiKeyRepository(db["api_keys"]), vault).all(args.institution)
    if args.json:
        print(json.dumps(keys, indent=2, default=str))  # noqa: T201
        return 0
    for key in keys:
        state = "revoked" if key.get("revoked_at") else "active"
        print(  # noqa: T201
            f"{key['key_id']}  {key['institution_id']}  {','.join(key['scopes'])}  "
            f"{state}  {key.get('name', '')}"
        )
    return 0


async def _revoke(settings: IssuerSettings, ctx: Any) -> int:
    db, args = ctx
    vault = Vault(decode_master_key(settings.master_key))
    await ApiKeyService(ApiKeyRepository(db["api_keys"]), vault).revoke(args.key_id)
    print(f"revoked {args.key_id}")  # noqa: T201
    return 0


def _tenants(settings: IssuerSettings, db: Any) -> TenantService:
    return TenantService(
        TenantRepository(db["institutions"]),
        Vault(decode_master_key(settings.master_key)),
        producer=SERVICE_NAME,
        registry_public_url=settings.registry_public_url,
        accreditations=AccreditationRepository(db["accreditations"]),
        # Key changes ask the running issuers to re-sign the status lists (issue 18, item 1).
        lists=StatusListRepository(db["status_lists"], registry_url=settings.registry_public_url),
    )


async def _rotate(settings: IssuerSettings, ctx: Any) -> int:
    db, args = ctx
    keys = await _tenants(settings, db).rotate_keys(args.institution, args.key_type)
    for key in keys:
        _print(key.public_view(), args.json)
    return 0


async def _revoke_key(settings: IssuerSettings, ctx: Any) -> int:
    db, args = ctx
    key = await _tenants(settings, db).revoke(args.institution, args.key_id, args.as_of)
    _print(key.public_view(), args.json)
    return 0


def _as_of(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected an RFC 3339 date-time") from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("the date-time needs a time zone (e.g. Z)")
    return moment


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sceau issuer`` with its ``api-key`` and ``key`` command groups."""
    issuer = subparsers.add_parser("issuer", help="issuer service administration")
    groups = issuer.add_subparsers(dest="issuer_command", metavar="GROUP")
    groups.required = True

    api_key = groups.add_parser("api-key", help="institution API keys")
    api_cmds = api_key.add_subparsers(dest="api_key_command", metavar="COMMAND")
    api_cmds.required = True
    create = api_cmds.add_parser("create", help="create a key (its token is printed once)")
    create.add_argument("--institution", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--scopes", type=_scopes, default=[Scope.ISSUE, Scope.REVOKE, Scope.READ])
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=lambda a: _run(_create, a))
    listing = api_cmds.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--institution")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=lambda a: _run(_list, a))
    revoke = api_cmds.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=lambda a: _run(_revoke, a))

    key = groups.add_parser("key", help="institution signing keys")
    key_cmds = key.add_subparsers(dest="key_command", metavar="COMMAND")
    key_cmds.required = True
    rotate = key_cmds.add_parser("rotate", help="make new signing keys active")
    rotate.add_argument("--institution", required=True)
    rotate.add_argument(
        "--key-type",
        choices=("all", "Ed25519", "P-256"),
        default="all",
        help="which keys to renew (default all: Ed25519 and, for did:web, P-256)",
    )
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(func=lambda a: _run(_rotate, a))
    revoke_key = key_cmds.add_parser("revoke", help="revoke a compromised key as of a date")
    revoke_key.add_argument("--institution", required=True)
    revoke_key.add_argument("--key-id", required=True)
    revoke_key.add_argument("--as-of", type=_as_of, required=True)
    revoke_key.add_argument("--json", action="store_true")
    revoke_key.set_defaults(func=lambda a: _run(_revoke_key, a))
