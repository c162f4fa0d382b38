"""Learner e-mails: record the intent, claim, send, mark as sent — each keyed by its source event.

Sequence for every e-mail (key = triggering event id, or ``<event id>.r<days>`` for a reminder):

1. **record** the rendered message (insert-only; a replayed event finds it already there);
2. **claim** it by inserting its state ``sending`` with a lease (only one process wins);
3. **keep** the leases of a batch's e-mails not sent yet alive, all together, every third of a
   lease (a batch is claimed at once but sent one e-mail after another: with a slow relay the
   last ones would wait longer than the lease and be taken over); an e-mail found taken over is
   skipped;
4. **send** over SMTP with a Message-ID derived from the key;
5. **mark** it sent (done marker), then drop the state — in groups of ``MARK_GROUP`` as they go
   out and at the end of the batch, never only at the end: the leases stay alive until then, so
   no other sender takes over an e-mail that went out.

A crash after 4 and before 5 leaves the state ``sending``; once the lease runs out the sweeper
sends it again — same Message-ID, same bytes. We prefer that duplicate over losing the e-mail.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from sceau_notifier.backoff import Backoff
from sceau_notifier.clock import Clock
from sceau_notifier.ledger_repository import Claim, Document, Ledger
from sceau_notifier.mail.message import (
    Outgoing,
    build_mime,
    envelope_sender,
    message_id,
    recipient_hash,
)
from sceau_notifier.mail.render import EmailKind, EmailLinks, EmailRenderer, RenderedEmail
from sceau_notifier.mail.smtp import SmtpSendError
from sceau_notifier.service.deadletters import DeadLetterSink
from sceau_notifier.settings import RetrySettings, SmtpSettings
from sceau_shared.events import NotificationRequestedV1
from sceau_shared.logs import redact

_log = logging.getLogger(__name__)

MARK_GROUP = 32
"""E-mails marked sent together (one insert and one delete for the group, not per e-mail)."""


@dataclass
class _Batch:
    """What the senders of one claimed batch share.

    ``leased``: claims whose outcome is not written yet (waiting, being sent, or sent and not yet
    marked): their leases must stay alive. ``sent``: sent, waiting for the next group marking.
    ``lost``: found taken over by another sender.
    """

    leased: dict[str, Claim]
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    lost: set[str] = field(default_factory=set)
    count: int = 0


_PROPAGATOR = TraceContextTextMapPropagator()

EMAIL_CHANNEL = "emails"


class MailSender(Protocol):
    """Sends one message (the SMTP pool in production)."""

    @property
    def size(self) -> int:
        """How many messages may be sent concurrently."""

    async def send(self, message: Outgoing) -> None:
        """Send or raise :class:`SmtpSendError`."""


@dataclass(frozen=True)
class EmailJob:
    """One e-mail to send: its key, the request it comes from and which template to use."""

    key: str
    request: NotificationRequestedV1
    kind: EmailKind
    days_left: int | None = None
    source_event_id: str | None = None
    # W3C trace context the send continues (the consumer span of the triggering message).
    trace_context: Mapping[str, str] | None = None


class EmailService:
    """Turns notification requests into e-mails, each delivered once per key."""

    def __init__(
        self,
        ledger: Ledger,
        sender: MailSender,
        *,
        renderer: EmailRenderer,
        links: EmailLinks,
        smtp: SmtpSettings,
        retry: RetrySettings,
        clock: Clock,
        dead_letters: DeadLetterSink | None = None,
        backoff: Backoff | None = None,
        max_inflight: int = 2,
        tracer: Tracer | None = None,
    ) -> None:
        self._ledger = ledger
        self._tracer = tracer or trace.get_tracer(__name__)
        self._envelope_from = envelope_sender(smtp.sender)
        self._inflight = asyncio.Semaphore(max_inflight)
        self._tasks: set[asyncio.Task[int]] = set()
        self._sender = sender
        self._renderer = renderer
        self._links = links
        self._smtp = smtp
        self._retry = retry
        self._clock = clock
        self._dead_letters = dead_letters
        self._backoff = backoff or Backoff(retry)

    # --- intake --------------------------------------------------------------------------------

    def _record(self, job: EmailJob) -> Document:
        request = job.request
        now = self._clock()
        doc: Document = {
            "_id": job.key,
            "kind": job.kind.value,
            "language": request.language,
            "institution_id": request.institution_id,
            "credential_id": request.credential_id,
            "recipient_hash": recipient_hash(str(request.recipient_email)),
            "source_event_id": job.source_event_id or str(request.event_id),
            "message_id": message_id(job.key, self._smtp.message_id_domain),
            "created_at": now,
            # Needed to send again after a crash; never logged, never in events.
            "to_address": str(request.recipient_email),
            "to_name": request.recipient_name,
            "reply_to": request.institution_contact,
        }
        if job.trace_context:
            # Kept with the record so a send after a crash or a retry joins the same trace.
            doc["trace_context"] = dict(job.trace_context)
        try:
            rendered = self._renderer.render_request(
                request, job.kind, self._links, days_left=job.days_left
            )
        except Exception as exc:  # noqa: BLE001 - a template error must not block the batch
            doc["render_error"] = f"{type(exc).__name__}: {redact(str(exc))}"[:500]
            return doc
        doc["subject"] = rendered.subject
        # Compressed: the record is written once and read back only for a re-send, and the
        # database's CPU, not ours, limits throughput (see docs/benchmarks.md).
        doc["text_z"] = zlib.compress(rendered.text.encode(), 1)
        doc["html_z"] = zlib.compress(rendered.html.encode(), 1)
        return doc

    async def submit(self, jobs: list[EmailJob]) -> int:
        """Record, claim and send a batch of e-mails; return how many went out now.

        Jobs already sent (a replay) are skipped; jobs already claimed elsewhere are left to
        their owner or, after its lease, to :meth:`run_due`.
        """
        return await self._send_all(await self.prepare(jobs))

    async def submit_pipelined(self, jobs: list[EmailJob]) -> None:
        """Record and claim now, send in the background (at most ``max_inflight`` batches).

        Returning once the e-mails are recorded lets the consumer fetch and record the next
        batch while this one is on the wire. Nothing is lost if the process dies meanwhile: the
        claims stay ``sending`` and the sweeper re-sends them when their lease runs out.
        """
        work = await self.prepare(jobs)
        if not work:
            return
        await self._inflight.acquire()
        # A context of its own: the batch outlives this event's handling, whose database deadline
        # (KAFKA__HANDLER_DEADLINE_S) must not cut a slow relay's batch short; each e-mail's span
        # takes its parent from the trace stored with its record.
        task = asyncio.create_task(self._send_all(work), context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[int]) -> None:
        self._tasks.discard(task)
        self._inflight.release()
        if not task.cancelled() and task.exception() is not None:
            # The claims stay "sending"; the sweeper takes them over after the lease.
            _log.warning("background e-mail batch failed: %s", type(task.exception()).__name__)

    async def drain(self) -> None:
        """Wait for background batches (called at shutdown, before the SMTP pool closes)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def prepare(self, jobs: list[EmailJob]) -> list[tuple[Claim, Document]]:
        """Record and claim a batch; return the claimed work, ready to send."""
        if not jobs:
            return []
        records: dict[str, Document] = {}
        for job in jobs:
            records.setdefault(job.key, self._record(job))
        new = set(await self._ledger.record(list(records.values())))
        candidates = []
        for key in records:
            if key in new or not await self._ledger.is_done(key):
                candidates.append(key)
        now = self._clock()
        broken = {k for k in candidates if "render_error" in records[k]}
        extra = {
            k: {"recipient_hash": records[k]["recipient_hash"], "kind": records[k]["kind"]}
            for k in candidates
        }
        claims = await self._ledger.claim_new(
            candidates,
            now=now,
            lease_until=now + timedelta(seconds=self._retry.lease_s),
            extra=extra,
        )
        claims = [c for c in claims if c.key in new or not await self._ledger.already_done(c.key)]
        for claim in claims:
            if claim.key in broken:
                await self._give_up(claim, records[claim.key], records[claim.key]["render_error"])
        ready = [c for c in claims if c.key not in broken]
        for claim in ready:
            if claim.key not in new:
                # Send exactly what was recorded first (same Date, same bytes).
                fresh = await self._ledger.get_record(claim.key)
                if fresh is not None:
                    records[claim.key] = fresh
        return [(c, records[c.key]) for c in ready]

    # --- sending -------------------------------------------------------------------------------

    def _message(self, record: Document) -> Outgoing:
        # Rebuilt from the stored parts; build_mime is deterministic (boundary and Message-ID
        # come from the key, Date from the record), so a re-send has the same bytes.
        rendered = RenderedEmail(
            subject=record["subject"],
            text=zlib.decompress(bytes(record["text_z"])).decode(),
            html=zlib.decompress(bytes(record["html_z"])).decode(),
        )
        data = build_mime(
            rendered,
            key=record["_id"],
            sender=self._smtp.sender,
            to_address=record["to_address"],
            to_name=record.get("to_name"),
            language=record["language"],
            message_id_domain=self._smtp.message_id_domain,
            date=record["created_at"],
            reply_to=record.get("reply_to"),
        )
        return Outgoing(
            envelope_from=self._envelope_from, recipient=record["to_address"], data=data
        )

    async def _send_one(self, claim: Claim, record: Document) -> tuple[Claim, str | None, bool]:
        # A child of the message that asked for this e-mail (its context is stored with the
        # record), not of whatever batch or sweep happens to send it. No address in attributes.
        origin = record.get("trace_context")
        parent = _PROPAGATOR.extract(origin) if isinstance(origin, dict) and origin else None
        with self._tracer.start_as_current_span(
            "smtp send",
            context=parent,
            kind=SpanKind.CLIENT,
            attributes={
                "server.address": self._smtp.host,
                "server.port": self._smtp.port,
                "sceau.email.kind": str(record.get("kind", "")),
                "sceau.email.key": claim.key,
                "sceau.email.attempt": claim.attempts + 1,
            },
        ) as span:
            try:
                await self._sender.send(self._message(record))
            except SmtpSendError as exc:
                span.set_status(StatusCode.ERROR, "permanent" if exc.permanent else "transient")
                return claim, redact(str(exc)), exc.permanent
            except Exception as exc:  # noqa: BLE001 - any other failure is retried later
                span.set_status(StatusCode.ERROR, type(exc).__name__)
                return claim, f"{type(exc).__name__}: {redact(str(exc))}", False
            return claim, None, False

    async def _send_all(self, work: list[tuple[Claim, Document]]) -> int:
        if not work:
            return 0
        # One worker per SMTP connection pulling from a shared iterator: far fewer waiting
        # tasks than one coroutine per e-mail queued on the pool's semaphore.
        pending = iter(work)
        batch = _Batch(leased={claim.key: claim for claim, _ in work})
        keeper = asyncio.create_task(self._keep_leased(batch))

        async def worker() -> None:
            for claim, record in pending:
                if claim.key in batch.lost:
                    # Taken over (its lease ran out while this process could not renew it).
                    _log.info("email %s left to the sender that took it over", claim.key)
                    batch.leased.pop(claim.key, None)
                    continue
                _, error, permanent = await self._send_one(claim, record)
                if error is None:
                    batch.sent[claim.key] = {"attempts": claim.attempts + 1}
                    batch.count += 1
                    _log.info(
                        "email %s sent (kind %s, recipient %s)",
                        claim.key,
                        record["kind"],
                        record["recipient_hash"][:12],
                    )
                    if len(batch.sent) >= MARK_GROUP:
                        await self._mark_sent(batch)
                    continue
                await self._settle_failure(claim, record, error, permanent)
                batch.leased.pop(claim.key, None)

        try:
            await asyncio.gather(*(worker() for _ in range(min(self._sender.size, len(work)))))
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self._mark_sent(batch)
        return batch.count

    async def _mark_sent(self, batch: _Batch) -> None:
        """Write the done markers of the e-mails sent since the last group (two commands)."""
        group, batch.sent = batch.sent, {}
        await self._ledger.succeed(group, now=self._clock())
        for key in group:
            batch.leased.pop(key, None)

    async def _settle_failure(
        self, claim: Claim, record: Document, error: str, permanent: bool
    ) -> None:
        now = self._clock()
        attempts = claim.attempts + 1
        retry_at = None if permanent else self._backoff.next_attempt(attempts, now)
        if retry_at is None:
            await self._give_up(claim, record, error, attempts=attempts)
            return
        await self._ledger.fail(
            claim.key, attempts=attempts, error=error, now=now, next_attempt_at=retry_at
        )
        _log.warning("email %s attempt %d failed: %s", claim.key, attempts, error)

    async def _keep_leased(self, batch: _Batch) -> None:
        """Renew the leases of the batch's e-mails not settled yet, together, every lease / 3.

        A batch is claimed at once but sent one e-mail after another: with a slow relay the last
        ones wait longer than the lease, and another sender would take them over. One renewal of
        all of them per period (one command) keeps them ours for as long as this process lives;
        an e-mail found taken over is skipped.
        """
        while True:
            await asyncio.sleep(self._retry.lease_s / 3)
            claims = list(batch.leased.values())
            if not claims:
                continue
            now = self._clock()
            try:
                lost = await self._ledger.renew_many(
                    claims, now=now, lease_until=now + timedelta(seconds=self._retry.lease_s)
                )
            except Exception as exc:  # noqa: BLE001 - the next renewal may get through
                _log.warning("email lease renewal failed: %s", type(exc).__name__)
                continue
            for key in lost:
                _log.warning("email %s was taken over while waiting to be sent", key)
            batch.lost.update(lost)

    async def _give_up(
        self, claim: Claim, record: Document, error: str, *, attempts: int | None = None
    ) -> None:
        now = self._clock()
        await self._ledger.fail(
            claim.key,
            attempts=attempts if attempts is not None else claim.attempts,
            error=error,
            now=now,
            next_attempt_at=None,
        )
        _log.error("email %s failed for good: %s", claim.key, error)
        if self._dead_letters is not None:
            payload: dict[str, Any] = {
                "key": claim.key,
                "kind": record.get("kind"),
                "recipient_hash": record.get("recipient_hash"),
                "institution_id": record.get("institution_id"),
                "credential_id": record.get("credential_id"),
            }
            await self._dead_letters(
                channel=EMAIL_CHANNEL, key=claim.key, payload=json.dumps(payload), error=error
            )

    async def run_due(self, limit: int = 200) -> int:
        """Send e-mails whose retry time came or whose sender's lease ran out."""
        now = self._clock()
        lease_until = now + timedelta(seconds=self._retry.lease_s)
        work: list[tuple[Claim, Document]] = []
        for key in await self._ledger.due_keys(now, limit):
            claim = await self._ledger.claim_due(key, now=now, lease_until=lease_until)
            if claim is None or await self._ledger.already_done(key):
                continue
            record = await self._ledger.get_record(key)
            if record is None or "render_error" in record:
                await self._ledger.fail(
                    key,
                    attempts=claim.attempts,
                    error=(record or {}).get("render_error", "record missing"),
                    now=now,
                    next_attempt_at=None,
                )
                continue
            work.append((claim, record))
        return await self._send_all(work)

    async def exists(self, key: str) -> bool:
        """Whether an e-mail with this key was recorded."""
        return await self._ledger.get_record(key) is not None

    async def replay(self, key: str) -> bool:
        """Operator action: try a failed e-mail again."""
        return await self._ledger.replay(key, now=self._clock())

    async def log(
        self, *, recipient_hash: str | None, status: str | None, limit: int
    ) -> list[Document]:
        """Delivery log for operators, without the address or the message body."""
        query: dict[str, Any] = {}
        if recipient_hash:
            query["recipient_hash"] = recipient_hash.lower()
        views = await self._ledger.find_views(query, status=status, limit=limit)
        hidden = {"to_address", "to_name", "reply_to", "text_z", "html_z"}
        return [{k: v for k, v in view.items() if k not in hidden} for view in views]
