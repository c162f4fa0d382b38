"""LinkedIn "Add to profile" link for a certification (a plain link: no LinkedIn script, no API).

Parameters, as documented by LinkedIn's Add to Profile for certifications: ``startTask`` fixed to
``CERTIFICATION_NAME``; ``name``; exactly one of ``organizationId`` (a LinkedIn page id) or
``organizationName``; ``issueYear``/``issueMonth`` (month 1-12); ``expirationYear``/
``expirationMonth``; ``certUrl`` (where the credential can be checked); ``certId``. Empty fields are
left out: LinkedIn would otherwise prefill the form with an empty string.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def add_to_profile_url(
    *,
    name: str,
    organization_name: str,
    issued_at: datetime,
    cert_url: str | None,
    cert_id: str | None,
    expires_at: datetime | None = None,
    organization_id: str | None = None,
) -> str:
    """Build the link; the learner's own name or e-mail never goes into it."""
    params: list[tuple[str, str]] = [("startTask", "CERTIFICATION_NAME"), ("name", name)]
    if organization_id:
        params.append(("organizationId", organization_id))
    else:
        params.append(("organizationName", organization_name))
    params += [("issueYear", str(issued_at.year)), ("issueMonth", str(issued_at.month))]
    if expires_at is not None:
        params += [
            ("expirationYear", str(expires_at.year)),
            ("expirationMonth", str(expires_at.month)),
        ]
    if cert_url:
        params.append(("certUrl", cert_url))
    if cert_id:
        params.append(("certId", cert_id))
    return f"{ADD_TO_PROFILE}?{urlencode([(k, v) for k, v in params if v])}"
