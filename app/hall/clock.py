"""The hall's calendar: its days are in its own timezone (``tenants.timezone``), stored instants in UTC.

Rule 1 numbers registrations by the hall's day, rule 3's crons run "daily" and "7 days before" in it, and
later rules open and close windows at 15:00, 17:30 and 07:00 of it. Every conversion goes through here so a
day always means the same thing, also across a change to or from daylight saving time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "EXCEL_EPOCH",
    "REQUEST_CUTOFF",
    "HallClock",
    "excel_serial",
    "is_working_day",
    "next_working_day",
    "working_days_between",
]

REQUEST_CUTOFF = time(15, 0)
"""Rule 7: a labor request received at or after this time of the hall's day counts from the next working day."""

EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of spreadsheet serial dates (the hall's historical APNs come from spreadsheets)."""


def excel_serial(day: date) -> int:
    """Days since 1899-12-30: 2012-02-27 → 40966."""
    return (day - EXCEL_EPOCH).days


def is_working_day(day: date) -> bool:
    """A working day is Monday to Friday (the hall's calendar has no holiday table)."""
    return day.weekday() < 5


def next_working_day(day: date) -> date:
    """The first working day after ``day``."""
    following = day + timedelta(days=1)
    while not is_working_day(following):
        following += timedelta(days=1)
    return following


def working_days_between(first: date, last: date) -> int:
    """How many working days from ``first`` through ``last`` (both included); 0 if ``last`` is before ``first``."""
    if last < first:
        return 0
    weeks, rest = divmod((last - first).days + 1, 7)
    extra = sum(1 for offset in range(rest) if is_working_day(first + timedelta(days=offset)))
    return weeks * 5 + extra


class HallClock:
    """One hall's timezone, and the questions rules ask of it."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def day_of(self, instant: datetime) -> date:
        """The hall's calendar day at ``instant``."""
        return instant.astimezone(self.zone).date()

    def at(self, day: date, clock_time: time) -> datetime:
        """The instant (UTC) of ``clock_time`` on the hall's ``day`` (a wall time a DST jump skips moves on)."""
        local = datetime.combine(day, clock_time, tzinfo=self.zone)
        return local.astimezone(UTC)

    def start_of(self, day: date) -> datetime:
        """The instant the hall's ``day`` begins (midnight there), in UTC."""
        return self.at(day, time(0, 0))

    def days_later(self, instant: datetime, days: int) -> datetime:
        """The same wall-clock time ``days`` later in the hall (23 or 25 hours across a DST change).

        Where that wall time happens twice (the clocks go back), the later of the two; where it never happens
        (they go forward), an hour on. That is PostgreSQL's reading of a wall time too, so the deadline the
        registration statement computes (migration 0011's ``hall_register``) is this one."""
        local = instant.astimezone(self.zone)
        later = datetime.combine(local.date() + timedelta(days=days), local.time(), self.zone)
        return max(later.astimezone(UTC), later.replace(fold=1).astimezone(UTC))

    def counts_from(self, received: datetime) -> date:
        """Rule 7: the hall's day a labor request received at ``received`` counts from: that day if it came
        before 15:00, else the next working day (a request taken on a Saturday morning counts from that
        Saturday, as the rule says; one taken on a Friday or Saturday afternoon, from Monday)."""
        local = received.astimezone(self.zone)
        day = local.date()
        return day if local.time() < REQUEST_CUTOFF else next_working_day(day)

    def end_of(self, day: date) -> datetime:
        """The instant the hall's ``day`` ends (the next midnight there), in UTC."""
        return self.start_of(day + timedelta(days=1))
