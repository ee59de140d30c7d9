"""Digest schedules: times of day in an IANA timezone, or every N hours.

A schedule is written the way users type it: ``"08:00"``, ``"07:30, 18:00"`` or ``"every 6h"``. The scheduler
wakes a digest job with an APScheduler trigger built here, and the job names the occurrence it serves with
`Schedule.latest_occurrence(now)`: the outbox stores that key once per subscription, so a retried, coalesced or
duplicated wake-up never posts the same occurrence twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import find_timezone
from bot.errors import UserInputError

MAX_TIMES_PER_DAY = 12
# Intervals are counted from this instant, so that "every 6h" fires at 00:00, 06:00, ... in the schedule's zone.
INTERVAL_ANCHOR = datetime(2000, 1, 1)  # noqa: DTZ001 - made local to the schedule's zone below
SCHEDULE_HELP = 'Use times of day like "08:00" or "07:30, 18:00", or an interval like "every 6h" (1 to 168 hours).'

# ASCII digits only: \d would also take digits of other scripts.
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_EVERY = re.compile(r"every\s+([0-9]{1,3})\s*(?:h|hr|hrs|hour|hours)", re.IGNORECASE)


def parse_timezone(name: str) -> ZoneInfo:
    """The IANA timezone called `name`, or a `UserInputError` that says what is allowed."""
    zone = find_timezone(name)
    if zone is None:
        shown = name.strip()[:64]
        raise UserInputError(
            f'Unknown timezone "{shown}". Use an IANA name such as "UTC", "Europe/Berlin" or "Asia/Tokyo".'
        )
    return zone


@dataclass(frozen=True)
class Schedule:
    """When a subscription's digests are due: fixed local times each day, or a fixed number of hours apart."""

    timezone: ZoneInfo
    times: tuple[time, ...] = ()
    every_hours: int | None = None

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> Schedule:
        """Parse a schedule as users write it; raise `UserInputError` with usage help when it is malformed."""
        zone = parse_timezone(timezone)
        spec = text.strip()
        if every := _EVERY.fullmatch(spec):
            hours = int(every.group(1))
            if not 1 <= hours <= 168:
                raise UserInputError(f'"{spec}" is out of range. {SCHEDULE_HELP}')
            return cls(zone, every_hours=hours)
        parts = [part.strip() for part in spec.split(",") if part.strip()]
        matches = [_TIME.fullmatch(part) for part in parts]
        if not parts or not all(matches) or len(parts) > MAX_TIMES_PER_DAY:
            raise UserInputError(f'"{spec}" is not a schedule I understand. {SCHEDULE_HELP}')
        times = sorted({time(int(m.group(1)), int(m.group(2))) for m in matches if m})
        return cls(zone, times=tuple(times))

    def __str__(self) -> str:
        if self.every_hours is not None:
            return f"every {self.every_hours}h"
        return ", ".join(moment.strftime("%H:%M") for moment in self.times)

    @property
    def timezone_name(self) -> str:
        """The IANA name of the schedule's zone."""
        return self.timezone.key

    def trigger(self) -> BaseTrigger:
        """An APScheduler trigger that wakes the digest job at each occurrence."""
        if self.every_hours is not None:
            anchor = INTERVAL_ANCHOR.replace(tzinfo=self.timezone)
            return IntervalTrigger(hours=self.every_hours, start_date=anchor, timezone=self.timezone)
        daily = [CronTrigger(hour=m.hour, minute=m.minute, timezone=self.timezone) for m in self.times]
        return daily[0] if len(daily) == 1 else OrTrigger(daily)

    def latest_occurrence(self, now: datetime) -> datetime:
        """The most recent due time at or before `now`, in UTC."""
        if self.every_hours is not None:
            anchor = INTERVAL_ANCHOR.replace(tzinfo=self.timezone).astimezone(UTC)
            step = timedelta(hours=self.every_hours)
            return anchor + ((now.astimezone(UTC) - anchor) // step) * step
        local_day = now.astimezone(self.timezone).date()
        for days_back in range(2):
            day = local_day - timedelta(days=days_back)
            for moment in reversed(self.times):
                # fold=0: a time that happens twice on the autumn change counts once; one skipped in spring
                # becomes the same instant one hour later, as APScheduler fires it.
                due = datetime.combine(day, moment, tzinfo=self.timezone).astimezone(UTC)
                if due <= now:
                    return due
        raise AssertionError("unreachable: a daily schedule has an occurrence within two days")

    def next_occurrence(self, now: datetime) -> datetime:
        """The first due time strictly after `now`, in UTC."""
        if self.every_hours is not None:
            return self.latest_occurrence(now) + timedelta(hours=self.every_hours)
        local_day = now.astimezone(self.timezone).date()
        for days_ahead in range(3):
            day = local_day + timedelta(days=days_ahead)
            for moment in self.times:
                due = datetime.combine(day, moment, tzinfo=self.timezone).astimezone(UTC)
                if due > now:
                    return due
        raise AssertionError("unreachable: a daily schedule has an occurrence within two days")
