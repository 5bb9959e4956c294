"""The store and the service use cases, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from triage.ports import Decision
from triage.service import ServiceError, TriageService
from triage.store import open_store
from triage.store.models import (AppendOnlyError, AuditEntry, Base, Case, Message, OutboxRow, Review,
                                 SuggestionRecord)

from .helpers import COMPLIMENT, email_bytes, incoming


def count(store, model) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_migrations_build_the_schema_the_models_describe(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert {"messages", "suggestions", "reviews", "cases", "audit_log", "outbox", "folder_checkpoints"} <= set(
        store.tables())


def test_reopening_applies_nothing_twice(store_url):
    first = open_store(store_url)
    first.close()
    again = open_store(store_url)
    assert "messages" in again.tables()
    again.close()


async def test_ingest_dedupes_by_imap_uid_message_id_and_content(service):
    raw = email_bytes("<a@example.org>")
    first = await service.ingest(incoming(raw, mailbox="fb@host/INBOX", uidvalidity=7, uid=1))
    assert await service.ingest(incoming(raw, mailbox="fb@host/INBOX", uidvalidity=7, uid=1)) == first
    # the same Message-ID under a new UIDVALIDITY (a re-scan) is the same message
    assert await service.ingest(incoming(raw, mailbox="fb@host/INBOX", uidvalidity=8, uid=1)) == first
    # no Message-ID: identical bytes are the same message, different bytes are not
    bare = email_bytes(None, body="Please send me the form for a carer's assessment.")
    b1 = await service.ingest(incoming(bare, source="dir:inbox"))
    assert await service.ingest(incoming(bare, source="maildir:other")) == b1
    b2 = await service.ingest(incoming(bare + b"\r\nPS", source="dir:inbox"))
    assert b2 != b1
    # chat messages: same text, different external ids are two messages
    c1 = await service.ingest(incoming(b"thank you", kind="chat", source="slack:C1", external_id="1.1"))
    c2 = await service.ingest(incoming(b"thank you", kind="chat", source="slack:C1", external_id="1.2"))
    assert c1 != c2
    assert await service.ingest(incoming(b"thank you", kind="chat", source="slack:C1", external_id="1.1")) == c1
    assert count(service.store, Message) == 5


async def test_ingest_advances_the_folder_checkpoint_in_the_same_transaction(service):
    assert service.checkpoint("fb@host/INBOX") is None
    for uid in (3, 9, 5):
        await service.ingest(incoming(email_bytes(f"<u{uid}@x>"), mailbox="fb@host/INBOX", uidvalidity=7, uid=uid))
    cp = service.checkpoint("fb@host/INBOX")
    assert (cp.uidvalidity, cp.last_uid) == (7, 9)
    assert service.stored_uids("fb@host/INBOX", 7, [1, 3, 5, 9, 11]) == {3, 5, 9}
    service.reset_checkpoint("fb@host/INBOX", "INBOX", 8)
    cp = service.checkpoint("fb@host/INBOX")
    assert (cp.uidvalidity, cp.last_uid) == (8, 0)


def test_concurrent_ingest_of_one_message_stores_it_once(service):
    raw = email_bytes("<race@example.org>")
    ids, errors = [], []

    def worker(uid):
        try:
            ids.append(service.ingest_now(incoming(raw, mailbox=f"box{uid}/INBOX", uidvalidity=1, uid=uid)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(ids)) == 1
    assert count(service.store, Message) == 1


async def test_processing_writes_suggestion_and_review_outbox_once(service):
    complaint = await service.ingest(incoming(email_bytes("<c@x>")))
    compliment = await service.ingest(incoming(email_bytes("<p@x>", subject="Thank you", body=COMPLIMENT)))
    auto = await service.ingest(incoming(email_bytes("<o@x>", subject="Out of office", body="I am away.",
                                                     extra="Auto-Submitted: auto-replied")))
    assert service.process_pending() == 3
    assert service.process_pending() == 0
    with service.store.reading() as session:
        states = dict(session.execute(select(Message.id, Message.state)).all())
        assert session.scalar(select(SuggestionRecord.type).where(SuggestionRecord.message_id == complaint)) == "complaint"
    assert states == {complaint: "classified", compliment: "classified", auto: "archived"}
    pending = service.outbox_pending("review")
    assert [p.message_id for p in pending] == [complaint, compliment]  # "other" is never posted for review
    service.mark_outbox_sent(pending[0].id, "C1:111.222")
    service.mark_outbox_sent(pending[0].id, "C1:999")  # a repeat changes nothing
    assert [p.message_id for p in service.outbox_pending("review")] == [compliment]
    assert service.review_ref(complaint) == "C1:111.222"
    assert service.review_item(complaint).extra["state"] == "suggested"
    assert service.awaiting_review() == [complaint, compliment]


async def test_a_crash_during_classification_loses_nothing_and_shows_nothing_twice(service, shipped_model):
    ids = [await service.ingest(incoming(email_bytes(f"<k{i}@x>"))) for i in range(3)]

    class Crashing:
        def predict(self, messages):
            raise RuntimeError("power cut")

    crashed = TriageService(service.store, Crashing(), service.taxonomy, service.settings)
    with pytest.raises(RuntimeError):
        crashed.process_pending()
    assert count(service.store, SuggestionRecord) == 0 and count(service.store, OutboxRow) == 0
    assert service.process_pending() == 3  # the restarted service resumes
    assert service.process_pending() == 0
    assert sorted(p.message_id for p in service.outbox_pending("review")) == ids
    assert count(service.store, SuggestionRecord) == 3


async def test_unreadable_message_is_set_aside(service):
    bad = await service.ingest(incoming(b"   \r\n  ", source="dir:inbox"))
    assert service.process_pending() == 1
    with service.store.reading() as session:
        row = session.get(Message, bad)
        assert row.state == "failed" and "empty" in row.error


async def test_confirm_opens_a_case_with_due_dates_and_audit(service):
    mid = await service.ingest(incoming(email_bytes("<d@x>"), received_at=datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc)))
    service.process_pending()
    result = service.decide(Decision(message_id=mid, officer="U123", action="confirm"))
    assert result.changed and result.case_reference.startswith("ASC-")
    year = datetime.now(timezone.utc).year
    assert result.case_reference == f"ASC-{year}-0001"
    # received Thursday 2 April 2026; Good Friday and Easter Monday are bank holidays
    assert result.acknowledgement_due == date(2026, 4, 9)
    assert result.response_due == date(2026, 5, 5)
    again = service.decide(Decision(message_id=mid, officer="U999", action="dismiss"))
    assert not again.changed and again.action == "confirm" and again.case_reference == result.case_reference
    with service.store.reading() as session:
        case = session.scalar(select(Case))
        assert case.final_limit == date(2026, 10, 2) and case.type == "complaint"
        assert session.scalar(select(func.count()).select_from(Review)) == 1
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions == ["case.opened", "decision.confirm"]
    route = service.outbox_pending("route")
    assert len(route) == 1 and route[0].payload["case_reference"] == result.case_reference
    assert service.outbox_pending("review") == []  # decided before it was shown: not shown any more


async def test_change_validates_labels_and_dismiss_opens_no_case(service):
    a = await service.ingest(incoming(email_bytes("<e1@x>")))
    b = await service.ingest(incoming(email_bytes("<e2@x>", body="Please stop sending me newsletters.")))
    service.process_pending()
    with pytest.raises(ServiceError, match="category"):
        service.decide(Decision(message_id=a, officer="U1", action="change", type="complaint",
                                service_area="Localities"))
    changed = service.decide(Decision(message_id=a, officer="U1", action="change", type="complaint",
                                      category="Timeliness", service_area="Localities", note="delay, not quality"))
    assert (changed.type, changed.category, changed.service_area) == ("complaint", "Timeliness", "Localities")
    dismissed = service.decide(Decision(message_id=b, officer="U1", action="dismiss"))
    assert dismissed.changed and dismissed.case_reference is None
    with pytest.raises(ServiceError):
        service.decide(Decision(message_id=10_000, officer="U1", action="confirm"))
    rows = {r.message_id: r for r in service.message_rows()}
    assert rows[a].case_reference == changed.case_reference and rows[a].labels_from == "officer:change"
    assert rows[b].state == "reviewed" and rows[b].case_reference is None


async def test_case_references_count_up(service):
    ids = [await service.ingest(incoming(email_bytes(f"<n{i}@x>"))) for i in range(3)]
    service.process_pending()
    refs = [service.decide(Decision(message_id=i, officer="U1", action="confirm")).case_reference for i in ids]
    assert [r[-4:] for r in refs] == ["0001", "0002", "0003"]


async def test_concurrent_decisions_on_one_message_make_one_case(service):
    mid = await service.ingest(incoming(email_bytes("<race2@x>")))
    service.process_pending()
    results, errors = [], []

    def worker(i):
        try:
            results.append(service.decide(Decision(message_id=mid, officer=f"U{i}", action="confirm")))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.changed for r in results) == 1
    assert len({r.case_reference for r in results}) == 1
    assert count(service.store, Case) == 1 and count(service.store, Review) == 1


async def test_audit_log_is_append_only(service):
    mid = await service.ingest(incoming(email_bytes("<f@x>")))
    service.process_pending()
    service.decide(Decision(message_id=mid, officer="U1", action="dismiss"))
    with pytest.raises(AppendOnlyError):
        with service.store.transaction() as session:
            entry = session.scalar(select(AuditEntry))
            entry.actor = "someone else"
    with pytest.raises(AppendOnlyError):
        with service.store.transaction() as session:
            session.delete(session.scalar(select(AuditEntry)))
    with service.store.reading() as session:
        assert session.scalar(select(AuditEntry.actor)) == "U1"


async def test_replies_join_their_case(service):
    first = await service.ingest(incoming(email_bytes("<t1@x>")))
    service.process_pending()
    reference = service.decide(Decision(message_id=first, officer="U1", action="confirm")).case_reference
    by_header = await service.ingest(incoming(email_bytes("<t2@x>", subject="Re: Missed home care visits",
                                                          extra="In-Reply-To: <t1@x>\nReferences: <t1@x>")))
    by_subject = await service.ingest(incoming(email_bytes("<t3@x>", subject=f"More about {reference}",
                                                           body="Another missed visit today.")))
    assert service.process_pending() == 2
    rows = {r.message_id: r for r in service.message_rows()}
    assert rows[by_header].state == "threaded" and rows[by_header].case_reference == reference
    assert rows[by_subject].state == "threaded" and rows[by_subject].case_reference == reference
    threads = service.outbox_pending("thread")
    assert {t.message_id for t in threads} == {by_header, by_subject}
    assert all(t.payload["case_reference"] == reference for t in threads)


async def test_reply_to_a_message_under_review_joins_its_case_when_decided(service):
    first = await service.ingest(incoming(email_bytes("<w1@x>")))
    service.process_pending()
    review = service.outbox_pending("review")[0]
    service.mark_outbox_sent(review.id, "C1:1.5")
    reply = await service.ingest(incoming(email_bytes("<w2@x>", subject="Re: Missed home care visits",
                                                      extra="In-Reply-To: <w1@x>")))
    service.process_pending()
    thread = service.outbox_pending("thread")[0]
    assert thread.payload["parent_ref"] == "C1:1.5" and thread.message_id == reply
    reference = service.decide(Decision(message_id=first, officer="U1", action="confirm")).case_reference
    rows = {r.message_id: r for r in service.message_rows()}
    assert rows[reply].case_reference == reference


async def test_review_item_is_redacted_by_setting(service):
    body = "My name is Ann Smith, call me on 07700 900123 or ann.smith@example.org. The carer never came."
    mid = await service.ingest(incoming(email_bytes("<r@x>", body=body)))
    service.process_pending()
    item = service.review_item(mid)
    assert "07700" not in item.excerpt and "ann.smith@" not in item.excerpt and "Smith" not in item.excerpt
    assert "carer never came" in item.excerpt
    assert "07700" not in item.reason
    service.settings.excerpt = "none"
    assert service.review_item(mid).excerpt == ""
    service.settings.excerpt = "full"
    assert "07700 900123" in service.review_item(mid).excerpt


async def test_alerts_wait_in_the_outbox(service):
    service.raise_alert("fb@host", "mailbox fb@host unreachable for 16 minutes")
    alerts = service.outbox_pending("alert")
    assert len(alerts) == 1 and "unreachable" in alerts[0].payload["text"]
    service.mark_outbox_failed(alerts[0].id, "reviewer down")
    assert service.outbox_pending("alert")[0].attempts == 1
