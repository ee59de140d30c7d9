"""Breaking-alert rules as users type them: defaults, quiet hours across midnight, and helpful refusals."""

from __future__ import annotations

from datetime import time

import pytest

from bot.config import Settings, parse_quiet_hours
from bot.digests.subscriptions import AlertRule
from bot.errors import UserInputError


def test_rule_defaults_and_overrides():
    """Missing values come from the defaults; the rule reads back from its stored form."""
    rule = AlertRule.parse(min_outlets=4, quiet_hours="23:30-6:00")
    assert (rule.min_outlets, rule.min_countries, rule.window_hours, rule.per_day) == (4, 3, 2, 3)
    assert (rule.quiet_start, rule.quiet_end) == ("23:30", "06:00")
    assert AlertRule.from_json(rule.to_json()) == rule
    assert rule.describe() == "4 outlets or 3 publisher countries within 2 h, at most 3 a day, quiet 23:30–06:00"
    assert AlertRule.parse(defaults=AlertRule(min_outlets=7)).min_outlets == 7


@pytest.mark.parametrize(
    ("quiet", "moment", "expected"),
    [
        ("22:00-07:00", time(23, 15), True),
        ("22:00-07:00", time(6, 59), True),
        ("22:00-07:00", time(7, 0), False),
        ("22:00-07:00", time(12, 0), False),
        ("12:00-14:00", time(13, 0), True),
        ("12:00-14:00", time(14, 0), False),
        ("off", time(3, 0), False),
    ],
)
def test_quiet_hours_may_run_past_midnight(quiet: str, moment: time, expected: bool):
    """Quiet hours include their start and exclude their end, also when they wrap around midnight."""
    assert AlertRule.parse(quiet_hours=quiet).is_quiet(moment) is expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"min_outlets": 1}, "at least 2"),
        ({"window_hours": 0}, "1 to 24 hours"),
        ({"per_day": 50}, "1 to 24"),
        ({"quiet_hours": "late"}, "22:00-07:00"),
        ({"quiet_hours": "25:00-07:00"}, "not a time of day"),
        ({"quiet_hours": "08:00-08:00"}, "different times"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(values: dict[str, object], message: str):
    """Each invalid value is refused with a message that says what is allowed."""
    with pytest.raises(UserInputError, match=message):
        AlertRule.parse(**values)  # type: ignore[arg-type]


def test_quiet_hours_setting_is_checked_at_start():
    """ALERT_QUIET_HOURS is validated like a subscription's, and normalised."""
    assert Settings(_env_file=None, alert_quiet_hours="1:00-5:30").alert_quiet_hours == "01:00-05:30"
    assert Settings(_env_file=None, alert_quiet_hours="off").alert_quiet_hours == ""
    assert parse_quiet_hours("") == ("", "")
    with pytest.raises(ValueError, match="Quiet hours"):
        Settings(_env_file=None, alert_quiet_hours="soon")
