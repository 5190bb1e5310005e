"""hall_morning_referral(): rule 10's morning referral in one call; hall_counts_from(): rule 7's day

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
    FOR v_candidate IN
        SELECT q.id, q.member_id, m.status AS member_status,
               EXISTS (SELECT 1 FROM registration_activities AS a
                       WHERE a.registration_id = q.id AND a.labor_request_id = p_request
                         AND a.action = 'referral_skipped') AS skipped
        FROM book_registrations AS q JOIN members AS m ON m.id = q.member_id
        WHERE q.book_id = v_book AND q.status = 'registered'
        ORDER BY q.applicant_priority_number, q.registered_at, q.id
    LOOP
        v_place := v_place + 1;
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
    dispatch_type := CASE WHEN v_request.is_short_call THEN 'short_call' ELSE 'normal' END;
    INSERT INTO dispatches (id, tenant_id, labor_request_id, member_id, registration_id, employer_id,
                            dispatched_at, method, type, status, start_date, created_by, updated_by,
                            created_at, updated_at)
    VALUES (p_dispatch, p_tenant, p_request, member_id, registration_id, employer_id, p_at, 'morning_referral',
            dispatch_type, 'dispatched', start_date, p_actor, p_actor, p_at, p_at);
    UPDATE book_registrations AS q SET status = 'dispatched', updated_by = p_actor, updated_at = p_at
    WHERE q.id = registration_id;
    UPDATE labor_requests AS r
    SET workers_dispatched = r.workers_dispatched + 1,
        status = CASE WHEN r.workers_dispatched + 1 >= r.workers_requested THEN 'filled' ELSE 'partially_filled' END,
        updated_by = p_actor, updated_at = p_at
    WHERE r.id = p_request
    RETURNING r.status INTO request_status;
    INSERT INTO registration_activities (tenant_id, registration_id, member_id, book_id, action, previous_status,
                                         new_status, previous_position, new_position, labor_request_id,
                                         dispatch_id, reason, performed_by, at, created_by, updated_by)
    VALUES (p_tenant, registration_id, member_id, v_book, 'dispatched', 'registered', 'dispatched', "position",
            NULL, p_request, p_dispatch, 'morning_referral to ' || request_number, p_actor, p_at, p_actor, p_actor);
    outcome := 'dispatched';
    RETURN NEXT;
END
$$
"""
"""One row: ``outcome`` is ``dispatched`` (written), ``not_yet`` (rule 7: the request counts from a later
day, ``counts_from``), ``not_fillable`` (the request's status forbids it),
``nobody`` (no eligible registrant) or ``moved`` (the first eligible one is not ``p_expected``); nothing is
written unless ``dispatched``. No row: no such request in the tenant."""


def upgrade() -> None:
    op.execute(COUNTS_FROM)
    op.execute(MORNING_REFERRAL)


def downgrade() -> None:
    op.execute("DROP FUNCTION hall_morning_referral(uuid, uuid, uuid, timestamptz, text, uuid, text)")
    op.execute("DROP FUNCTION hall_counts_from(timestamptz, text)")
