"""The operator API is guarded before routing: 401 problem+json, "disabled" with no token set.

The shared middleware answers before the route (and before the lifespan's graph is needed), so
these run without Kafka or MongoDB.
"""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from sceau_notifier.api import OPERATOR_PREFIXES
from sceau_notifier.app import create_api
from sceau_notifier.settings import NotifierSettings

ROUTES = [
    ("GET", "/v1/institutions/cegep-test/webhooks"),
    ("POST", "/v1/institutions/cegep-test/webhooks"),
    ("GET", "/v1/deliveries"),
    ("POST", "/v1/deliveries/abc/replay"),
    ("GET", "/v1/emails"),
    ("POST", "/v1/emails/abc/replay"),
]


async def call(settings: NotifierSettings, method: str, path: str, **kw: object) -> httpx.Response:
    app = create_api(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        return await client.request(method, path, **kw)  # type: ignore[arg-type]


def test_every_route_is_under_an_operator_prefix() -> None:
    paths = set(create_api(NotifierSettings()).openapi()["paths"])
    operator_paths = {p for p in paths if p not in {"/healthz", "/readyz", "/asyncapi.json"}}
    assert operator_paths == {
        "/v1/institutions/{institution_id}/webhooks",
        "/v1/institutions/{institution_id}/webhooks/{endpoint_id}",
        "/v1/deliveries",
        "/v1/deliveries/{delivery_id}",
        "/v1/deliveries/{delivery_id}/replay",
        "/v1/emails",
        "/v1/emails/{email_id}/replay",
    }
    assert all(any(p.startswith(prefix) for prefix in OPERATOR_PREFIXES) for p in operator_paths)


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_without_a_configured_token_the_operator_api_is_disabled(
    method: str, path: str
) -> None:
    resp = await call(
        NotifierSettings(operator_token=None),
        method,
        path,
        headers={"authorization": "Bearer anything"},
    )
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "disabled" in resp.json()["detail"]
    assert "NOTIFIER_OPERATOR_TOKEN" in resp.json()["detail"]


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic b3A6b3A="])
async def test_a_missing_or_wrong_token_is_refused_before_the_body_is_read(
    header: str | None,
) -> None:
    headers = {} if header is None else {"authorization": header}
    resp = await call(
        NotifierSettings(operator_token=SecretStr("the-operator-token")),
        "POST",
        "/v1/institutions/cegep-test/webhooks",
        headers=headers,
        content=b"{not json",
    )
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.headers["www-authenticate"].startswith("Bearer")
