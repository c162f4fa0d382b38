"""``sceau issuer api-key create|list|revoke`` against the real issuer database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from issuer_support import IssuerHarness

from sceau_shared.cli.main import main as sceau

pytestmark = pytest.mark.integration


def _env(monkeypatch: pytest.MonkeyPatch, harness: IssuerHarness) -> None:
    settings = harness.settings
    monkeypatch.setenv("ISSUER_MASTER_KEY", settings.master_key.get_secret_value())
    monkeypatch.setenv("ISSUER_MONGO__URI", settings.mongo.uri.get_secret_value())
    monkeypatch.setenv("ISSUER_MONGO__DATABASE", settings.mongo.database)
    monkeypatch.setenv("ISSUER_REGISTRY_PUBLIC_URL", settings.registry_public_url)


async def test_api_key_commands(
    harness: IssuerHarness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    institution = await harness.tenant()
    _env(monkeypatch, harness)

    def run(*argv: str) -> tuple[int, str]:
        code = sceau(["issuer", *argv])
        return code, capsys.readouterr().out

    # The commands run their own event loop: call them from a worker thread.
    code, out = await asyncio.to_thread(
        run, "api-key", "create", "--institution", institution, "--scopes", "read", "--json"
    )
    assert code == 0
    created: dict[str, Any] = json.loads(out)
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert (await harness.http.get("/v1/credentials", headers=headers)).status_code == 200
    code, out = await asyncio.to_thread(run, "api-key", "list", "--institution", institution)
    assert code == 0
    assert created["key_id"] in out
    assert created["token"] not in out
    code, _ = await asyncio.to_thread(run, "api-key", "revoke", created["key_id"])
    assert code == 0
    assert (await harness.http.get("/v1/credentials", headers=headers)).status_code == 401
    code, _ = await asyncio.to_thread(
        run, "api-key", "create", "--institution", "nobody", "--scopes", "read"
    )
    assert code == 1
    code, out = await asyncio.to_thread(
        run, "key", "rotate", "--institution", institution, "--json"
    )
    assert code == 0
    assert json.loads(out)["key_id"] == "k2"
