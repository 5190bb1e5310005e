"""out-of-work lists by spans of APNs: book_queue_spans (kept by triggers), queue_position(), hall_register()

Each book's registrants who wait on its out-of-work list (status ``registered``), counted per span of eight
APN days (span = APN // 8): a list's total is the sum of its spans, and a page or a place far down the list
starts at its span instead of walking every registrant before it (rule 2). Eight days a row keeps both walks
short: a list of 20,000 over two years is ~100 rows, and a span holds at most 8 x 99 registrants. Triggers
on ``book_registrations`` keep the counts in the same transaction as every change, whichever path makes it
(the rules, the daily run, an operator's SQL). ``hall_register`` is rule 1's atomic core, one call: the
book's row locked, then k, the registration and its place, each read after the lock (docs/hall.md).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FOLLOW = """
CREATE FUNCTION book_queue_spans_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    left_waiting integer;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = 'registered' THEN
        UPDATE book_queue_spans SET waiting = waiting - 1
        WHERE book_id = OLD.book_id AND span = floor(OLD.applicant_priority_number / 8)::integer
        RETURNING waiting INTO left_waiting;
        IF left_waiting = 0 THEN  -- the row stays locked by the update: nobody counts it meanwhile
            DELETE FROM book_queue_spans
            WHERE book_id = OLD.book_id AND span = floor(OLD.applicant_priority_number / 8)::integer AND waiting = 0;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'registered' THEN
        INSERT INTO book_queue_spans AS d (book_id, span, waiting)
        VALUES (NEW.book_id, floor(NEW.applicant_priority_number / 8)::integer, 1)
        ON CONFLICT (book_id, span) DO UPDATE SET waiting = d.waiting + 1;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = (
    """
CREATE TRIGGER book_queue_spans_on_insert AFTER INSERT ON book_registrations
    FOR EACH ROW WHEN (NEW.status = 'registered') EXECUTE FUNCTION book_queue_spans_follow()
""",
    """
CREATE TRIGGER book_queue_spans_on_update AFTER UPDATE OF status, applicant_priority_number, book_id
    ON book_registrations
    FOR EACH ROW WHEN (
        (OLD.status = 'registered' OR NEW.status = 'registered')
        AND (OLD.status <> NEW.status OR OLD.book_id <> NEW.book_id
             OR floor(OLD.applicant_priority_number / 8) <> floor(NEW.applicant_priority_number / 8))
    ) EXECUTE FUNCTION book_queue_spans_follow()
""",
    """
CREATE TRIGGER book_queue_spans_on_delete AFTER DELETE ON book_registrations
    FOR EACH ROW WHEN (OLD.status = 'registered') EXECUTE FUNCTION book_queue_spans_follow()
""",
)

BACKFILL = """
INSERT INTO book_queue_spans (book_id, span, waiting)
SELECT book_id, floor(applicant_priority_number / 8)::integer, count(*)
FROM book_registrations WHERE status = 'registered'
GROUP BY 1, 2
"""

QUEUE_POSITION = """
CREATE FUNCTION queue_position(p_book uuid, p_apn numeric, p_at timestamptz, p_id uuid) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT 1
        + coalesce((SELECT sum(d.waiting) FROM book_queue_spans AS d
                    WHERE d.book_id = p_book AND d.span < floor(p_apn / 8)), 0)::integer
        + (SELECT count(*) FROM book_registrations AS r
           WHERE r.book_id = p_book AND r.status = 'registered'
             AND r.applicant_priority_number >= floor(p_apn / 8) * 8
             AND (r.applicant_priority_number, r.registered_at, r.id) < (p_apn, p_at, p_id))::integer
$$
"""
"""Rule 2: the 1-based place on ``book``'s out-of-work list of a registration waiting with this APN,
``registered_at`` and id: the registrants of the spans before its span, then those of its span ahead of it."""

REGISTER = """
CREATE FUNCTION hall_register(
    p_id uuid, p_tenant uuid, p_book uuid, p_member uuid, p_at timestamptz, p_zone text, p_actor text,
    p_max_k integer
) RETURNS TABLE (
    book_code text, book_active boolean, member_number text, member_status text, taken boolean, k integer,
    applicant_priority_number numeric, re_sign_deadline timestamptz, "position" integer
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    wall timestamp := p_at AT TIME ZONE p_zone;
    day_serial numeric := wall::date - date '1899-12-30';
    days integer;
BEGIN
    -- Registrations of one book wait for each other here, until the caller's statement commits. Each later
    -- statement of this (volatile) function reads a snapshot taken after the lock: it sees every
    -- registration committed before, so k and the place are exact.
    SELECT b.code, b.is_active, b.re_sign_days INTO book_code, book_active, days
    FROM referral_books AS b WHERE b.id = p_book AND b.tenant_id = p_tenant
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT m.member_number, m.status INTO member_number, member_status
    FROM members AS m WHERE m.id = p_member AND m.tenant_id = p_tenant;
    taken := EXISTS (SELECT 1 FROM book_registrations AS r
                     WHERE r.member_id = p_member AND r.book_id = p_book
                       AND r.status IN ('registered', 'dispatched', 'exempt'));
    SELECT coalesce(floor((max(r.applicant_priority_number) - day_serial) * 100)::integer, 0) + 1 INTO k
    FROM book_registrations AS r
    WHERE r.book_id = p_book AND r.applicant_priority_number >= day_serial
      AND r.applicant_priority_number < day_serial + 1;
    IF member_number IS NOT NULL AND book_active AND member_status = 'active' AND NOT taken AND k <= p_max_k THEN
        applicant_priority_number := round(day_serial + k / 100.0, 2);
        -- the same wall-clock time re_sign_days later in the hall (app.hall.clock.HallClock.days_later)
        re_sign_deadline := (wall + days * interval '1 day') AT TIME ZONE p_zone;
        INSERT INTO book_registrations (id, tenant_id, member_id, book_id, applicant_priority_number, registered_at,
                                        status, re_sign_deadline, created_by, updated_by, created_at, updated_at)
        VALUES (p_id, p_tenant, p_member, p_book, applicant_priority_number, p_at, 'registered', re_sign_deadline,
                p_actor, p_actor, p_at, p_at);
        "position" := queue_position(p_book, applicant_priority_number, p_at, p_id);
    END IF;
    RETURN NEXT;
END
$$
"""
"""Rule 1's atomic core; the rule itself (its refusals, the trace, the event) is
``app.hall.registrations.rules.RegistrationRules.register``. No row: no such book. Otherwise one row with what
the rule checks; the registration was written when ``applicant_priority_number`` is set."""


def upgrade() -> None:
    op.create_table(
        "book_queue_spans",
        sa.Column("book_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.CheckConstraint("waiting >= 0", name=op.f("ck_book_queue_spans_waiting_not_negative")),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["referral_books.id"],
            name=op.f("fk_book_queue_spans_book_id_referral_books"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", "span", name=op.f("pk_book_queue_spans")),
    )
    op.execute(FOLLOW)
    for statement in TRIGGERS:
        op.execute(statement)
    op.execute(BACKFILL)
    op.execute(QUEUE_POSITION)
    op.execute(REGISTER)


def downgrade() -> None:
    op.execute("DROP FUNCTION hall_register(uuid, uuid, uuid, uuid, timestamptz, text, text, integer)")
    op.execute("DROP FUNCTION queue_position(uuid, numeric, timestamptz, uuid)")
    for trigger in ("book_queue_spans_on_insert", "book_queue_spans_on_update", "book_queue_spans_on_delete"):
        op.execute(f"DROP TRIGGER {trigger} ON book_registrations")
    op.execute("DROP FUNCTION book_queue_spans_follow()")
    op.drop_table("book_queue_spans")
