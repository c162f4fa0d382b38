"""The story's state: the running stack and sinks, what it learns about the college, its figures."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sceau_demo.console import say
from sceau_demo.mail import CapturedMail, SmtpSink
from sceau_demo.webhooks import WebhookReceiver
from sceau_dev.testing.stack import StackConfig

#: Who the registry and the notifier record as having made the operator's changes (audit trail).
ACTOR = "demo-operator"


@dataclass
class College:
    """What the story learns about the college as it goes."""

    institution_id: str = ""
    api_key: str = ""
    did: str = ""
    verification_method: str = ""
    webhook_secret: str = ""
    module_ids: list[str] = field(default_factory=list)
    overall_id: str = ""
    series_id: str = ""

    @property
    def auth(self) -> dict[str, str]:
        """The college's API key header."""
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class Summary:
    """The figures the story reports (and the end-to-end tests check)."""

    institution_id: str = ""
    learners: int = 0
    issued: dict[str, int] = field(default_factory=dict)
    overall_expected: int = 0
    overall_issued: int = 0
    overall_seconds: float = 0.0
    credentials_written: int = 0
    conformance_checked: int = 0
    conformant: int = 0
    conformance_findings: dict[str, int] = field(default_factory=dict)
    emails: int = 0
    emails_by_language: dict[str, int] = field(default_factory=dict)
    webhooks: dict[str, int] = field(default_factory=dict)
    webhook_signatures_ok: bool = False
    verified_before: str = ""
    verified_after: str = ""
    revoked_credential: str = ""
    revocation_visible_s: float = 0.0
    revocation_email: bool = False
    revocation_webhook: bool = False
    learner_page: str = ""
    share_url: str = ""
    share_verdict: str = ""
    share_verdict_after: str = ""
    share_revocation_visible_s: float = 0.0
    share_grade_hidden: bool = False
    share_opened: int = 0
    share_files: list[str] = field(default_factory=list)
    steps_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Story:
    """Everything the story needs: the running stack, the sinks and where to write."""

    config: StackConfig
    smtp: SmtpSink
    hooks: WebhookReceiver
    output: Path
    cohort_size: int = 40
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    log: Callable[[str], None] = say
    timeout_s: float = 90.0
    college: College = field(default_factory=College)
    summary: Summary = field(default_factory=Summary)

    def mails(self) -> list[CapturedMail]:
        """The e-mails sent to this run's learners (the sink may serve other runs too)."""
        return [m for m in self.smtp.unique() if any(self.run_id in r for r in m.envelope_to)]

    def url(self, service: str, path: str) -> str:
        """A URL of one of the services."""
        return self.config.url(service) + path

    @property
    def operator(self) -> dict[str, str]:
        """The operator's headers (registry and notifier share the demo's operator token)."""
        return {"Authorization": f"Bearer {self.config.operator_token}", "X-Sceau-Actor": ACTOR}
