"""Events about learners' share links (issue: credentials that travel). No personal data.

The verifier serves share pages and announces each opening; the issuer, which owns the share and
the learner's contact details, counts it (access receipts on the learner's page) and, when the
learner opted in, asks the notifier to e-mail a receipt (a ``NotificationRequestedV1`` of kind
``share-opened``). Nothing about the viewer travels: no address, no user agent, no location.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from sceau_shared.events.envelope import Event


class ShareOpenedV1(Event):
    """A share link was opened (page or JSON) and answered 200."""

    TOPIC: ClassVar[str] = "verifier.share-opened.v1"
    KEY_FIELD: ClassVar[str] = "share_id"

    share_id: str = Field(description="The share's public id (never its token)")
    institution_id: str
    opened_at: AwareDatetime
    answer: Literal["verified", "not-verified", "inconclusive"]
