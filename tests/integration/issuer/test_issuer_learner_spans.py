"""Learner, share, claim-link and wallet-offer tokens never reach the trace store: SERVER spans
carry the route only."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from issuer_support import IssuerHarness
from learner_support import issued_with_page, share_token, share_urls
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from wallet_support import local, make_offer

from sceau_issuer.app import create_api
from sceau_issuer.settings import IssuerSettings
from sceau_shared.telemetry import Telemetry

pytestmark = pytest.mark.integration


async def test_server_spans_name_the_route_not_the_token(settings: IssuerSettings) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_api(settings, telemetry=Telemetry(provider, MeterProvider()))
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://issuer.test") as http:
            harness = IssuerHarness(app, http, settings)
            _, detail, path = await issued_with_page(harness, "spans@example.org")
            token = path.rsplit("/", 1)[1]
            # Issue 18: the claim link's token was in the SERVER span's path attributes.
            claim_path = urlsplit(detail["claim_url"]).path
            claim_token = claim_path.rsplit("/", 1)[1]
            claimed = await http.get(claim_path)
            assert claimed.status_code == 200
            assert claimed.headers["cache-control"] == "no-store"
            await http.post(f"{path}/accept")
            await http.post(f"{path}/shares", data={"label": "Employeur"})
            [url] = share_urls((await http.get(path)).text)
            assert (await http.get(f"/v1/shares/{share_token(url)}")).status_code == 200
            _, offer_uri, _ = await make_offer(harness, path, tx=False)
            offer_id = offer_uri.rsplit("/", 1)[1]
            assert (await http.get(local(offer_uri))).status_code == 200
    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    private = [s for s in servers if "/learn" in s.name or "/v1/shares" in s.name]
    assert {s.name for s in private} >= {
        "GET /learn/{token}",
        "POST /learn/{token}/accept",
        "POST /learn/{token}/shares",
        "GET /v1/shares/{token}",
    }
    assert "GET /v1/claim/{token}" in {s.name for s in servers}
    offer_spans = [s for s in servers if "/offers/" in s.name]
    assert [s.name for s in offer_spans] == ["GET /oid4vci/{institution_id}/offers/{offer_id}"]
    page = next(s for s in private if s.name == "GET /learn/{token}")
    attributes = dict(page.attributes or {})
    assert "/learn/{token}" in {attributes.get("http.target"), attributes.get("url.path")}
    for span in exporter.get_finished_spans():
        for value in (span.attributes or {}).values():
            assert token not in str(value), (span.name, value)
            assert claim_token not in str(value), (span.name, value)
            assert share_token(url) not in str(value), (span.name, value)
            assert offer_id not in str(value), (span.name, value)
