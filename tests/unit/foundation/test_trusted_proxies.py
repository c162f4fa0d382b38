"""The rate limits' client address cannot be chosen by the client (issue 18).

Uvicorn ran with ``proxy_headers=True`` and the Kubernetes base trusted every peer
(``FORWARDED_ALLOW_IPS=*``): uvicorn then takes the *left-most* ``X-Forwarded-For`` entry, which
the client writes itself (the ingress only appends the address it saw). A client could claim a
new address per request and never meet a rate limit. Forwarded headers are now believed only
from the configured proxies (none by default), and uvicorn then takes the first address a
trusted proxy saw.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sceau_shared.settings import HttpSettings


async def _client_seen(http: HttpSettings, peer: str, forwarded: str) -> str:
    """The client address the app sees behind uvicorn configured from ``http``."""
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])

    options = http.proxy_options()
    served: Any = app
    if options["proxy_headers"]:  # what uvicorn.Config does with these options
        served = ProxyHeadersMiddleware(app, trusted_hosts=options["forwarded_allow_ips"])
    scope = {
        "type": "http",
        "client": (peer, 40000),
        "headers": [(b"x-forwarded-for", forwarded.encode())],
        "scheme": "http",
    }
    await served(scope, None, None)
    return seen[0]


async def test_by_default_forwarded_headers_are_ignored() -> None:
    assert HttpSettings().proxy_options() == {"proxy_headers": False}
    assert await _client_seen(HttpSettings(), "198.51.100.7", "1.2.3.4") == "198.51.100.7"


async def test_behind_a_trusted_proxy_the_client_cannot_pick_its_address() -> None:
    http = HttpSettings(trusted_proxies="10.0.0.0/8, 192.168.1.1")
    # The client wrote 1.2.3.4; the ingress (10.1.2.3) appended the address it saw.
    seen = await _client_seen(http, "10.1.2.3", "1.2.3.4, 203.0.113.9")
    assert seen == "203.0.113.9"
    # A peer that is not a trusted proxy is the client, whatever it claims.
    assert await _client_seen(http, "198.51.100.7", "1.2.3.4") == "198.51.100.7"


@pytest.mark.parametrize("bad", ["*", "ingress", "10.0.0.0/33"])
def test_trusting_everyone_or_names_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        HttpSettings(trusted_proxies=bad)


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from sceau_verifier.settings import VerifierSettings

    monkeypatch.setenv("VERIFIER_HTTP__TRUSTED_PROXIES", "10.0.0.0/8,fd00::/8")
    settings = VerifierSettings(_env_file=None)
    assert settings.http.trusted_proxies == ("10.0.0.0/8", "fd00::/8")
    assert settings.http.port == 8003  # the service's own default is kept
