"""Subscriptions: permission, validation with suggestions, and nothing changed by bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.digests.model import ChannelRef
from bot.digests.subscriptions import (
    Actor,
    SubscriptionRequest,
    get_subscription,
    split_list,
    subscribe,
    unsubscribe,
)
from bot.errors import PermissionDeniedError, UserInputError
from bot.storage import Database, Feed

CHANNEL = ChannelRef("discord", "G1", "C1")
ADMIN = Actor("U1", can_manage=True, name="admin")
MEMBER = Actor("U2", can_manage=False, name="member")
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def test_subscribe_resolves_names_and_reports_next_digest(database: Database):
    """Names as users type them resolve to ids; the info shows display names and the next due time."""
    with database.session() as session:
        session.add(Feed(url="https://example.org/rss", name="Example Wire"))
    request = SubscriptionRequest(
        schedule="08:00, 18:00",
        timezone="Europe/Berlin",
        countries=split_list("Japan, the Kremlin, KP"),
        regions=["Indo-Pacific"],
        topics=["nuclear"],
        keywords=["NPT"],
        sources=["example wire"],
        max_items=3,
        style="detailed",
    )
    info = subscribe(database, CHANNEL, request, ADMIN, now=NOW)
    assert info.filters["countries"] == ["JP", "RU", "KP"]
    assert info.filters["sources"] == ["Example Wire"]
    assert info.filters["keywords"] == ["npt"]
    assert info.schedule == "08:00, 18:00" and info.timezone == "Europe/Berlin"
    assert info.next_digest_at == datetime(2026, 3, 28, 17, 0, tzinfo=UTC)
    assert "Japan" in info.describe_filters()
    assert get_subscription(database, CHANNEL, NOW) == info


def test_subscribing_again_replaces_the_subscription(database: Database):
    """A channel has one subscription; subscribing again updates it in place."""
    first = subscribe(database, CHANNEL, SubscriptionRequest(schedule="08:00"), ADMIN, now=NOW)
    second = subscribe(database, CHANNEL, SubscriptionRequest(schedule="every 6h"), ADMIN, now=NOW)
    assert first.id == second.id
    assert second.schedule == "every 6h"


def test_member_without_permission_is_refused_and_nothing_changes(database: Database):
    """Only people who can manage the channel may subscribe or unsubscribe."""
    with pytest.raises(PermissionDeniedError, match="Only people who can manage this channel"):
        subscribe(database, CHANNEL, SubscriptionRequest(), MEMBER)
    assert get_subscription(database, CHANNEL) is None
    subscribe(database, CHANNEL, SubscriptionRequest(), ADMIN)
    with pytest.raises(PermissionDeniedError):
        unsubscribe(database, CHANNEL, MEMBER)
    assert get_subscription(database, CHANNEL) is not None
    assert unsubscribe(database, CHANNEL, ADMIN) is True
    assert unsubscribe(database, CHANNEL, ADMIN) is False


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (SubscriptionRequest(countries=["Japn"]), 'Unknown country "Japn". Did you mean Japan'),
        (SubscriptionRequest(countries=["Sahel"]), 'Unknown country "Sahel"'),
        (SubscriptionRequest(topics=["nucular"]), 'Unknown topic "nucular".'),
        (SubscriptionRequest(regions=["Middle Eest"]), "Did you mean Middle East"),
        (SubscriptionRequest(sources=["Nowhere Times"]), 'Unknown source "Nowhere Times"'),
        (SubscriptionRequest(timezone="Mars/Olympus"), 'Unknown timezone "Mars/Olympus"'),
        (SubscriptionRequest(schedule="8 o'clock"), "is not a schedule I understand"),
        (SubscriptionRequest(max_items=50), "between 1 and 10"),
        (SubscriptionRequest(style="verbose"), 'Unknown style "verbose"'),
        (SubscriptionRequest(keywords=["x" * 80]), "Keywords are limited"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(database: Database, request_, message):
    """Every invalid value gets a clear message (with suggestions where possible); the old subscription stays."""
    subscribe(database, CHANNEL, SubscriptionRequest(schedule="07:00"), ADMIN, now=NOW)
    before = get_subscription(database, CHANNEL, NOW)
    with pytest.raises(UserInputError) as caught:
        subscribe(database, CHANNEL, request_, ADMIN, now=NOW)
    assert message in str(caught.value)
    assert get_subscription(database, CHANNEL, NOW) == before


def test_unknown_topic_lists_the_topics(database: Database):
    """An unknown topic names the topics there are."""
    with pytest.raises(UserInputError) as caught:
        subscribe(database, CHANNEL, SubscriptionRequest(topics=["sport"]), ADMIN)
    assert "Topics: " in str(caught.value) and "diplomacy" in str(caught.value)
