"""The notifier's HTTP API: operator routes only (webhook endpoints, delivery and e-mail logs).

Every route lives under one of :data:`OPERATOR_PREFIXES`, which the shared operator middleware
guards with ``Authorization: Bearer <NOTIFIER_OPERATOR_TOKEN>`` before routing and body parsing;
with no token configured those routes answer 401 rather than run open.
"""

from __future__ import annotations

from fastapi import APIRouter

from sceau_notifier.api import email_log, webhook_deliveries, webhook_endpoints

__all__ = ["OPERATOR_PREFIXES", "ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    webhook_endpoints.router,
    webhook_deliveries.router,
    email_log.router,
)

OPERATOR_PREFIXES: tuple[str, ...] = tuple(router.prefix for router in ROUTERS)
