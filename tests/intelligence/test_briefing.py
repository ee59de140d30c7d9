"""Briefs and digest selection: top stories by topic, country or region, with summaries, sources and counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.digests.model import DigestItem
from bot.digests.present import present_item
from bot.errors import UserInputError
from bot.intelligence import brief, resolve_filters, select_digest_stories
from bot.platforms.console.render import render_item
from tests.intelligence.conftest import NOW

FORTNIGHT = timedelta(days=14)


def _brief(archive, query: str = "", **options):
    return brief(archive.database, query, now=NOW, **options)


def test_brief_lists_stories_with_summary_sources_and_counts(archive):
    """Each story has a title, summary lines pointing at its sources, and outlet/country counts."""
    result = _brief(archive, window=FORTNIGHT, limit=10)
    assert len(result.stories) == 10
    for story in result.stories:
        item = story.item
        assert item.title and item.sources and item.summary
        assert all(0 <= line.source < len(item.sources) for line in item.summary)
        assert story.outlet_count >= len({source.outlet for source in item.sources})
        assert story.country_count <= story.outlet_count
    assert result.stories[0].outlet_count >= 2
    assert isinstance(result.stories[0].item, DigestItem)
    assert "outlets" in render_item(present_item(result.stories[0].item, 1, "detailed"))


def test_brief_by_topic_country_and_region(archive):
    """A topic, a country (by any name) and a region each narrow the brief to their stories."""
    nuclear = {story.item.title for story in _brief(archive, "nuclear", window=FORTNIGHT).stories}
    assert any("ICBM" in title for title in nuclear) and any("uranium" in title for title in nuclear)
    kremlin = _brief(archive, "the Kremlin", window=FORTNIGHT)
    assert kremlin.description == "Russia" and all("Russia" in story.item.countries for story in kremlin.stories)
    sahel = _brief(archive, "Sahel", window=FORTNIGHT)
    assert any("Mali" in story.item.countries for story in sahel.stories)
    assert all(
        {"Mali", "Sudan", "Niger", "Chad", "Burkina Faso"} & set(story.item.countries) for story in sahel.stories
    )
    both = _brief(archive, "sanctions Russia", window=FORTNIGHT)
    assert both.description == "sanctions and trade · Russia"
    assert any("sanctions" in story.item.title for story in both.stories)


def test_brief_spreads_across_regions(archive):
    """The top five stories of the fortnight come from at least four regions."""
    result = _brief(archive, window=FORTNIGHT)
    filters, description = resolve_filters("")
    assert description == ""  # no filter, not a word that could be a filter's name
    assert filters.countries == frozenset()
    regions = {story.item.countries[0] if story.item.countries else "" for story in result.stories}
    assert len(regions) >= 4


def test_brief_with_nothing_recent_says_so(archive):
    """No matching story in the window: an empty brief with a plain message."""
    result = _brief(archive, "elections", window=timedelta(hours=1))
    assert result.stories == () and "No stories on elections" in result.message


def test_unknown_topic_is_a_polite_error_with_suggestions():
    """A misspelt name gets suggestions; the message lists the topics."""
    with pytest.raises(UserInputError, match="Did you mean: Japan") as error:
        resolve_filters("Japn")
    assert "security and defence" in str(error.value)
    with pytest.raises(UserInputError, match="Atlantis"):
        resolve_filters("Atlantis")


def test_digest_selection_skips_what_the_channel_already_has(archive):
    """Stories delivered before with no coverage since are left out; filters from the subscription apply."""
    first = select_digest_stories(archive.database, now=NOW, window=FORTNIGHT, limit=3)
    delivered = {story.story_id: NOW for story in first}
    second = select_digest_stories(archive.database, now=NOW, window=FORTNIGHT, limit=3, delivered=delivered)
    assert not {story.story_id for story in first} & {story.story_id for story in second}
    filtered = select_digest_stories(
        archive.database, now=NOW, window=FORTNIGHT, filters={"regions": ["middle-east"], "topics": ["nuclear"]}
    )
    assert filtered and all("nuclear and missiles" in story.item.topics for story in filtered)
