"""LinkedIn's "add to profile" link for a certification (a plain URL; nothing is sent)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def add_to_profile_url(
    *, name: str, organization: str, issued_at: datetime, cert_url: str, cert_id: str
) -> str:
    """The link that pre-fills a certification on the learner's LinkedIn profile."""
    query = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": organization,
        "issueYear": str(issued_at.year),
        "issueMonth": str(issued_at.month),
        "certUrl": cert_url,
        "certId": cert_id,
    }
    return f"{LINKEDIN_ADD}?{urlencode(query)}"
