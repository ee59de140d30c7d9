"""Schedules: parsing, errors, and due times across daylight-saving changes with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.digests.schedule import Schedule, parse_timezone
from bot.errors import UserInputError


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:00", "08:00"), (" 18:30 , 7:05 ", "07:05, 18:30"), ("every 6h", "every 6h"), ("Every 12 hours", "every 12h")],
)
def test_parse_accepts_what_users_type(text, expected):
    """Times of day (any order, spaces) and intervals are understood and normalised."""
    assert str(Schedule.parse(text, "Europe/Berlin")) == expected


@pytest.mark.parametrize("text", ["", "8am", "25:00", "08:60", "every 0h", "every 200h", "daily", "08:00,,x"])
def test_malformed_schedule_gets_usage_help(text):
    """A malformed schedule is refused with an example of what works."""
    with pytest.raises(UserInputError, match='like "08:00"'):
        Schedule.parse(text)


def test_unknown_timezone_is_refused_politely():
    """An unknown timezone names IANA examples."""
    with pytest.raises(UserInputError, match=r'Unknown timezone "Europe/Atlantis".*Europe/Berlin'):
        parse_timezone("Europe/Atlantis")


def test_daily_time_keeps_local_time_across_spring_change():
    """08:00 in Berlin is 07:00 UTC in winter and 06:00 UTC from the last Sunday of March."""
    schedule = Schedule.parse("08:00", "Europe/Berlin")
    now = utc(2026, 3, 28, 12, 0)
    first = schedule.next_occurrence(now)
    second = schedule.next_occurrence(first)
    assert (first, second) == (utc(2026, 3, 29, 6, 0), utc(2026, 3, 30, 6, 0))
    assert schedule.latest_occurrence(now) == utc(2026, 3, 28, 7, 0)


def test_time_skipped_by_spring_change_runs_once():
    """02:30 does not exist on 29 March 2026 in Berlin; it is served once, at 01:30 UTC, like APScheduler fires it."""
    schedule = Schedule.parse("02:30", "Europe/Berlin")
    due = schedule.next_occurrence(utc(2026, 3, 28, 12, 0))
    assert due == utc(2026, 3, 29, 1, 30)
    assert schedule.latest_occurrence(due + timedelta(minutes=59)) == due
    fire = schedule.trigger().get_next_fire_time(None, utc(2026, 3, 28, 12, 0))
    assert fire is not None and fire.astimezone(UTC) == due  # a wall time in the gap compares unequal across zones


def test_time_repeated_by_autumn_change_is_one_occurrence():
    """02:30 happens twice on 25 October 2026 in Berlin; both wake-ups name the same occurrence."""
    schedule = Schedule.parse("02:30", "Europe/Berlin")
    first = schedule.next_occurrence(utc(2026, 10, 24, 12, 0))
    assert first == utc(2026, 10, 25, 0, 30)
    # An hour later the wall clock shows 02:30 again: still the same occurrence, so the outbox key repeats.
    assert schedule.latest_occurrence(utc(2026, 10, 25, 1, 30)) == first
    assert schedule.next_occurrence(first) == utc(2026, 10, 26, 1, 30)


def test_trigger_agrees_with_occurrences_over_a_year():
    """For a month around each change, every trigger wake-up maps to a distinct occurrence at or before it."""
    schedule = Schedule.parse("07:30, 19:00", "America/New_York")
    trigger = schedule.trigger()
    for start in (utc(2026, 3, 1), utc(2026, 10, 20)):
        fire, fires, seen = start, [], []
        for _ in range(60):
            next_fire = trigger.get_next_fire_time(None, fire + timedelta(seconds=1))
            assert next_fire is not None
            fire = next_fire
            fires.append(fire)
            seen.append(schedule.latest_occurrence(fire))
        assert len(set(seen)) == len(seen)
        assert all(key <= wake for key, wake in zip(seen, fires, strict=True))
        # Each wake-up serves its own occurrence, not an earlier one.
        assert all(wake - key < timedelta(hours=1) for key, wake in zip(seen, fires, strict=True))


def test_interval_schedule_is_anchored_and_steady():
    """'every 6h' is due at fixed instants six hours apart, whatever the wake-up time."""
    schedule = Schedule.parse("every 6h", "UTC")
    assert schedule.latest_occurrence(utc(2026, 5, 1, 13, 59)) == utc(2026, 5, 1, 12, 0)
    assert schedule.next_occurrence(utc(2026, 5, 1, 13, 59)) == utc(2026, 5, 1, 18, 0)
    fire = schedule.trigger().get_next_fire_time(None, utc(2026, 5, 1, 13, 59))
    assert fire == utc(2026, 5, 1, 18, 0)


@pytest.mark.parametrize("name", ["America", "Etc", "x" * 300, "../../etc/passwd", ""])
def test_timezone_directories_and_odd_names_are_refused_politely(name: str):
    """Names that are folders of the tz database, too long or paths are a UserInputError, not an OSError."""
    with pytest.raises(UserInputError, match="Unknown timezone"):
        parse_timezone(name)


@pytest.mark.parametrize("text", ["every ٣h", "every ³h", "٠٨:٠٠", "08:٠٠"])
def test_only_ascii_digits_make_a_schedule(text: str):
    """Digits of other scripts are not accepted as schedule numbers (parsing is strict everywhere)."""
    with pytest.raises(UserInputError):
        Schedule.parse(text)
