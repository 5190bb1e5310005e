"""The fairness record: replay a book's trace and check every place and every dispatch against the rules.

``registration_activities`` is append-only and, because every change of places on a book holds the book's
lock (:func:`~app.hall.registrations.rules.lock_books`), its ``seq`` order is the order the changes
happened in. Replaying it from the start rebuilds the book's out-of-work list at any moment: who was on it,
in which order (APN, then registration time, then id, rule 2). The replay checks, row by row:

- the status the row says the registration had is the status the trace left it in, and the places it
  records before and after are the places the replay computes (a place that moved with no rule behind it,
  e.g. an APN or a status written with plain SQL, shows up here);
- a morning referral passed over nobody without a recorded reason (a ``referral_skipped`` row for that
  request, written before the dispatch);
- an internet dispatch went to a bid no losing bid was ahead of (rule 8: queue order);
- a by-name or emergency dispatch has its reason;
- at the end, every registration's status is the one its trace ends in, and none exists without a trace.

:func:`explain` answers for one dispatch (``GET dispatches/{id}/explain``); :func:`verify` for a hall
(``rollcall hall verify --tenant SLUG``).
"""

from __future__ import annotations

import asyncio
import bisect
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ResourceNotFoundError, found
from app.hall.dispatch.schemas import DispatchExplained, ExplainedEntry
from app.hall.models import (
    ActivityAction,
    BidStatus,
    BookRegistration,
    Dispatch,
    DispatchMethod,
    JobBid,
    LaborRequest,
    Member,
    ReferralBook,
    RegistrationActivity,
    RegistrationStatus,
)

__all__ = ["MAX_EXPLAINED", "Finding", "VerifyReport", "explain", "verify"]

MAX_EXPLAINED = 200
"""At most this many registrants ahead are listed one by one in an explanation (``ahead_count`` says all)."""
SLOTS_TAKEN = "rule 8: the "
"""How a bid that lost to bids ahead of it is marked (``job_bids.rejection_reason``)."""

Key = tuple[Decimal, datetime, UUID]
TRACE_COLUMNS = (
    RegistrationActivity.seq,
    RegistrationActivity.registration_id,
    RegistrationActivity.action,
    RegistrationActivity.previous_status,
    RegistrationActivity.new_status,
    RegistrationActivity.previous_position,
    RegistrationActivity.new_position,
    RegistrationActivity.labor_request_id,
    RegistrationActivity.dispatch_id,
    RegistrationActivity.reason,
)
"""What a replay reads of each trace row (plain rows: a book's history can be long)."""
Trace = Row[Any]


@dataclass(frozen=True, slots=True)
class Finding:
    book_code: str
    seq: int | None
    """The trace row it was found at (none for a finding about the end state)."""
    text: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "now"
        return f"book {self.book_code}, {where}: {self.text}"


@dataclass
class VerifyReport:
    books: int = 0
    activities: int = 0
    dispatches: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class _Registration:
    key: Key
    member_id: UUID
    member_number: str
    status: RegistrationStatus


@dataclass(frozen=True, slots=True)
class _Dispatch:
    method: DispatchMethod
    reason: str | None
    labor_request_id: UUID
    request_number: str
    registration_id: UUID


@dataclass(frozen=True, slots=True)
class _Bid:
    registration_id: UUID
    status: BidStatus
    lost_to_queue: bool


@dataclass
class _Book:
    """What a replay of one book needs, read in one snapshot."""

    id: UUID
    code: str
    registrations: dict[UUID, _Registration]
    activities: list[Trace]
    dispatches: dict[UUID, _Dispatch]
    bids: dict[UUID, list[_Bid]]
    """Per labor request."""


@dataclass
class _Replay:
    """A book's list as the trace rebuilds it, row by row."""

    book: _Book
    status: dict[UUID, RegistrationStatus] = field(default_factory=dict)
    queue: list[Key] = field(default_factory=list)
    skips: dict[tuple[UUID, UUID], str] = field(default_factory=dict)
    """(registration, request) → the recorded reason it was passed over."""
    exempt_notes: dict[UUID, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def position(self, registration_id: UUID) -> int | None:
        if self.status.get(registration_id) != RegistrationStatus.REGISTERED:
            return None
        return bisect.bisect_left(self.queue, self.book.registrations[registration_id].key) + 1

    def find(self, row: Trace | None, text: str) -> None:
        self.findings.append(Finding(self.book.code, row.seq if row is not None else None, text))

    def who(self, registration_id: UUID) -> str:
        known = self.book.registrations.get(registration_id)
        return f"member {known.member_number}" if known else f"registration {registration_id}"

    def step(self, row: Trace) -> None:
        """Check ``row`` against the replay so far, then apply it."""
        registration = self.book.registrations.get(row.registration_id)
        if registration is None:  # pragma: no cover  (a foreign key and the book's filter guarantee it)
            self.find(row, f"a trace row of registration {row.registration_id}, which is not on this book")
            return
        before = self.status.get(row.registration_id)
        if row.previous_status != before:
            self.find(
                row,
                f"{row.action} of {self.who(row.registration_id)} says the registration was "
                f"{_name(row.previous_status)}, but its trace left it {_name(before)}",
            )
        place = self.position(row.registration_id)
        if row.previous_position is not None and row.previous_position != place:
            self.find(
                row,
                f"{self.who(row.registration_id)} is recorded at position {row.previous_position} before "
                f"{row.action}, but the trace puts them at {_name(place)}: a position change with no rule behind it",
            )
        if row.action == ActivityAction.DISPATCHED:
            self._check_dispatch(row, place)
        elif row.action == ActivityAction.REFERRAL_SKIPPED and row.labor_request_id is not None:
            self.skips[(row.registration_id, row.labor_request_id)] = row.reason or ""
        elif row.action == ActivityAction.EXEMPTED and row.new_status == RegistrationStatus.EXEMPT:
            self.exempt_notes[row.registration_id] = row.reason or "exempt"
        self._apply(row.registration_id, registration.key, before, row.new_status)
        after = self.position(row.registration_id)
        if row.new_position != after:
            self.find(
                row,
                f"{self.who(row.registration_id)} is recorded at position {_name(row.new_position)} after "
                f"{row.action}, but the trace puts them at {_name(after)}: a position change with no rule behind it",
            )

    def _apply(
        self, registration_id: UUID, key: Key, before: RegistrationStatus | None, after: RegistrationStatus
    ) -> None:
        waiting = RegistrationStatus.REGISTERED
        if before == waiting and after != waiting:
            index = bisect.bisect_left(self.queue, key)
            if index < len(self.queue) and self.queue[index] == key:
                del self.queue[index]
        elif before != waiting and after == waiting:
            bisect.insort(self.queue, key)
        self.status[registration_id] = after

    def _check_dispatch(self, row: Trace, place: int | None) -> None:
        dispatch = self.book.dispatches.get(row.dispatch_id) if row.dispatch_id else None
        if dispatch is None:
            self.find(row, f"{self.who(row.registration_id)} was dispatched with no dispatch recorded")
            return
        if dispatch.method in (DispatchMethod.BY_NAME, DispatchMethod.EMERGENCY):
            if not dispatch.reason:
                self.find(row, f"{dispatch.method} dispatch to {dispatch.request_number} without a reason")
            return
        if place is None:
            self.find(row, f"{self.who(row.registration_id)} was dispatched from off the out-of-work list")
            return
        if dispatch.method == DispatchMethod.MORNING_REFERRAL:
            for key in self.queue[: place - 1]:
                if (key[2], dispatch.labor_request_id) not in self.skips:
                    self.find(
                        row,
                        f"the morning referral to {dispatch.request_number} passed over {self.who(key[2])} at "
                        f"position {self.position(key[2])} without a recorded reason",
                    )
            return
        for bid in self.book.bids.get(dispatch.labor_request_id, []):  # an internet bid: queue order among bids
            ahead = self.position(bid.registration_id)
            if bid.lost_to_queue and ahead is not None and ahead < place:
                self.find(
                    row,
                    f"the bid of {self.who(bid.registration_id)} (position {ahead}) lost {dispatch.request_number} "
                    f"to a bid at position {place}",
                )

    def finish(self) -> None:
        for registration_id, registration in self.book.registrations.items():
            traced = self.status.get(registration_id)
            if traced is None:
                self.find(
                    None,
                    f"{self.who(registration_id)} (APN {registration.key[0]}) is {registration.status} with no trace: "
                    "written outside the rules",
                )
            elif traced != registration.status:
                self.find(
                    None,
                    f"{self.who(registration_id)} is {registration.status}, but the trace ends with {traced}: a change "
                    "with no rule behind it",
                )


def _name(value: object) -> str:
    return "nothing" if value is None else str(value)


async def _load(session: AsyncSession, book: ReferralBook, *, until: int | None = None) -> _Book:
    """The book's registrations, its trace (up to seq ``until``, included), its dispatches and lost bids."""
    registrations = {
        row.id: _Registration((row.applicant_priority_number, row.registered_at, row.id), row.member_id, row.number,
                              row.status)
        for row in await session.execute(
            select(
                BookRegistration.id,
                BookRegistration.applicant_priority_number,
                BookRegistration.registered_at,
                BookRegistration.member_id,
                Member.member_number.label("number"),
                BookRegistration.status,
            )
            .join(Member, Member.id == BookRegistration.member_id)
            .where(BookRegistration.book_id == book.id)
        )
    }  # fmt: skip
    activities: list[Trace] = list(
        await session.execute(
            select(*TRACE_COLUMNS)
            .where(
                RegistrationActivity.book_id == book.id,
                *([RegistrationActivity.seq <= until] if until is not None else []),
            )
            .order_by(RegistrationActivity.seq)
        )
    )
    dispatches = {
        row.id: _Dispatch(row.method, row.reason, row.labor_request_id, row.request_number, row.registration_id)
        for row in await session.execute(
            select(
                Dispatch.id,
                Dispatch.method,
                Dispatch.reason,
                Dispatch.labor_request_id,
                LaborRequest.request_number,
                Dispatch.registration_id,
            )
            .join(LaborRequest, LaborRequest.id == Dispatch.labor_request_id)
            .where(LaborRequest.book_id == book.id)
        )
    }
    bids: dict[UUID, list[_Bid]] = {}
    for row in await session.execute(
        select(JobBid.labor_request_id, JobBid.registration_id, JobBid.status, JobBid.rejection_reason)
        .join(LaborRequest, LaborRequest.id == JobBid.labor_request_id)
        .where(LaborRequest.book_id == book.id, JobBid.status == BidStatus.REJECTED, ~JobBid.rejected_by_member)
    ):
        lost = (row.rejection_reason or "").startswith(SLOTS_TAKEN)
        bids.setdefault(row.labor_request_id, []).append(_Bid(row.registration_id, row.status, lost))
    return _Book(book.id, book.code, registrations, activities, dispatches, bids)


async def verify(session: AsyncSession, tenant_id: UUID) -> VerifyReport:
    """Replay every book of the hall from its trace (one snapshot: the caller's transaction should be
    ``REPEATABLE READ``) and collect every finding."""
    report = VerifyReport()
    books = await session.scalars(
        select(ReferralBook).where(ReferralBook.tenant_id == tenant_id).order_by(ReferralBook.code)
    )
    for book in list(books):
        loaded = await _load(session, book)
        replay = _Replay(loaded)
        for row in loaded.activities:
            replay.step(row)
        replay.finish()
        report.books += 1
        report.activities += len(loaded.activities)
        report.dispatches += len(loaded.dispatches)
        report.findings += replay.findings
    return report


async def explain(session: AsyncSession, tenant_id: UUID, dispatch_id: UUID) -> DispatchExplained:
    """The book's list as it stood just before the dispatch, who was ahead of the member and why each was
    passed over, and the rule that picked the member."""
    dispatch = await session.scalar(select(Dispatch).where(Dispatch.id == dispatch_id, Dispatch.tenant_id == tenant_id))
    if dispatch is None:
        raise ResourceNotFoundError(f"no dispatch {dispatch_id}")
    request = found(await session.get(LaborRequest, dispatch.labor_request_id), "labor request")
    book = found(await session.get(ReferralBook, request.book_id), "book")
    at_seq = await session.scalar(
        select(RegistrationActivity.seq).where(
            RegistrationActivity.dispatch_id == dispatch.id, RegistrationActivity.action == ActivityAction.DISPATCHED
        )
    )
    loaded = await _load(session, book, until=at_seq)
    # The replay is CPU work over the book's history up to the dispatch (about a second for a book of 20,000
    # registrants): in a thread, so the event loop goes on serving other requests meanwhile.
    return await asyncio.to_thread(_explained, loaded, dispatch, request)


def _explained(loaded: _Book, dispatch: Dispatch, request: LaborRequest) -> DispatchExplained:
    at = next(
        (
            row
            for row in loaded.activities
            if row.dispatch_id == dispatch.id and row.action == ActivityAction.DISPATCHED
        ),
        None,
    )
    replay = _Replay(loaded)
    for row in loaded.activities:
        if at is not None and row.seq >= at.seq:
            break
        replay.step(row)
    if at is None:
        replay.find(None, "the dispatch has no trace row")
    else:
        replay.step(at)  # its own checks (a passed-over registrant without a reason, …)
        replay.status[at.registration_id] = RegistrationStatus.REGISTERED  # show the list as it stood before
        bisect.insort(replay.queue, loaded.registrations[at.registration_id].key)
    mine = loaded.registrations[dispatch.registration_id]
    place = replay.position(dispatch.registration_id)
    ahead_keys = replay.queue[: place - 1] if place is not None else [k for k in replay.queue if k < mine.key]
    bids = {bid.registration_id: bid for bid in loaded.bids.get(request.id, [])}
    entries = [
        _entry(replay, key[2], index + 1, _why(replay, dispatch, request, key[2], bids))
        for index, key in enumerate(ahead_keys[:MAX_EXPLAINED])
    ]
    exempt_ahead = [
        registration_id
        for registration_id, status in replay.status.items()
        if status == RegistrationStatus.EXEMPT and loaded.registrations[registration_id].key < mine.key
    ]
    entries += [
        _entry(replay, registration_id, None, f"{replay.exempt_notes.get(registration_id, 'exempt')} (rule 6)")
        for registration_id in sorted(exempt_ahead, key=lambda item: loaded.registrations[item].key)
    ][: max(0, MAX_EXPLAINED - len(entries))]
    return DispatchExplained(
        dispatch_id=dispatch.id,
        labor_request_id=request.id,
        request_number=request.request_number,
        book_id=loaded.id,
        method=dispatch.method,
        registration_id=dispatch.registration_id,
        member_id=dispatch.member_id,
        member_number=mine.member_number,
        applicant_priority_number=mine.key[0],
        position=place,
        rule=_rule(dispatch),
        ahead=entries,
        ahead_count=len(ahead_keys) + len(exempt_ahead),
        queue_length=len(replay.queue),
        findings=[str(finding) for finding in replay.findings],
    )


def _entry(replay: _Replay, registration_id: UUID, position: int | None, why: str) -> ExplainedEntry:
    registration = replay.book.registrations[registration_id]
    return ExplainedEntry(
        position=position,
        registration_id=registration_id,
        member_id=registration.member_id,
        member_number=registration.member_number,
        applicant_priority_number=registration.key[0],
        status=replay.status[registration_id],
        passed_over=why,
    )


def _why(
    replay: _Replay, dispatch: Dispatch, request: LaborRequest, registration_id: UUID, bids: dict[UUID, _Bid]
) -> str:
    skipped = replay.skips.get((registration_id, request.id))
    if skipped is not None:
        return f"passed over for {request.request_number}: {skipped} (rule 10)"
    if dispatch.method == DispatchMethod.INTERNET_BID:
        bid = bids.get(registration_id)
        return "did not bid (rule 8)" if bid is None else f"bid {bid.status} (rule 8)"
    if dispatch.method in (DispatchMethod.BY_NAME, DispatchMethod.EMERGENCY):
        return f"{dispatch.method.value.replace('_', '-')} dispatch outside the queue: {dispatch.reason} (rule 10)"
    return "no recorded reason: not explained by any rule"


def _rule(dispatch: Dispatch) -> str:
    if dispatch.method == DispatchMethod.MORNING_REFERRAL:
        return "rule 10: a morning referral takes the first eligible registrant on the book's out-of-work list"
    if dispatch.method == DispatchMethod.INTERNET_BID:
        return "rule 8: bids are accepted in queue order (APN) up to the open places"
    if dispatch.method == DispatchMethod.BY_NAME:
        return f"rule 10: the employer asked for this member by name: {dispatch.reason}"
    return f"rule 10: an emergency dispatch: {dispatch.reason}"
