"""Languages in briefs, subscriptions and digests, and an optional multilingual encoder through the settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.digests.model import ChannelRef, Digest
from bot.digests.subscriptions import Actor, SubscriptionRequest, channel_language, label_language, subscribe
from bot.errors import UserInputError
from bot.intelligence import brief, encoder_for, process_new_articles
from bot.platforms.console.render import render_digest
from bot.platforms.slack.commands import parse_command
from bot.storage import Article, Database, Story
from summarizer.encoder import covered_languages
from tests.intelligence.conftest import NOW
from tests.intelligence.shared import article, shared_encoder, store_articles

CHANNEL = ChannelRef("slack", "T1", "C1")
ADMIN = Actor("U1", can_manage=True, name="admin")
# One Portuguese report of the Qeshm earthquake (a test article's event), as a Brazilian outlet would run it.
QUAKE_PT = (
    "Um terremoto de magnitude 5,6 atingiu a ilha de Qeshm, no sul do Irã, nesta terça-feira, deixando cinco "
    "feridos, segundo a agência de notícias iraniana. Casas foram danificadas em três aldeias da ilha."
)


def _store_portuguese(database: Database, key: str, text: str = QUAKE_PT, hours: float = 1) -> int:
    base = article("taiwan-election-taipei")
    item = replace(base, key=key, url=f"https://noticias.example/{key}", outlet="Notícias", text=text, title=text[:60])
    item = replace(item, published=base.published + timedelta(hours=hours))
    article_id = store_articles(database, [item])[key]
    with database.session() as session:
        session.get_one(Article, article_id).language = "pt"
    return article_id


@pytest.mark.slow
def test_languages_filter_briefs_and_labels_items_in_another_language(sqlite_database: Database):
    """`languages` keeps stories in those languages; a story not in the channel's language says which it is in."""
    store_articles(sqlite_database, [article("opec-riyadh"), article("opec-london")])
    _store_portuguese(sqlite_database, "quake-pt")
    process_new_articles(sqlite_database, shared_encoder())
    with sqlite_database.session() as session:
        languages = {story.title: story.language for story in session.scalars(select(Story))}
    # the two English reports are one story
    assert sorted(str(language) for language in languages.values()) == ["en", "pt"]

    portuguese = brief(sqlite_database, now=NOW, languages=["pt"])
    assert [story.item.language for story in portuguese.stories] == ["pt"]
    assert portuguese.description == "Portuguese"
    everything = brief(sqlite_database, now=NOW)
    items = [label_language(story.item, "en") for story in everything.stories]
    assert sorted(item.language_label for item in items) == ["", "in Portuguese"]
    digest = Digest.from_json(Digest("Brief", NOW, tuple(items)).to_json())
    assert "in Portuguese" in render_digest(digest)
    assert [label_language(story.item, "pt").language_label for story in portuguese.stories] == [""]


def test_subscription_languages_are_resolved_shown_and_checked(database: Database):
    """Names or codes become ISO codes; settings show the names; an unknown language is explained."""
    info = subscribe(database, CHANNEL, SubscriptionRequest(languages=["Portuguese", "en"]), ADMIN, now=NOW)
    assert info.filters["languages"] == ["pt", "en"]
    assert "languages: Portuguese, English" in info.describe_filters()
    assert channel_language(info.filters) == "pt"
    assert channel_language({}) == "en"
    with pytest.raises(UserInputError, match='Unknown language "Elvish"'):
        subscribe(database, CHANNEL, SubscriptionRequest(languages=["Elvish"]), ADMIN, now=NOW)


def test_slack_commands_take_languages():
    """`/news subscribe languages="pt, de"` and `/news brief Brazil languages=pt`."""
    assert parse_command('subscribe languages="pt, German"').subscription.languages == ["pt", "German"]
    command = parse_command("brief Brazil languages=pt max=3")
    assert (command.text, command.languages, command.limit) == ("Brazil", ("pt",), 3)


def _tiny_multilingual_model(path: Path) -> None:
    """A tiny random BERT saved as a sentence-transformers-style folder (MiniLM's tokenizer), built here."""
    from transformers import BertConfig, BertModel

    tokenizer = shared_encoder()._tokenizer
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)


@pytest.mark.slow
def test_a_configured_multilingual_encoder_lets_languages_join(sqlite_database: Database, tmp_path: Path):
    """SENTENCE_ENCODER loads a local model through the same code; declared multilingual, languages may mix."""
    _tiny_multilingual_model(tmp_path / "model")
    settings = Settings(
        _env_file=None,
        encoder_threads=2,
        encoder_bf16=False,
        sentence_encoder=str(tmp_path / "model"),
        sentence_encoder_multilingual=True,
    )
    encoder = encoder_for(settings)
    assert encoder.model_path == tmp_path / "model" and covered_languages(encoder) is None
    assert encoder.encode(["Ein Erdbeben erschüttert Qeshm.", "Um terremoto atinge Qeshm."]).shape == (2, 16)
    assert covered_languages(shared_encoder()) == frozenset({"en"})
    assert covered_languages(encoder_for(replace_settings(settings, multilingual=False))) == frozenset({"en"})

    # One wire report run by a Portuguese and a German outlet: the same words, labelled in two languages.
    first = _store_portuguese(sqlite_database, "wire-pt", QUAKE_PT, hours=1)
    second = _store_portuguese(sqlite_database, "wire-de", QUAKE_PT, hours=2)
    with sqlite_database.session() as session:
        session.get_one(Article, second).language = "de"
    process_new_articles(sqlite_database, encoder)
    with sqlite_database.session() as session:
        stories = {session.get_one(Article, first).story_id, session.get_one(Article, second).story_id}
    assert len(stories) == 1


def replace_settings(settings: Settings, *, multilingual: bool) -> Settings:
    """The same settings with the multilingual flag changed (Settings are frozen)."""
    return settings.model_copy(update={"sentence_encoder_multilingual": multilingual})


@pytest.mark.slow
def test_without_a_multilingual_encoder_languages_never_join(sqlite_database: Database):
    """The same pair with the English-only MiniLM: two stories, since nothing compares across languages."""
    first = _store_portuguese(sqlite_database, "wire-pt", QUAKE_PT, hours=1)
    second = _store_portuguese(sqlite_database, "wire-de", QUAKE_PT, hours=2)
    with sqlite_database.session() as session:
        session.get_one(Article, second).language = "de"
    process_new_articles(sqlite_database, shared_encoder())
    with sqlite_database.session() as session:
        assert session.get_one(Article, first).story_id != session.get_one(Article, second).story_id
