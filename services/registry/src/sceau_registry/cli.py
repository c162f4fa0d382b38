"""``sceau registry …``: governance from the command line, through the registry's operator API.

The CLI never touches the database: it calls ``/v1/admin/...`` with the operator token, so every
action goes through the same rules and lands in the same audit log as an HTTP client's would.

Token: ``--token`` or ``REGISTRY_OPERATOR_TOKEN``; URL: ``--url`` or ``SCEAU_REGISTRY_URL``
(default ``http://127.0.0.1:8002``); actor recorded in the audit log: ``--actor`` or ``$USER``.
Exit codes: 0 done, 1 refused by the registry (problem printed on stderr), 2 unusable invocation
or registry unreachable.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

import httpx

from sceau_registry.institutions.models import CATEGORIES, Role
from sceau_shared.events import DidMethod, InstitutionStatus

DEFAULT_URL = "http://127.0.0.1:8002"
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

_STATUS_COMMANDS = {
    "activate": InstitutionStatus.ACTIVE,
    "reinstate": InstitutionStatus.ACTIVE,
    "suspend": InstitutionStatus.SUSPENDED,
    "retire": InstitutionStatus.FORMER,
}


class _UsageError(Exception):
    """The invocation cannot work (missing token, ...)."""


def _client(args: argparse.Namespace) -> httpx.Client:
    token = args.token or os.environ.get("REGISTRY_OPERATOR_TOKEN", "")
    if not token:
        raise _UsageError("no operator token (--token or REGISTRY_OPERATOR_TOKEN)")
    url = args.url or os.environ.get("SCEAU_REGISTRY_URL", DEFAULT_URL)
    actor = args.actor or os.environ.get("USER") or getpass.getuser() or "operator"
    return httpx.Client(
        base_url=url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}", "X-Sceau-Actor": actor},
        timeout=30.0,
        transport=getattr(args, "transport", None),
    )


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> int:
    try:
        with _client(args) as client:
            response = client.request(method, path, **kwargs)
    except _UsageError as exc:
        print(f"sceau registry: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    except httpx.HTTPError as exc:
        print(f"sceau registry: cannot reach the registry: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if response.is_success:
        print(json.dumps(body, indent=2, ensure_ascii=False))  # noqa: T201 - CLI output
        return EXIT_OK
    detail = body.get("detail") if isinstance(body, dict) else body
    print(f"sceau registry: HTTP {response.status_code}: {detail}", file=sys.stderr)  # noqa: T201
    if isinstance(body, dict) and body.get("errors"):
        print(json.dumps(body["errors"], indent=2), file=sys.stderr)  # noqa: T201
    return EXIT_REFUSED


def _register(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "legal_name": {"fr": args.name_fr or "", "en": args.name_en or ""},
        "category": args.category,
        "jurisdiction": args.jurisdiction,
        "did_method": args.did_method,
        "reason": args.reason,
    }
    for field, value in (
        ("institution_id", args.id),
        ("domain", args.domain),
        ("qa_body", args.qa_body),
        ("contact_email", args.contact),
    ):
        if value:
            body[field] = value
    if args.languages:
        body["languages"] = [v.strip() for v in args.languages.split(",") if v.strip()]
    return _call(args, "POST", "/v1/admin/institutions", json=body)


def _status(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"status": _STATUS_COMMANDS[args.action].value, "reason": args.reason}
    if args.effective_at:
        body["effective_at"] = args.effective_at
    return _call(args, "POST", f"/v1/admin/institutions/{args.institution_id}/status", json=body)


def _list(args: argparse.Namespace) -> int:
    params = {
        k: v
        for k, v in {
            "status": args.status,
            "category": args.category,
            "q": args.q,
            "page": args.page,
            "page_size": args.page_size,
        }.items()
        if v is not None
    }
    return _call(args, "GET", "/v1/admin/institutions", params=params)


def _show(args: argparse.Namespace) -> int:
    return _call(args, "GET", f"/v1/admin/institutions/{args.institution_id}")


def _accredit(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "achievement_types": args.type,
        "levels": args.level or [],
        "role": args.role,
        "valid_from": args.valid_from,
        "reason": args.reason,
    }
    if args.valid_until:
        body["valid_until"] = args.valid_until
    if args.accreditor:
        body["accreditor"] = args.accreditor
    return _call(args, "POST", f"/v1/admin/institutions/{args.institution_id}/scopes", json=body)


def _withdraw(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"reason": args.reason}
    if args.effective_at:
        body["effective_at"] = args.effective_at
    path = f"/v1/admin/institutions/{args.institution_id}/scopes/{args.scope_id}/withdraw"
    return _call(args, "POST", path, json=body)


def _audit(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"page": args.page, "page_size": args.page_size}
    if args.institution:
        params["institution_id"] = args.institution
    return _call(args, "GET", "/v1/admin/audit", params=params)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help=f"registry base URL (default {DEFAULT_URL})")
    parser.add_argument("--token", help="operator token (default $REGISTRY_OPERATOR_TOKEN)")
    parser.add_argument("--actor", help="name recorded in the audit log (default $USER)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``registry`` command group to the ``sceau`` dispatcher."""
    registry = subparsers.add_parser("registry", help="govern the trusted-issuer registry")
    groups = registry.add_subparsers(dest="registry_command", metavar="COMMAND")
    groups.required = True

    institution = groups.add_parser("institution", help="register and manage institutions")
    actions = institution.add_subparsers(dest="institution_command", metavar="ACTION")
    actions.required = True

    reg = actions.add_parser("register", help="register an institution (starts pending)")
    _common(reg)
    reg.add_argument("--id", help="stable slug (generated when omitted)")
    reg.add_argument("--name-fr", help="legal name in French")
    reg.add_argument("--name-en", help="legal name in English")
    reg.add_argument("--category", required=True, choices=CATEGORIES)
    reg.add_argument("--jurisdiction", required=True, help="e.g. CA-QC")
    reg.add_argument("--domain", help="the institution's web domain")
    reg.add_argument("--qa-body", help="quality-assurance or approval body")
    reg.add_argument("--contact", help="institution contact e-mail")
    reg.add_argument(
        "--languages", help="languages it publishes in, comma-separated (default fr,en)"
    )
    reg.add_argument(
        "--did-method", default=DidMethod.KEY.value, choices=[m.value for m in DidMethod]
    )
    reg.add_argument("--reason", default="registered")
    reg.set_defaults(func=_register)

    for action, status in _STATUS_COMMANDS.items():
        step = actions.add_parser(action, help=f"set the status to {status.value}")
        _common(step)
        step.add_argument("institution_id")
        step.add_argument("--reason", required=True, help="why (recorded in the audit log)")
        step.add_argument("--effective-at", help="RFC 3339 date it takes effect (default now)")
        step.set_defaults(func=_status, action=action)

    listing = actions.add_parser("list", help="list institutions")
    _common(listing)
    listing.add_argument("--status", choices=[s.value for s in InstitutionStatus])
    listing.add_argument("--category", choices=CATEGORIES)
    listing.add_argument("--q", help="search in names and ids")
    listing.add_argument("--page", type=int)
    listing.add_argument("--page-size", type=int)
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="show one institution with its history")
    _common(show)
    show.add_argument("institution_id")
    show.set_defaults(func=_show)

    accredit = groups.add_parser("accredit", help="grant an accreditation scope")
    _common(accredit)
    accredit.add_argument("institution_id")
    accredit.add_argument("--type", action="append", required=True, help="achievement type")
    accredit.add_argument("--level", action="append", help="level (repeatable)")
    accredit.add_argument("--role", default=Role.ISSUER.value, choices=[r.value for r in Role])
    accredit.add_argument("--from", dest="valid_from", required=True, help="RFC 3339 start")
    accredit.add_argument("--until", dest="valid_until", help="RFC 3339 end (exclusive)")
    accredit.add_argument("--accreditor", help="accrediting or approving body")
    accredit.add_argument("--reason", required=True)
    accredit.set_defaults(func=_accredit)

    withdraw = groups.add_parser("withdraw", help="withdraw an accreditation scope")
    _common(withdraw)
    withdraw.add_argument("institution_id")
    withdraw.add_argument("scope_id")
    withdraw.add_argument("--reason", required=True)
    withdraw.add_argument("--effective-at", help="RFC 3339 date it ends (default now)")
    withdraw.set_defaults(func=_withdraw)

    audit = groups.add_parser("audit", help="read the append-only audit log")
    _common(audit)
    audit.add_argument("--institution", help="only this institution")
    audit.add_argument("--page", type=int, default=1)
    audit.add_argument("--page-size", type=int, default=100)
    audit.set_defaults(func=_audit)
