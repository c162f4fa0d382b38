"""Learner page, part two: QR codes, LinkedIn, e-mailing a link, asking for new page links."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from issuer_support import IssuerHarness, consume
from learner_support import issued_with_page, share_urls
from PIL import Image
from pymongo.errors import DuplicateKeyError

from sceau_dev.testing.polling import eventually
from sceau_shared.events import NotificationKind, NotificationRequestedV1

pytestmark = pytest.mark.integration


async def _shared(harness: IssuerHarness, email: str) -> tuple[str, str, str]:
    _, _, path = await issued_with_page(harness, email)
    await harness.http.post(f"{path}/accept")
    await harness.http.post(f"{path}/shares", data={"label": "Employeur"})
    page = (await harness.http.get(path)).text
    [url] = share_urls(page)
    [share_id] = re.findall(r"/shares/([A-Za-z0-9_-]+)/qr\.png", page)
    return path, url, share_id


async def test_qr_codes_decode_to_the_share_link(harness: IssuerHarness) -> None:
    path, url, share_id = await _shared(harness, "qr@example.org")
    png = await harness.http.get(f"{path}/shares/{share_id}/qr.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.headers["cache-control"] == "no-store"
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert decoded.text == url
    svg = await harness.http.get(f"{path}/shares/{share_id}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg")
    page = (await harness.http.get(path)).text
    assert page.count("<svg") == 1
    assert (await harness.http.get(f"{path}/shares/nope/qr.png")).status_code == 404
    assert (await harness.http.get(f"{path}/shares/{share_id}/qr.gif")).status_code == 422


async def test_linkedin_link_names_the_share(harness: IssuerHarness) -> None:
    path, url, _ = await _shared(harness, "li@example.org")
    page = (await harness.http.get(path)).text
    [link] = re.findall(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', page)
    query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert query["certUrl"] == [url]
    assert query["organizationName"] == ["Collège Test"]
    assert query["certId"][0].startswith("urn:uuid:")


async def test_email_a_share_link_and_ask_for_new_links(harness: IssuerHarness) -> None:
    path, url, share_id = await _shared(harness, "Mail.Learner@example.org")
    sent = await harness.http.post(
        f"{path}/shares/{share_id}/email", data={"to": "hr@employer.example"}
    )
    assert sent.status_code == 303
    assert "note=sent" in sent.headers["location"]
    bad = await harness.http.post(f"{path}/shares/{share_id}/email", data={"to": "nope"})
    assert bad.status_code == 422

    form = await harness.http.get("/learn?lang=en")
    assert form.status_code == 200
    assert '<html lang="en">' in form.text
    # The index behind "new link" is fed by the issued notification (asynchronously).
    key = harness.svc.vault.contact_key("mail.learner@example.org")

    async def indexed() -> bool:
        return await harness.db["learner_contacts"].find_one({"_id": f"{key}|0"}) is not None

    await eventually(indexed, timeout_s=60, message="learner contact indexed")
    known = await harness.http.post("/learn/new-link", data={"email": "MAIL.learner@example.org"})
    unknown = await harness.http.post("/learn/new-link", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text

    mails = await consume(harness.settings.kafka, NotificationRequestedV1, 3, within=60)
    by_kind = {m.kind: m for m in mails}
    shared = by_kind[NotificationKind.SHARED]
    assert shared.recipient_email == "hr@employer.example"
    assert shared.share_url == url
    assert shared.sender_name == "Léa Tremblay"
    assert shared.share_expires_at is not None
    assert shared.learner_page_url is None
    assert shared.share_label is None
    link = by_kind[NotificationKind.LEARNER_LINK]
    assert link.recipient_email == "Mail.Learner@example.org"
    assert link.learner_page_url
    fresh = urlsplit(link.learner_page_url).path
    assert (await harness.http.get(fresh)).status_code == 200


async def test_emails_are_rate_limited(harness: IssuerHarness) -> None:
    path, _, share_id = await _shared(harness, "limits@example.org")
    answers = [
        (
            await harness.http.post(
                f"{path}/shares/{share_id}/email", data={"to": f"hr{i}@employer.example"}
            )
        ).status_code
        for i in range(harness.settings.learner_mail_per_hour + 2)
    ]
    assert answers.count(303) == harness.settings.learner_mail_per_hour
    assert answers[-1] == 429


async def test_contact_index_keeps_concurrent_entries_once(harness: IssuerHarness) -> None:
    repo = harness.svc.repositories.learners
    key = harness.svc.vault.contact_key("many@example.org")
    entries = [("inst-a", f"cred-{i}") for i in range(6)]
    await asyncio.gather(*(repo.add_contact(key, i, c) for i, c in entries))
    await asyncio.gather(*(repo.add_contact(key, i, c) for i, c in entries[:3]))  # redelivered
    assert sorted(await repo.contacts(key)) == sorted(entries)
    assert await repo.contacts(harness.svc.vault.contact_key("none@example.org")) == []


async def test_contact_index_of_a_batch_matches_one_by_one(harness: IssuerHarness) -> None:
    # The consumer indexes a batch with one insert where it can; the index must be the one
    # entry-by-entry indexing gives: new learners, a learner who already holds a credential,
    # the same learner twice in the batch, and a redelivered batch.
    repo = harness.svc.repositories.learners
    vault = harness.svc.vault
    known, new, twice = (vault.contact_key(f"{n}@example.org") for n in ("known", "new", "twice"))
    await repo.add_contact(known, "inst-a", "cred-old")
    batch = [
        (known, "inst-a", "cred-1"),
        (new, "inst-a", "cred-2"),
        (twice, "inst-a", "cred-3"),
        (twice, "inst-b", "cred-4"),
    ]
    await repo.add_contacts(batch)
    await repo.add_contacts(batch)  # redelivered
    assert await repo.contacts(known) == [("inst-a", "cred-old"), ("inst-a", "cred-1")]
    assert await repo.contacts(new) == [("inst-a", "cred-2")]
    assert await repo.contacts(twice) == [("inst-a", "cred-3"), ("inst-b", "cred-4")]


class _Counted:
    """A collection that counts the commands sent through it (the real one answers them)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.commands = 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if name not in {"find_one", "insert_one", "insert_many", "update_one"}:
            return found

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.commands += 1
            return await found(*args, **kwargs)

        return counted


async def test_indexing_a_credential_costs_the_same_however_many_the_learner_holds(
    harness: IssuerHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 19: the search for a free slot used to start at slot 0, one read per credential the
    # learner already held; at the field's scale (12 per learner) that grew with the data.
    repo = harness.svc.repositories.learners
    key = harness.svc.vault.contact_key("collector@example.org")
    counted = _Counted(repo._contacts)
    monkeypatch.setattr(repo, "_contacts", counted)
    costs = []
    for n in range(30):
        before = counted.commands
        await repo.add_contact(key, "inst-a", f"cred-{n}")
        costs.append(counted.commands - before)
    assert costs[0] == 3  # the hint (none yet), the insert, the hint raised
    assert set(costs[1:]) == {2}  # the hint this replica wrote is kept: no read
    expected = [("inst-a", f"cred-{n}") for n in range(30)]
    assert await repo.contacts(key) == expected
    # The newest credential delivered again is recognised by the hint: no new slot.
    await repo.add_contact(key, "inst-a", "cred-29")
    assert await counted.inner.find_one({"_id": f"{key}|30"}) is None
    # Another replica indexed two more meanwhile: the kept hint is behind, the search longer.
    for n, other in ((30, "cred-x"), (31, "cred-y")):
        await counted.inner.insert_one(
            {"_id": f"{key}|{n}", "institution_id": "inst-c", "credential_id": other}
        )
    await repo.add_contact(key, "inst-a", "cred-30")
    expected += [("inst-c", "cred-x"), ("inst-c", "cred-y"), ("inst-a", "cred-30")]
    assert await repo.contacts(key) == expected
    # A hint lost (or left behind by a crash) and this replica restarted (nothing kept) only
    # costs a longer search: slots stay contiguous.
    await counted.inner.delete_one({"_id": f"{key}|next"})
    repo._hints.invalidate(key)
    await repo.add_contact(key, "inst-b", "cred-late")
    assert await repo.contacts(key) == [*expected, ("inst-b", "cred-late")]


class _RacedHint:
    """A collection whose first hint upsert loses a race: another writer created the hint first.

    The other writer's hint is inserted for real, then the upsert answers with the duplicate-key
    error a server may give one of two concurrent upserts of one ``_id``.
    """

    def __init__(self, inner: Any, rival: dict[str, Any]) -> None:
        self.inner = inner
        self.rival: dict[str, Any] | None = rival

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def update_one(self, query: Any, change: Any, **kwargs: Any) -> Any:
        if self.rival is not None and kwargs.get("upsert"):
            await self.inner.insert_one(self.rival)
            self.rival = None
            raise DuplicateKeyError("E11000 duplicate key error (upsert raced)")
        return await self.inner.update_one(query, change, **kwargs)


async def test_a_hint_upsert_that_loses_a_race_still_raises_the_hint(
    harness: IssuerHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two first-time writers of one address upsert its hint at once; one may get a duplicate-key
    # error. The consumed batch must not fail for it: the hint is updated again, without upsert.
    repo = harness.svc.repositories.learners
    key = harness.svc.vault.contact_key("raced@example.org")
    # The rival indexed slot 0 and wrote its hint while this writer was inserting slot 1.
    await repo._contacts.insert_one(
        {"_id": f"{key}|0", "institution_id": "inst-a", "credential_id": "cred-rival"}
    )
    rival_hint = {"_id": f"{key}|next", "n": 1, "last": ["inst-a", "cred-rival"]}
    monkeypatch.setattr(repo, "_contacts", _RacedHint(repo._contacts, rival_hint))
    await repo.add_contact(key, "inst-a", "cred-mine")
    hint = await repo._contacts.find_one({"_id": f"{key}|next"})
    assert hint is not None
    assert hint["n"] == 2  # $max kept the higher slot over the rival's
    assert hint["last"] == ["inst-a", "cred-mine"]
    assert await repo.contacts(key) == [("inst-a", "cred-rival"), ("inst-a", "cred-mine")]
    # The next credential starts its search at the raised hint.
    await repo.add_contact(key, "inst-a", "cred-next")
    assert (await repo.contacts(key))[-1] == ("inst-a", "cred-next")


async def test_a_consumed_batch_of_returning_learners_is_indexed_together_and_whole(
    harness: IssuerHarness,
) -> None:
    # A cohort's next module: every learner already holds a credential, so every entry takes the
    # hinted path; they now run together, several of one address among them.
    repo = harness.svc.repositories.learners
    keys = [harness.svc.vault.contact_key(f"cohort{n}@example.org") for n in range(4)]
    await repo.add_contacts([(key, "inst-a", f"first-{n}") for n, key in enumerate(keys)])
    later = [(key, "inst-a", f"m{m}-{n}") for m in range(5) for n, key in enumerate(keys)]
    await repo.add_contacts(later)
    await repo.add_contacts(later)  # the batch redelivered: nothing listed twice
    for n, key in enumerate(keys):
        listed = await repo.contacts(key)
        assert listed[0] == ("inst-a", f"first-{n}")
        assert sorted(listed[1:]) == sorted(("inst-a", f"m{m}-{n}") for m in range(5))
