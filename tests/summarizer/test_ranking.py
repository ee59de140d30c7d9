"""Ranking: outlets and their countries, recency, novelty for a channel, filters, and a spread across regions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from summarizer.ranking import ChannelFilters, ChannelHistory, StorySignals, importance, select_stories

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _story(story_id: int, outlets: int, publishers: int, region: str, hours_old: float = 1, **extra) -> StorySignals:
    return StorySignals(
        story_id=story_id,
        outlets=frozenset(f"outlet-{story_id}-{i}" for i in range(outlets)),
        publisher_countries=frozenset(f"C{i}" for i in range(publishers)),
        last_published_at=NOW - timedelta(hours=hours_old),
        region=region,
        **extra,
    )


def test_importance_grows_with_outlets_and_country_spread_and_decays_with_age():
    """More outlets, more countries and fresher coverage each raise importance."""
    assert importance(_story(1, 4, 1, "x"), NOW) > importance(_story(2, 2, 1, "x"), NOW)
    assert importance(_story(1, 4, 4, "x"), NOW) > importance(_story(2, 4, 1, "x"), NOW)
    assert importance(_story(1, 3, 3, "x", hours_old=1), NOW) > importance(_story(2, 3, 3, "x", hours_old=48), NOW)


def test_selection_spreads_across_regions():
    """A slightly smaller story from another region beats a third story from the same region."""
    stories = [
        _story(1, 6, 5, "east-asia"),
        _story(2, 6, 4, "east-asia"),
        _story(3, 5, 4, "east-asia"),
        _story(4, 4, 3, "africa"),
        _story(5, 3, 3, "europe"),
    ]
    picked = [item.story_id for item in select_stories(stories, NOW, limit=3)]
    assert picked[0] == 1
    assert {4, 5} & set(picked)
    assert len({item.region for item in select_stories(stories, NOW, limit=3)}) >= 2


def test_near_duplicate_stories_are_not_both_picked_first():
    """Two stories with the same centroid: the second drops below a different one."""
    same = np.asarray([1.0, 0.0], dtype=np.float32)
    other = np.asarray([0.0, 1.0], dtype=np.float32)
    stories = [
        _story(1, 5, 5, "a", vector=same),
        _story(2, 5, 5, "b", vector=same),
        _story(3, 4, 4, "c", vector=other),
    ]
    assert [item.story_id for item in select_stories(stories, NOW, limit=2)] == [1, 3]


def test_novelty_skips_delivered_stories_without_new_coverage():
    """A story the channel already got comes back only with coverage since, and then at half weight."""
    delivered_at = NOW - timedelta(hours=3)
    old = _story(1, 5, 5, "a", hours_old=5)
    updated = _story(2, 5, 5, "b", hours_old=1)
    history = ChannelHistory({1: delivered_at, 2: delivered_at})
    picked = select_stories([old, updated, _story(3, 5, 5, "c")], NOW, history=history)
    assert [item.story_id for item in picked] == [3, 2]
    assert picked[1].novelty == 0.5


def test_channel_filters_match_every_group_that_is_set():
    """Countries, regions, topics, keywords and sources each narrow the stories."""
    story = _story(
        1, 2, 2, "east-asia", countries=("KP", "JP"), regions=("east-asia",), topics=("nuclear",), text="ICBM test"
    )
    assert ChannelFilters.from_json({"countries": ["kp"], "topics": ["nuclear"]}).matches(story)
    assert not ChannelFilters.from_json({"countries": ["KP"], "topics": ["elections"]}).matches(story)
    assert ChannelFilters.from_json({"keywords": ["icbm"]}).matches(story)
    assert not ChannelFilters.from_json({"sources": ["Nobody"]}).matches(story)
    assert ChannelFilters.from_json(None).matches(story)
