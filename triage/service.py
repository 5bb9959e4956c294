"""The use cases: store what arrives, classify it, hand it to a reviewer, record decisions as cases.

Every step is a state change committed together with what it produced
(suggestion, outbox row, case, audit entry), so a crash anywhere resumes at
restart with nothing lost and nothing shown twice:

``received`` -> ``classified`` (suggestion + "review" outbox row) -> ``suggested``
(the reviewer showed it) -> ``reviewed`` (an officer decided). Type ``other``
goes to ``archived``; a reply to a message under review or in a case goes to
``threaded`` with a "thread" outbox row; unreadable messages go to ``failed``.

Database work is synchronous; :meth:`TriageService.ingest` runs it in a
worker thread for the event loop. Other callers on an event loop should use
``asyncio.to_thread`` for the synchronous methods.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.clock import LONDON, complaint_due_dates
from triage.config import Settings
from triage.message import MessageError, ParsedMessage, read_chat, read_email
from triage.ports import Decision, Incoming, ReviewItem
from triage.redaction import redact, review_text
from triage.store import Store
from triage.store.models import (AuditEntry, Case, CaseCounter, FolderCheckpoint, Message, OutboxRow, Review,
                                 SuggestionRecord, utcnow)
from triage.taxonomy import CATEGORISED_TYPES, ROUTED_TYPES, Taxonomy

log = logging.getLogger("triage.service")

ACTIONS = ("confirm", "change", "dismiss")
#: States in which a message waits for an officer.
AWAITING_REVIEW = ("classified", "suggested")


class ServiceError(ValueError):
    """A request the service cannot carry out (unknown message, invalid labels)."""


@dataclass(frozen=True)
class OutboxItem:
    """One piece of work for a reviewer or channel: kind "review", "route", "thread" or "alert"."""

    id: int
    kind: str
    message_id: int | None
    case_id: int | None
    payload: dict
    created_at: datetime
    attempts: int


@dataclass(frozen=True)
class DecisionResult:
    """What a decision did; ``changed`` is False when the message had already been decided."""

    changed: bool
    message_id: int
    action: str
    officer: str
    decided_at: datetime
    type: str | None = None
    category: str | None = None
    service_area: str | None = None
    case_reference: str | None = None
    acknowledgement_due: date | None = None
    response_due: date | None = None


@dataclass(frozen=True)
class Checkpoint:
    """How far a mailbox folder has been read."""

    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class MessageRow:
    """One line of ``triage cases list``."""

    message_id: int
    case_reference: str | None
    state: str
    type: str | None
    category: str | None
    service_area: str | None
    source: str
    received_at: datetime
    acknowledgement_due: date | None = None
    labels_from: str = "suggestion"
    extra: dict = field(default_factory=dict)


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


_HEADER_PARSER = email.parser.BytesHeaderParser(policy=email.policy.compat32)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def _header_facts(raw: bytes) -> tuple[str | None, str]:
    """Message-ID and subject from the header block only (cheap, no body parsing)."""
    head = raw[:65536]
    try:
        msg = _HEADER_PARSER.parsebytes(head)
    except Exception:
        return None, ""
    ids = _MESSAGE_ID.findall(str(msg.get("Message-ID") or ""))
    subject = " ".join(str(msg.get("Subject") or "").split())[:500]
    return (ids[0][:998] if ids else None), subject


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def end_of_day(day: date | None) -> datetime | None:
    """5pm in England on ``day``: when something due that day is late."""
    if day is None:
        return None
    return datetime.combine(day, time(17, 0), tzinfo=LONDON)


class TriageService:
    """The product's use cases over one store, one model and one taxonomy."""

    def __init__(self, store: Store, model: Any, taxonomy: Taxonomy, settings: Settings | None = None) -> None:
        self.store = store
        self.model = model
        self.taxonomy = taxonomy
        self.settings = settings or Settings()
        self._case_ref = re.compile(rf"\b{re.escape(self.settings.reference_prefix)}-(\d{{4}})-(\d{{4,}})\b")

    # ------------------------------------------------------------ ingest ---

    async def ingest(self, incoming: Incoming) -> int:
        """Store a message durably (deduplicated); returns its id, or the existing id for a duplicate."""
        return await asyncio.to_thread(self.ingest_now, incoming)

    def ingest_now(self, incoming: Incoming) -> int:
        """:meth:`ingest` for callers outside an event loop."""
        digest = content_hash(incoming.raw)
        message_id, subject = _header_facts(incoming.raw) if incoming.kind == "email" else (None, "")
        for attempt in range(3):
            try:
                with self.store.transaction() as session:
                    existing = self._duplicate(session, incoming, message_id, digest)
                    if existing is not None:
                        self._advance_checkpoint(session, incoming)
                        log.info("message_duplicate id=%s source=%s uid=%s", existing, incoming.source, incoming.uid)
                        return existing
                    row = Message(
                        source=incoming.source[:300], kind=incoming.kind, raw=incoming.raw, content_hash=digest,
                        mailbox=incoming.mailbox, uidvalidity=incoming.uidvalidity, uid=incoming.uid,
                        external_id=incoming.external_id, message_id_header=message_id,
                        sender=(incoming.sender or None), channel=incoming.channel, thread_ref=incoming.thread_ref,
                        subject=subject or None, received_at=_utc(incoming.received_at), state="received",
                    )
                    session.add(row)
                    session.flush()
                    self._advance_checkpoint(session, incoming)
                    new_id = row.id
                log.info("message_stored id=%s source=%s kind=%s uid=%s", new_id, incoming.source, incoming.kind,
                         incoming.uid)
                return new_id
            except IntegrityError:
                if attempt == 2:
                    raise
                continue  # another writer stored the same message at the same moment: look again
        raise AssertionError("unreachable")

    def _duplicate(self, session: Session, incoming: Incoming, message_id: str | None, digest: str) -> int | None:
        if incoming.mailbox and incoming.uidvalidity is not None and incoming.uid is not None:
            found = session.scalar(select(Message.id).where(
                Message.mailbox == incoming.mailbox, Message.uidvalidity == incoming.uidvalidity,
                Message.uid == incoming.uid))
            if found is not None:
                return found
        if incoming.external_id:
            found = session.scalar(select(Message.id).where(
                Message.source == incoming.source[:300], Message.external_id == incoming.external_id))
            if found is not None:
                return found
        if message_id:
            found = session.scalar(select(Message.id).where(Message.message_id_header == message_id))
            if found is not None:
                return found
        if incoming.kind == "email":
            return session.scalar(select(Message.id).where(Message.content_hash == digest).limit(1))
        return None

    def _advance_checkpoint(self, session: Session, incoming: Incoming) -> None:
        if not incoming.mailbox or incoming.uidvalidity is None or incoming.uid is None:
            return
        checkpoint = session.scalar(select(FolderCheckpoint).where(FolderCheckpoint.mailbox == incoming.mailbox))
        if checkpoint is None:
            session.add(FolderCheckpoint(mailbox=incoming.mailbox, folder=incoming.mailbox.rsplit("/", 1)[-1],
                                         uidvalidity=incoming.uidvalidity, last_uid=incoming.uid))
        elif checkpoint.uidvalidity == incoming.uidvalidity and incoming.uid > checkpoint.last_uid:
            checkpoint.last_uid = incoming.uid

    # ------------------------------------------------------- checkpoints ---

    def checkpoint(self, mailbox: str) -> Checkpoint | None:
        """The persisted UIDVALIDITY and UID high-water mark of a mailbox folder."""
        with self.store.reading() as session:
            row = session.scalar(select(FolderCheckpoint).where(FolderCheckpoint.mailbox == mailbox))
            return None if row is None else Checkpoint(row.uidvalidity, row.last_uid)

    def reset_checkpoint(self, mailbox: str, folder: str, uidvalidity: int, last_uid: int = 0) -> None:
        """Start a folder afresh under a new UIDVALIDITY (after the server renumbered it)."""
        with self.store.transaction() as session:
            row = session.scalar(select(FolderCheckpoint).where(FolderCheckpoint.mailbox == mailbox))
            before = None if row is None else {"uidvalidity": row.uidvalidity, "last_uid": row.last_uid}
            if row is None:
                session.add(FolderCheckpoint(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity,
                                             last_uid=last_uid))
            else:
                row.uidvalidity, row.last_uid = uidvalidity, last_uid
            session.add(AuditEntry(actor="system", action="checkpoint.reset", entity="folder", entity_id=None,
                                   before=before, after={"mailbox": mailbox, "uidvalidity": uidvalidity,
                                                         "last_uid": last_uid}))

    def stored_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> set[int]:
        """Which of these UIDs of a folder are already in the store."""
        wanted = list(uids)
        found: set[int] = set()
        with self.store.reading() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                found.update(session.scalars(select(Message.uid).where(
                    Message.mailbox == mailbox, Message.uidvalidity == uidvalidity, Message.uid.in_(chunk))))
        return found

    # ---------------------------------------------------------- classify ---

    def _parse(self, row: Message) -> ParsedMessage:
        if row.kind == "chat":
            return read_chat(row.raw.decode("utf-8", "replace"), row.source, sender=row.sender or "",
                             channel=row.channel, sent_at=row.received_at)
        return read_email(row.raw, row.source)

    def _thread_parent(self, session: Session, row: Message, parsed: ParsedMessage) -> tuple[Message | None, Case | None]:
        """The message or case a reply belongs to, if any."""
        ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
        if row.thread_ref and row.kind == "chat":
            parent = session.scalar(select(Message).where(Message.external_id == row.thread_ref,
                                                          Message.id != row.id).limit(1))
            if parent is not None and (parent.case_id or parent.state in AWAITING_REVIEW):
                return parent, parent.case
        for ref in ids:
            parent = session.scalar(select(Message).where(Message.message_id_header == ref, Message.id != row.id))
            if parent is not None and (parent.case_id or parent.state in AWAITING_REVIEW):
                return parent, parent.case
        match = self._case_ref.search(parsed.subject or "")
        if match:
            case = session.scalar(select(Case).where(Case.reference == match.group(0)))
            if case is not None:
                # the case's first message carries the card whose thread this reply joins
                first = session.scalar(select(Message).where(Message.case_id == case.id, Message.id != row.id)
                                       .order_by(Message.id).limit(1))
                return first, case
        return None, None

    def process_pending(self, limit: int | None = None) -> int:
        """Classify received messages; returns how many were processed.

        The suggestion, the "review" outbox row and the state change are committed together.
        """
        done = 0
        batch = max(1, self.settings.batch_size)
        while limit is None or done < limit:
            size = batch if limit is None else min(batch, limit - done)
            with self.store.reading() as session:
                rows = list(session.scalars(select(Message).where(Message.state == "received")
                                            .order_by(Message.id).limit(size)))
            if not rows:
                break
            done += self._classify_batch(rows)
        return done

    def _classify_batch(self, rows: Sequence[Message]) -> int:
        parsed: dict[int, ParsedMessage] = {}
        failed: dict[int, str] = {}
        for row in rows:
            try:
                parsed[row.id] = self._parse(row)
            except MessageError as exc:
                failed[row.id] = str(exc)[:500]
        with self.store.reading() as session:
            threads = {mid: self._thread_parent(session, session.get(Message, mid), p) for mid, p in parsed.items()}
            threads = {mid: (parent.id if parent else None, case.id if case else None,
                             case.reference if case else None)
                       for mid, (parent, case) in threads.items() if parent is not None or case is not None}
        to_model = [mid for mid in parsed if mid not in threads]
        suggestions = dict(zip(to_model, self.model.predict([parsed[mid] for mid in to_model]))) if to_model else {}
        processed = 0
        now = utcnow()
        with self.store.transaction() as session:
            for row in rows:
                mid = row.id
                if mid in failed:
                    new_state = "failed"
                elif mid in threads:
                    new_state = "threaded"
                elif suggestions[mid].type == "other":
                    new_state = "archived"
                else:
                    new_state = "classified"
                values: dict[str, Any] = {"state": new_state, "state_changed_at": now}
                if mid in failed:
                    values["error"] = failed[mid]
                if mid in threads:
                    values["parent_id"], values["case_id"] = threads[mid][0], threads[mid][1]
                claimed = session.execute(update(Message).where(Message.id == mid, Message.state == "received")
                                          .values(**values)).rowcount
                if claimed != 1:
                    continue  # another worker got here first
                processed += 1
                if mid in failed:
                    log.warning("message_unreadable id=%s error=%s", mid, failed[mid][:120])
                    continue
                if mid in threads:
                    parent_id, case_id, reference = threads[mid]
                    session.add(OutboxRow(kind="thread", message_id=mid, case_id=case_id,
                                          payload={"parent_message_id": parent_id, "case_reference": reference}))
                    log.info("message_threaded id=%s parent=%s case=%s", mid, parent_id, reference)
                    continue
                s = suggestions[mid]
                session.add(SuggestionRecord(
                    message_id=mid, model_version=s.model_version or "", type=s.type,
                    type_confidence=s.type_confidence, category=s.category, category_confidence=s.category_confidence,
                    service_area=s.service_area, service_area_confidence=s.service_area_confidence,
                    needs_review=s.needs_review, reason=str(s.reason)))
                if new_state == "classified":
                    session.add(OutboxRow(kind="review", message_id=mid, payload={}))
                log.info("message_classified id=%s type=%s confidence=%.2f state=%s", mid, s.type,
                         s.type_confidence, new_state)
        return processed

    # ------------------------------------------------------------ outbox ---

    def outbox_pending(self, kind: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Unsent outbox items, oldest first ("review", "route", "thread", "alert"; None for all)."""
        with self.store.reading() as session:
            query = select(OutboxRow).where(OutboxRow.sent_at.is_(None))
            if kind is not None:
                query = query.where(OutboxRow.kind == kind)
            rows = list(session.scalars(query.order_by(OutboxRow.id).limit(limit)))
            items = []
            for row in rows:
                payload = dict(row.payload or {})
                if row.kind == "thread" and payload.get("parent_message_id"):
                    payload["parent_ref"] = self._review_ref(session, payload["parent_message_id"])
                items.append(OutboxItem(row.id, row.kind, row.message_id, row.case_id, payload, row.created_at,
                                        row.attempts))
            return items

    def mark_outbox_sent(self, outbox_id: int, external_ref: str | None) -> None:
        """Record that an outbox item was delivered, and where (e.g. "C123:1712345678.000100")."""
        with self.store.transaction() as session:
            row = session.get(OutboxRow, outbox_id, with_for_update=True)
            if row is None:
                raise ServiceError(f"no outbox item {outbox_id}")
            if row.sent_at is not None:
                return
            row.sent_at, row.external_ref, row.attempts = utcnow(), external_ref, row.attempts + 1
            if row.kind == "review" and row.message_id is not None:
                session.execute(update(Message).where(Message.id == row.message_id, Message.state == "classified")
                                .values(state="suggested", state_changed_at=utcnow()))
        log.info("outbox_sent id=%s", outbox_id)

    def mark_outbox_failed(self, outbox_id: int, error: str) -> None:
        """Count a failed delivery; the item stays pending."""
        with self.store.transaction() as session:
            row = session.get(OutboxRow, outbox_id)
            if row is not None and row.sent_at is None:
                row.attempts += 1
                row.last_error = error[:500]

    def review_ref(self, message_id: int) -> str | None:
        """Where a message's suggestion was shown (the reviewer's external reference), if it was."""
        with self.store.reading() as session:
            return self._review_ref(session, message_id)

    @staticmethod
    def _review_ref(session: Session, message_id: int) -> str | None:
        return session.scalar(select(OutboxRow.external_ref).where(
            OutboxRow.kind == "review", OutboxRow.message_id == message_id, OutboxRow.sent_at.is_not(None),
            OutboxRow.external_ref.is_not(None)).order_by(OutboxRow.id.desc()).limit(1))

    def raise_alert(self, source: str, text: str) -> int:
        """Queue an alert for the review channel (e.g. a mailbox unreachable for too long)."""
        with self.store.transaction() as session:
            row = OutboxRow(kind="alert", payload={"source": source, "text": text})
            session.add(row)
            session.flush()
            return row.id

    # ------------------------------------------------------------ review ---

    def review_item(self, message_id: int) -> ReviewItem:
        """What a reviewer shows: the suggestion and a redacted view of the message."""
        with self.store.reading() as session:
            row = session.get(Message, message_id)
            if row is None:
                raise ServiceError(f"no message {message_id}")
            suggestion = self._latest_suggestion(session, message_id)
            case = row.case
            try:
                parsed = self._parse(row)
                text, subject, names = parsed.clean_text or parsed.body, parsed.subject, [parsed.sender_name]
            except MessageError:
                text, subject, names = "", row.subject or "", []
        setting = self.settings.excerpt
        shown_subject = subject if setting == "full" else redact(subject, [n for n in names if n])
        excerpt = review_text(text, setting, names=[n for n in names if n], limit=self.settings.excerpt_chars)
        type_ = suggestion.type if suggestion else "other"
        due = None
        if case is not None:
            due = case.acknowledgement_due
        elif type_ == "complaint":
            due = complaint_due_dates(row.received_at, self.settings.response_target_days,
                                      self.settings.acknowledgement_days).acknowledgement_due
        return ReviewItem(
            message_id=row.id, subject=shown_subject, excerpt=excerpt, source=row.source,
            received_at=row.received_at, type=type_,
            type_confidence=suggestion.type_confidence if suggestion else 0.0,
            category=suggestion.category if suggestion else None,
            category_confidence=suggestion.category_confidence if suggestion else None,
            service_area=suggestion.service_area if suggestion else None,
            service_area_confidence=suggestion.service_area_confidence if suggestion else None,
            needs_review=suggestion.needs_review if suggestion else True,
            reason=(suggestion.reason if setting == "full" else redact(suggestion.reason, [n for n in names if n]))
            if suggestion else "",
            acknowledgement_due=end_of_day(due),
            case_reference=case.reference if case else None,
            extra={"state": row.state, "model_version": suggestion.model_version if suggestion else None,
                   "kind": row.kind, "channel": row.channel},
        )

    @staticmethod
    def _latest_suggestion(session: Session, message_id: int) -> SuggestionRecord | None:
        return session.scalar(select(SuggestionRecord).where(SuggestionRecord.message_id == message_id)
                              .order_by(SuggestionRecord.id.desc()).limit(1))

    def awaiting_review(self, limit: int = 100) -> list[int]:
        """Ids of messages waiting for an officer, oldest first."""
        with self.store.reading() as session:
            return list(session.scalars(select(Message.id).where(Message.state.in_(AWAITING_REVIEW))
                                        .order_by(Message.id).limit(limit)))

    # ---------------------------------------------------------- decisions ---

    def decide(self, decision: Decision) -> DecisionResult:
        """Record an officer's decision once; a repeat changes nothing and returns the first outcome."""
        if decision.action not in ACTIONS:
            raise ServiceError(f"unknown action {decision.action!r} (expected one of {', '.join(ACTIONS)})")
        for attempt in range(3):
            try:
                return self._decide_once(decision)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _existing_result(self, session: Session, review: Review) -> DecisionResult:
        case = session.get(Case, review.case_id) if review.case_id else None
        return DecisionResult(
            changed=False, message_id=review.message_id, action=review.action, officer=review.officer,
            decided_at=review.decided_at, type=review.type, category=review.category,
            service_area=review.service_area, case_reference=case.reference if case else None,
            acknowledgement_due=case.acknowledgement_due if case else None,
            response_due=case.response_due if case else None)

    def _decide_once(self, decision: Decision) -> DecisionResult:
        with self.store.transaction() as session:
            row = session.get(Message, decision.message_id, with_for_update=True)
            if row is None:
                raise ServiceError(f"no message {decision.message_id}")
            existing = session.scalar(select(Review).where(Review.message_id == row.id))
            if existing is None and decision.idempotency_key:
                existing = session.scalar(select(Review).where(Review.idempotency_key == decision.idempotency_key))
            if existing is not None:
                return self._existing_result(session, existing)
            suggestion = self._latest_suggestion(session, row.id)
            type_, category, area = self._labels(decision, suggestion)
            decided_at = _utc(decision.decided_at)
            before = {"state": row.state, "suggestion": None if suggestion is None else {
                "type": suggestion.type, "category": suggestion.category, "service_area": suggestion.service_area}}
            case = None
            if decision.action != "dismiss" and type_ != "other":
                case = self._open_case(session, row, type_, category, area, decision.officer, decided_at)
            review = Review(message_id=row.id, officer=decision.officer, action=decision.action, type=type_,
                            category=category, service_area=area, note=decision.note, decided_at=decided_at,
                            idempotency_key=decision.idempotency_key, case_id=case.id if case else None)
            session.add(review)
            row.state, row.state_changed_at = "reviewed", utcnow()
            if case is not None:
                row.case_id = case.id
                session.execute(update(Message).where(Message.parent_id == row.id, Message.case_id.is_(None))
                                .values(case_id=case.id))
                session.add(OutboxRow(kind="route", message_id=row.id, case_id=case.id, payload={
                    "case_reference": case.reference, "type": type_, "category": category, "service_area": area,
                    "acknowledgement_due": case.acknowledgement_due.isoformat() if case.acknowledgement_due else None,
                }))
            session.execute(update(OutboxRow).where(OutboxRow.kind == "review", OutboxRow.message_id == row.id,
                                                    OutboxRow.sent_at.is_(None))
                            .values(sent_at=utcnow(), last_error="decided before it was shown"))
            session.add(AuditEntry(actor=decision.officer, action=f"decision.{decision.action}", entity="message",
                                   entity_id=row.id, before=before, after={
                                       "state": "reviewed", "type": type_, "category": category,
                                       "service_area": area, "case_reference": case.reference if case else None,
                                       "note": decision.note}))
            session.flush()
            log.info("decision_recorded message=%s action=%s case=%s", row.id, decision.action,
                     case.reference if case else None)
            return DecisionResult(
                changed=True, message_id=row.id, action=decision.action, officer=decision.officer,
                decided_at=decided_at, type=type_, category=category, service_area=area,
                case_reference=case.reference if case else None,
                acknowledgement_due=case.acknowledgement_due if case else None,
                response_due=case.response_due if case else None)

    def _labels(self, decision: Decision, suggestion: SuggestionRecord | None) -> tuple[str | None, str | None, str | None]:
        if decision.action == "dismiss":
            return None, None, None
        if decision.action == "confirm":
            if suggestion is None:
                raise ServiceError(f"message {decision.message_id} has no suggestion to confirm; use change")
            return suggestion.type, suggestion.category, suggestion.service_area
        if not decision.type:
            raise ServiceError("a change needs a type")
        category = decision.category if decision.type in CATEGORISED_TYPES else None
        area = decision.service_area if decision.type in ROUTED_TYPES else None
        problems = self.taxonomy.check(decision.type, category, area)
        if problems:
            raise ServiceError("; ".join(problems))
        return decision.type, category, area

    def _open_case(self, session: Session, row: Message, type_: str, category: str | None, area: str | None,
                   officer: str, opened_at: datetime) -> Case:
        year = opened_at.astimezone(LONDON).year
        counter = session.get(CaseCounter, year, with_for_update=True)
        if counter is None:
            counter = CaseCounter(year=year, last_number=0)
            session.add(counter)
            session.flush()
        counter.last_number += 1
        number = counter.last_number
        due = None
        if type_ == "complaint":
            due = complaint_due_dates(row.received_at, self.settings.response_target_days,
                                      self.settings.acknowledgement_days)
        case = Case(reference=f"{self.settings.reference_prefix}-{year}-{number:04d}", year=year, number=number,
                    type=type_, category=category, service_area=area, received_at=row.received_at,
                    opened_at=opened_at, opened_by=officer,
                    acknowledgement_due=due.acknowledgement_due if due else None,
                    response_due=due.response_due if due else None, final_limit=due.final_limit if due else None)
        session.add(case)
        session.flush()
        session.add(AuditEntry(actor=officer, action="case.opened", entity="case", entity_id=case.id, before=None,
                               after={"reference": case.reference, "type": type_, "category": category,
                                      "service_area": area, "message_id": row.id}))
        return case

    # ----------------------------------------------------------- listing ---

    def message_rows(self, limit: int = 1000, states: Sequence[str] | None = None) -> list[MessageRow]:
        """Messages with their case reference, state and current labels, newest first."""
        with self.store.reading() as session:
            query = select(Message).order_by(Message.id.desc()).limit(limit)
            if states:
                query = query.where(Message.state.in_(list(states)))
            rows = list(session.scalars(query))
            out = []
            for row in rows:
                review = session.scalar(select(Review).where(Review.message_id == row.id))
                if review is not None:
                    labels, origin = (review.type, review.category, review.service_area), f"officer:{review.action}"
                else:
                    s = self._latest_suggestion(session, row.id)
                    labels, origin = ((s.type, s.category, s.service_area) if s else (None, None, None)), "suggestion"
                case = row.case
                out.append(MessageRow(row.id, case.reference if case else None, row.state, *labels, row.source,
                                      row.received_at, case.acknowledgement_due if case else None, origin))
            return out

    def counts(self) -> dict[str, int]:
        """How many messages are in each state."""
        from sqlalchemy import func

        with self.store.reading() as session:
            return {state: n for state, n in session.execute(
                select(Message.state, func.count()).group_by(Message.state))}
