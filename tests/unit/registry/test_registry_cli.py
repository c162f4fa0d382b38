"""``sceau registry …`` calls the operator API with the token and reports problems."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sceau_shared.cli.main import build_parser


def run(argv: list[str], handler: Any) -> int:
    args = build_parser().parse_args(["registry", *argv])
    args.transport = httpx.MockTransport(handler)
    return int(args.func(args))


def test_register_sends_the_body_token_and_actor(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"institution_id": "cegep-a", "status": "pending"})

    code = run(
        [
            "institution", "register", "--token", "secret-token", "--actor", "alice",
            "--url", "http://registry.test", "--id", "cegep-a", "--name-fr", "Cégep A",
            "--category", "public-college", "--jurisdiction", "CA-QC",
            "--did-method", "hosted-web",
        ],
        handler,
    )  # fmt: skip
    assert code == 0
    request = seen[0]
    assert request.url == "http://registry.test/v1/admin/institutions"
    assert request.headers["authorization"] == "Bearer secret-token"
    assert request.headers["x-sceau-actor"] == "alice"
    body = json.loads(request.content)
    assert body["legal_name"] == {"fr": "Cégep A", "en": ""}
    assert body["did_method"] == "hosted-web"
    assert json.loads(capsys.readouterr().out)["status"] == "pending"


@pytest.mark.parametrize(
    ("argv", "method", "path", "body"),
    [
        (["institution", "activate", "x1", "--reason", "ok"], "POST",
         "/v1/admin/institutions/x1/status", {"status": "active", "reason": "ok"}),
        (["institution", "suspend", "x1", "--reason", "audit"], "POST",
         "/v1/admin/institutions/x1/status", {"status": "suspended", "reason": "audit"}),
        (["institution", "retire", "x1", "--reason", "closed"], "POST",
         "/v1/admin/institutions/x1/status", {"status": "former", "reason": "closed"}),
        (["accredit", "x1", "--type", "Certificate", "--type", "Badge",
          "--from", "2025-01-01T00:00:00Z", "--reason", "approved"], "POST",
         "/v1/admin/institutions/x1/scopes",
         {"achievement_types": ["Certificate", "Badge"], "levels": [], "role": "issuer",
          "valid_from": "2025-01-01T00:00:00Z", "reason": "approved"}),
        (["institution", "list", "--status", "active"], "GET", "/v1/admin/institutions", None),
        (["audit", "--institution", "x1"], "GET", "/v1/admin/audit", None),
    ],
)  # fmt: skip
def test_commands_map_to_operator_endpoints(
    argv: list[str], method: str, path: str, body: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_OPERATOR_TOKEN", "env-token")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    assert run(argv, handler) == 0
    assert seen[0].method == method
    assert seen[0].url.path == path
    assert seen[0].headers["authorization"] == "Bearer env-token"
    if body is not None:
        assert json.loads(seen[0].content) == body


def test_problem_is_reported_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            409,
            json={"status": 409, "detail": "cannot go from former to active"},
            headers={"content-type": "application/problem+json"},
        )

    assert run(["institution", "activate", "x1", "--reason", "r", "--token", "t"], handler) == 1
    assert "cannot go from former to active" in capsys.readouterr().err


def test_missing_token_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REGISTRY_OPERATOR_TOKEN", raising=False)
    assert run(["audit"], lambda r: httpx.Response(200, json={})) == 2
    assert "no operator token" in capsys.readouterr().err
