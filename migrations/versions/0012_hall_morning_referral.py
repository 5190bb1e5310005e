"""hall_morning_referral(), hall_process_bids(): rule 10's morning referral and rule 8's processing, each in
one call; hall_counts_from(): rule 7's day

A morning referral holds its book's lock while it walks the out-of-work list and writes the dispatch, so
dispatches from one book take turns. Done as one database call the lock is held for the database's own time
only, never across a round trip to the API: the function locks the book and the request, walks the list from
the top (passing over registrants with a skip recorded for the request, and members who are not active, for
whom it records the skip), and writes the dispatch, the registration's new status, the request's count and
status, and the trace rows. The refusals and their messages, and the event, are the caller's
(``app.hall.dispatch.rules.DispatchRules.morning_referral``).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COUNTS_FROM = """
CREATE FUNCTION hall_counts_from(p_received timestamptz, p_zone text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- Rule 7, as app.hall.clock.HallClock.counts_from: the hall's day of receipt if before 15:00, else the
    -- next working day (Monday to Friday).
    SELECT CASE
        WHEN (p_received AT TIME ZONE p_zone)::time < time '15:00' THEN (p_received AT TIME ZONE p_zone)::date
        ELSE (p_received AT TIME ZONE p_zone)::date
             + CASE extract(isodow FROM (p_received AT TIME ZONE p_zone)::date)::integer
                   WHEN 5 THEN 3 WHEN 6 THEN 2 ELSE 1 END
    END
$$
"""
"""Rule 7's day a request counts from; a test checks it against ``HallClock.counts_from``."""

DISPATCH_WRITE = """
CREATE FUNCTION hall_dispatch_write(
    p_tenant uuid, p_request uuid, p_book uuid, p_dispatch uuid, p_registration uuid, p_member uuid, p_bid uuid,
    p_method text, p_reason text, p_check_in timestamptz, p_position integer, p_actor text, p_at timestamptz
) RETURNS TABLE (request_status text, workers_dispatched integer, dispatch_type text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_request labor_requests%ROWTYPE;
BEGIN
    -- Rule 10's change, whoever dispatches (a morning referral, a bid, by name, an emergency): the dispatch, the
    -- registration dispatched, the trace row, the request's count and status. The caller holds the book's and
    -- the request's locks and has checked the rules.
    UPDATE labor_requests AS r
    SET workers_dispatched = r.workers_dispatched + 1,
        status = CASE WHEN r.workers_dispatched + 1 >= r.workers_requested THEN 'filled' ELSE 'partially_filled' END,
        updated_by = p_actor, updated_at = p_at
    WHERE r.id = p_request
    RETURNING r.* INTO v_request;
    dispatch_type := CASE WHEN p_method = 'emergency' THEN 'emergency'
                          WHEN v_request.is_short_call THEN 'short_call' ELSE 'normal' END;
    INSERT INTO dispatches (id, tenant_id, labor_request_id, member_id, registration_id, bid_id, employer_id,
                            dispatched_at, method, type, status, reason, check_in_deadline, start_date,
                            created_by, updated_by, created_at, updated_at)
    VALUES (p_dispatch, p_tenant, p_request, p_member, p_registration, p_bid, v_request.employer_id, p_at, p_method,
            dispatch_type, 'dispatched', p_reason, p_check_in, v_request.start_date, p_actor, p_actor, p_at, p_at);
    UPDATE book_registrations AS q SET status = 'dispatched', updated_by = p_actor, updated_at = p_at
    WHERE q.id = p_registration;
    INSERT INTO registration_activities (tenant_id, registration_id, member_id, book_id, action, previous_status,
                                         new_status, previous_position, new_position, labor_request_id,
                                         dispatch_id, reason, performed_by, at, created_by, updated_by)
    VALUES (p_tenant, p_registration, p_member, p_book, 'dispatched', 'registered', 'dispatched', p_position, NULL,
            p_request, p_dispatch, p_method || ' to ' || v_request.request_number || coalesce(': ' || p_reason, ''),
            p_actor, p_at, p_actor, p_actor);
    request_status := v_request.status;
    workers_dispatched := v_request.workers_dispatched;
    RETURN NEXT;
END
$$
"""
"""Rule 10's write, shared by ``hall_morning_referral``, ``hall_process_bids`` and the by-name and emergency
dispatches (``DispatchRules.named``): one definition of what a dispatch changes and traces."""

MORNING_REFERRAL = """
CREATE FUNCTION hall_morning_referral(
    p_request uuid, p_tenant uuid, p_dispatch uuid, p_at timestamptz, p_actor text, p_expected uuid, p_zone text
) RETURNS TABLE (
    outcome text, request_number text, request_status text, book_code text, counts_from date,
    registration_id uuid, member_id uuid, employer_id uuid, start_date date, dispatch_type text,
    "position" integer
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_book uuid;
    v_request labor_requests%ROWTYPE;
    v_candidate record;
    v_place integer := 0;
    v_passed uuid[] := '{}';
    v_passed_member uuid[] := '{}';
    v_passed_place integer[] := '{}';
    v_passed_status text[] := '{}';
    v_page integer;
    v_after_apn numeric := -1;  -- before every APN (they are positive)
    v_after_at timestamptz := '-infinity';
    v_after_id uuid := '00000000-0000-0000-0000-000000000000';
BEGIN
    SELECT r.book_id, r.request_number, hall_counts_from(r.received_at, p_zone)
    INTO v_book, request_number, counts_from
    FROM labor_requests AS r WHERE r.id = p_request AND r.tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN;  -- no such request: no row
    END IF;
    IF (p_at AT TIME ZONE p_zone)::date < counts_from THEN  -- rule 7 (a request's receipt never changes)
        outcome := 'not_yet';
        RETURN NEXT;
        RETURN;
    END IF;
    -- The order every change of places takes: the book, then the request, then the rows. Each later
    -- statement of this (volatile) function reads a snapshot taken after the locks.
    SELECT b.code INTO book_code FROM referral_books AS b WHERE b.id = v_book FOR NO KEY UPDATE;
    SELECT * INTO v_request FROM labor_requests AS r WHERE r.id = p_request FOR UPDATE;
    request_number := v_request.request_number;
    request_status := v_request.status;
    IF v_request.status NOT IN ('open', 'partially_filled') THEN
        outcome := 'not_fillable';
        RETURN NEXT;
        RETURN;
    END IF;
    -- The walk goes down the list in pages of 32 (keyset on the list's order), so the planner always walks the
    -- queue's index from the top: a plan for the whole list would sort every registrant of a full book.
    LOOP
        v_page := 0;
        FOR v_candidate IN
            SELECT q.id, q.member_id, q.applicant_priority_number AS apn, q.registered_at, m.status AS member_status,
                   EXISTS (SELECT 1 FROM registration_activities AS a
                           WHERE a.registration_id = q.id AND a.labor_request_id = p_request
                             AND a.action = 'referral_skipped') AS skipped
            FROM book_registrations AS q JOIN members AS m ON m.id = q.member_id
            WHERE q.book_id = v_book AND q.status = 'registered'
              AND (q.applicant_priority_number, q.registered_at, q.id) > (v_after_apn, v_after_at, v_after_id)
            ORDER BY q.applicant_priority_number, q.registered_at, q.id
            LIMIT 32
        LOOP
            v_page := v_page + 1;
            v_place := v_place + 1;
            v_after_apn := v_candidate.apn;
            v_after_at := v_candidate.registered_at;
            v_after_id := v_candidate.id;
            CONTINUE WHEN v_candidate.skipped;
            IF v_candidate.member_status <> 'active' THEN
                v_passed := v_passed || v_candidate.id;
                v_passed_member := v_passed_member || v_candidate.member_id;
                v_passed_place := v_passed_place || v_place;
                v_passed_status := v_passed_status || v_candidate.member_status::text;
                CONTINUE;
            END IF;
            registration_id := v_candidate.id;
            member_id := v_candidate.member_id;
            "position" := v_place;
            EXIT;
        END LOOP;
        EXIT WHEN registration_id IS NOT NULL OR v_page < 32;
    END LOOP;
    IF registration_id IS NULL THEN
        outcome := 'nobody';
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_expected IS NOT NULL AND registration_id <> p_expected THEN
        outcome := 'moved';
        RETURN NEXT;
        RETURN;
    END IF;
    IF cardinality(v_passed) > 0 THEN
        INSERT INTO registration_activities (tenant_id, registration_id, member_id, book_id, action, previous_status,
                                             new_status, previous_position, new_position, labor_request_id, reason,
                                             performed_by, at, created_by, updated_by)
        SELECT p_tenant, passed.id, passed.member, v_book, 'referral_skipped', 'registered', 'registered',
               passed.place, passed.place, p_request,
               'the member is ' || passed.status || ' (not dispatchable)', p_actor, p_at, p_actor, p_actor
        FROM unnest(v_passed, v_passed_member, v_passed_place, v_passed_status)
             AS passed (id, member, place, status)
        ORDER BY passed.place;
    END IF;
    employer_id := v_request.employer_id;
    start_date := v_request.start_date;
    SELECT w.request_status, w.dispatch_type INTO request_status, dispatch_type
    FROM hall_dispatch_write(p_tenant, p_request, v_book, p_dispatch, registration_id, member_id, NULL,
                             'morning_referral', NULL, NULL, "position", p_actor, p_at) AS w;
    outcome := 'dispatched';
    RETURN NEXT;
END
$$
"""
"""One row: ``outcome`` is ``dispatched`` (written), ``not_yet`` (rule 7: the request counts from a later
day, ``counts_from``), ``not_fillable`` (the request's status forbids it),
``nobody`` (no eligible registrant) or ``moved`` (the first eligible one is not ``p_expected``); nothing is
written unless ``dispatched``. No row: no such request in the tenant."""


PROCESS_BIDS = """
CREATE FUNCTION hall_process_bids(
    p_request uuid, p_tenant uuid, p_at timestamptz, p_actor text, p_reason text, p_zone text
) RETURNS TABLE (
    outcome text, request_number text, request_status text, workers_requested integer,
    workers_dispatched integer, closes_at timestamptz, bid_id uuid, member_id uuid, registration_id uuid,
    submitted_at timestamptz, queue_position_at_bid integer, dispatch_id uuid, rejection_reason text,
    "position" integer, employer_id uuid, start_date date, dispatch_type text, check_in_deadline timestamptz
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_book uuid;
    v_request labor_requests%ROWTYPE;
    v_today date := (p_at AT TIME ZONE p_zone)::date;
    v_places integer;
    v_bid record;
BEGIN
    SELECT r.book_id INTO v_book FROM labor_requests AS r WHERE r.id = p_request AND r.tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN;  -- no such request: no row
    END IF;
    PERFORM 1 FROM referral_books AS b WHERE b.id = v_book FOR NO KEY UPDATE;
    SELECT * INTO v_request FROM labor_requests AS r WHERE r.id = p_request FOR UPDATE;
    request_number := v_request.request_number;
    request_status := v_request.status;
    workers_requested := v_request.workers_requested;
    workers_dispatched := v_request.workers_dispatched;
    closes_at := v_request.bidding_closes_at;
    IF NOT v_request.allows_online_bidding OR v_request.bidding_closes_at IS NULL THEN
        outcome := 'no_bidding';
        RETURN NEXT;
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM job_bids AS j WHERE j.labor_request_id = p_request AND j.status = 'pending') THEN
        outcome := 'none';
        RETURN NEXT;
        RETURN;
    END IF;
    IF v_request.status IN ('open', 'partially_filled') THEN
        IF p_at < v_request.bidding_closes_at THEN
            IF p_reason IS NULL THEN
                outcome := 'too_early';
                RETURN NEXT;
                RETURN;
            END IF;
            UPDATE labor_requests AS r
            SET bidding_closes_at = p_at,
                notes = concat_ws(E'\\n', nullif(r.notes, ''),
                                  'bidding closed early by ' || p_actor || ': ' || p_reason),
                updated_by = p_actor, updated_at = p_at
            WHERE r.id = p_request;
        END IF;
        v_places := v_request.workers_requested - v_request.workers_dispatched;
    ELSE
        v_places := -1;  -- filled (or closed) meanwhile: no place for any bid
    END IF;
    employer_id := v_request.employer_id;
    start_date := v_request.start_date;
    FOR v_bid IN
        SELECT j.id, j.member_id, j.registration_id, j.submitted_at, j.queue_position_at_bid,
               q.status AS registration_status, q.applicant_priority_number AS apn, q.registered_at,
               m.status AS member_status,
               EXISTS (SELECT 1 FROM bidding_suspensions AS s
                       WHERE s.member_id = j.member_id AND s.starts_on <= v_today AND s.ends_on >= v_today)
                   AS suspended
        FROM job_bids AS j
        JOIN book_registrations AS q ON q.id = j.registration_id
        JOIN members AS m ON m.id = j.member_id
        WHERE j.labor_request_id = p_request AND j.status = 'pending'
        ORDER BY q.applicant_priority_number, q.registered_at, q.id
        FOR UPDATE OF j, q
    LOOP
        bid_id := v_bid.id;
        member_id := v_bid.member_id;
        registration_id := v_bid.registration_id;
        submitted_at := v_bid.submitted_at;
        queue_position_at_bid := v_bid.queue_position_at_bid;
        dispatch_id := NULL;
        "position" := NULL;
        check_in_deadline := NULL;
        IF v_places < 0 THEN
            rejection_reason := 'rule 8: no place left: ' || request_number || ' is ' || request_status;
        ELSIF v_bid.registration_status <> 'registered' OR v_bid.member_status <> 'active' THEN
            rejection_reason := 'rule 8: not on the out-of-work list when the bids were processed ('
                || CASE WHEN v_bid.member_status = 'active' THEN v_bid.registration_status
                        ELSE 'member ' || v_bid.member_status END || ')';
        ELSIF v_bid.suspended THEN
            rejection_reason := 'rule 9: bidding suspended';
        ELSIF v_places > 0 THEN
            rejection_reason := NULL;
            dispatch_id := gen_random_uuid();
            "position" := queue_position(v_book, v_bid.apn, v_bid.registered_at, v_bid.registration_id);
            check_in_deadline := (v_request.start_date + time '15:00') AT TIME ZONE p_zone;
            SELECT w.request_status, w.workers_dispatched, w.dispatch_type
            INTO request_status, workers_dispatched, dispatch_type
            FROM hall_dispatch_write(p_tenant, p_request, v_book, dispatch_id, registration_id, member_id, bid_id,
                                     'internet_bid',
                                     'bid at position ' || coalesce(queue_position_at_bid::text, 'unknown'),
                                     check_in_deadline, "position", p_actor, p_at) AS w;
            UPDATE job_bids AS j SET status = 'accepted', dispatch_id = hall_process_bids.dispatch_id,
                                     updated_by = p_actor, updated_at = p_at
            WHERE j.id = bid_id;
            v_places := v_places - 1;
            outcome := 'accepted';
            RETURN NEXT;
            CONTINUE;
        ELSE
            rejection_reason := 'rule 8: the ' || v_request.workers_requested
                || ' places went to bids ahead in the queue';
        END IF;
        UPDATE job_bids AS j SET status = 'rejected', rejection_reason = hall_process_bids.rejection_reason,
                                 updated_by = p_actor, updated_at = p_at
        WHERE j.id = bid_id;
        outcome := 'rejected';
        RETURN NEXT;
    END LOOP;
    -- Last, the request as processing left it.
    outcome := 'done';
    bid_id := NULL;
    member_id := NULL;
    registration_id := NULL;
    submitted_at := NULL;
    queue_position_at_bid := NULL;
    dispatch_id := NULL;
    rejection_reason := NULL;
    "position" := NULL;
    check_in_deadline := NULL;
    RETURN NEXT;
END
$$
"""
"""Rule 8's processing: one row per pending bid (``outcome`` ``accepted``, with its dispatch, or ``rejected``,
with the reason), in queue order, then a row ``done`` with the request's count and status after; or one row
``no_bidding`` (the request takes no online bids), ``none`` (nothing pending) or ``too_early`` (before bidding
closes, without a reason). No row: no such request."""


def upgrade() -> None:
    # The skips recorded for a request: a morning referral looks them up on every dispatch (the whole trace
    # grows with the hall's history; these few rows do not).
    op.create_index(
        "ix_registration_activities_skips",
        "registration_activities",
        ["labor_request_id", "registration_id"],
        postgresql_where=sa.text("action = 'referral_skipped'"),
    )
    op.execute(COUNTS_FROM)
    op.execute(DISPATCH_WRITE)
    op.execute(MORNING_REFERRAL)
    op.execute(PROCESS_BIDS)


def downgrade() -> None:
    op.execute("DROP FUNCTION hall_process_bids(uuid, uuid, timestamptz, text, text, text)")
    op.execute("DROP FUNCTION hall_morning_referral(uuid, uuid, uuid, timestamptz, text, uuid, text)")
    op.execute("DROP FUNCTION hall_counts_from(timestamptz, text)")
    op.execute(
        "DROP FUNCTION hall_dispatch_write(uuid, uuid, uuid, uuid, uuid, uuid, uuid, text, text, timestamptz,"
        " integer, text, timestamptz)"
    )
    op.drop_index("ix_registration_activities_skips", table_name="registration_activities")
