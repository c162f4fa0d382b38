"""The Sceau demo story, run by ``scripts/demo`` once Kafka and the MongoDB-protocol server are up.

It starts the four services as separate processes (fresh databases and topics for this run), a
local SMTP sink and a webhook receiver in this process, and then plays the story of issue 8:

1. an operator registers a bilingual college at the registry and accredits it for
   micro-credentials; the issuer creates the college's tenant and signing key from the registry's
   event; the operator creates an API key for the college (``sceau issuer api-key create``) and
   connects the college's webhook receiver at the notifier;
2. the college defines the series "Enseigner avec l'IA / Teaching with AI" (three 5-hour
   MicroCredential modules aligned to a competency framework, plus an overall credential) and
   issues the modules to a cohort of learners through the batch API (some learners complete only
   some modules);
3. the learners who completed all three modules automatically receive the overall credential;
4. the e-mails the learners received (SMTP sink) and the signed webhook deliveries are shown;
5. an employer verifies a credential (valid), the college revokes it, the employer verifies again
   until the answer is "revoked", and the demo prints how long that took to become visible;
6. the college issues a graded capstone to a learner, who follows the e-mail's link to their page,
   accepts the credential and creates a share link hiding the grade (posting the page's forms),
   downloads its QR code, the PDF and the baked badge; an employer opens the link at the verifier:
   verified, no grade shown; the college revokes the credential and the same link says so;
7. a summary, which says how many of the credentials issued (the share's derived copy included)
   conform to 1EdTech's Open Badges 3.0 rules.

Everything the story produced lands in ``demo-output/``: every signed credential
(``credentials/*.json``), every e-mail (``mail/*.eml``), every webhook delivery
(``webhooks.jsonl``), the sharing scene's files (``share/``) and the services' logs (``logs/``).

Modules, one job each: ``cli`` (arguments and exit status), ``stack`` (ports, sinks, dropping a
run's databases), ``mail`` and ``webhooks`` (the two local receivers), ``catalogue`` and
``learners`` (the story's content), ``story`` (its state), ``checks`` (how a step decides it
succeeded), ``conformance`` (every issued credential against 1EdTech's OB 3.0 rules),
``steps/`` (steps 1-6), ``run`` (the steps in order), ``output`` (files written) and
``summary`` (step 7). The end-to-end tests import this package and drive :func:`run_story` and the
steps with a smaller cohort, so the demo and its tests cannot drift apart.
"""

from __future__ import annotations

from sceau_demo.catalogue import module_bodies, overall_body
from sceau_demo.checks import StepFailed, eventually, expect
from sceau_demo.cli import main
from sceau_demo.learners import Learner, cohort
from sceau_demo.mail import CapturedMail, SmtpSink
from sceau_demo.output import write_credentials, write_notifications
from sceau_demo.run import run_story
from sceau_demo.stack import drop_databases
from sceau_demo.steps.issue import (
    publish_achievement,
    step_define_and_issue,
    submit_batch,
    wait_batch,
)
from sceau_demo.steps.notifications import step_notifications
from sceau_demo.steps.onboard import step_onboard
from sceau_demo.steps.overall import count_credentials, fetch_credentials, step_overall
from sceau_demo.steps.sharing import step_share
from sceau_demo.steps.verification import step_verify_revoke, verify
from sceau_demo.story import College, Story, Summary
from sceau_demo.summary import print_summary
from sceau_demo.webhooks import WebhookDelivery, WebhookReceiver

__all__ = [
    "CapturedMail",
    "College",
    "Learner",
    "SmtpSink",
    "StepFailed",
    "Story",
    "Summary",
    "WebhookDelivery",
    "WebhookReceiver",
    "cohort",
    "count_credentials",
    "drop_databases",
    "eventually",
    "expect",
    "fetch_credentials",
    "main",
    "module_bodies",
    "overall_body",
    "print_summary",
    "publish_achievement",
    "run_story",
    "step_define_and_issue",
    "step_notifications",
    "step_onboard",
    "step_overall",
    "step_share",
    "step_verify_revoke",
    "submit_batch",
    "verify",
    "wait_batch",
    "write_credentials",
    "write_notifications",
]
