"""Questions: answers are sentences from stored articles with citations, or a plain "nothing on that"."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.errors import UserInputError
from bot.intelligence import NOTHING_FOUND, ask, process_new_articles
from bot.intelligence.search import rank_answers
from bot.platforms.console.render import render_answer
from bot.storage import Article
from tests.intelligence.conftest import NOW
from tests.intelligence.shared import article, eval_set, shared_encoder, store_articles


def _ask(archive, question: str, **options):
    return ask(archive.database, shared_encoder(), question, now=NOW, **options)


def test_answer_quotes_a_stored_sentence_and_cites_its_article(archive):
    """The answer is a sentence of the article, word for word, with title, outlet, link and date."""
    answer = _ask(archive, "How many tankers did the EU blacklist?")
    assert answer.found and 1 <= len(answer.sentences) <= 4
    best = answer.sentences[0]
    source = next(item for item in (article(k) for k in archive.ids) if archive.ids[item.key] == best.article_id)
    assert best.text in source.text and "117" in best.text
    assert (best.title, best.outlet, best.url, best.published_at) == (
        source.title,
        source.outlet,
        source.url,
        source.published,
    )
    assert answer.as_of == NOW  # processed after the (fixed) time of the question: "as of" that time


def test_unrelated_question_gets_nothing_instead_of_a_guess(archive):
    """Nothing relevant in the archive: no sentences, a plain message, still stamped with the time."""
    answer = _ask(archive, "Who won the football World Cup final?")
    assert not answer.found and answer.sentences == ()
    assert answer.message == NOTHING_FOUND
    assert "As of" in render_answer(answer)


def test_window_limits_the_search_to_recent_articles(archive):
    """The 2022 seed article is outside the default 30-day window, and found when the window is lifted."""
    question = "What did Kishida say about the islands near Taiwan?"
    assert not any(s.article_id == archive.ids["seed-biden-kishida"] for s in _ask(archive, question).sentences)
    whole = _ask(archive, question, window=None)
    assert whole.found and whole.sentences[0].article_id == archive.ids["seed-biden-kishida"]


def test_empty_question_is_refused(archive):
    """An empty question is a user error with an example."""
    with pytest.raises(UserInputError, match="Ask a question"):
        _ask(archive, "   ")


def test_empty_archive_answers_nothing(sqlite_database):
    """With no processed article, every question gets the plain answer."""
    answer = ask(sqlite_database, shared_encoder(), "Where did the Quad meet?", now=NOW)
    assert not answer.found and answer.searched == 0


def test_labelled_questions_reach_the_measured_recall(archive):
    """Recall@1/@3 over the labelled questions, and refusals for the unanswerable ones, stay at the measured level."""
    hits_at_1 = hits_at_3 = answerable = refused = unanswerable = 0
    for entry in eval_set()["questions"]:
        answer = _ask(archive, entry["question"], window=None)
        if not entry.get("answerable", True):
            unanswerable += 1
            refused += not answer.found
            continue
        answerable += 1
        gold = {(archive.ids[key], phrase) for key, phrase in entry["answers"]}
        correct = [any(a == s.article_id and p in s.text for a, p in gold) for s in answer.sentences]
        hits_at_1 += bool(correct[:1] and correct[0])
        hits_at_3 += any(correct[:3])
    assert refused == unanswerable
    assert hits_at_1 / answerable >= 0.75
    assert hits_at_3 / answerable >= 0.9


def test_one_fact_is_given_once_and_the_other_outlets_are_named(archive):
    """Three outlets report the 117 tankers: the reply gives the figure once and names the other two outlets."""
    answer = _ask(archive, "How many tankers did the EU blacklist in its new sanctions?")
    assert answer.found
    assert sum("117" in sentence.text for sentence in answer.sentences) == 1
    lead = answer.sentences[0]
    assert "117" in lead.text
    also = {other.outlet for other in lead.also_reported_by}
    assert len(also) == 2 and lead.outlet not in also
    outlets = [sentence.outlet for sentence in answer.sentences]
    assert len(outlets) == len(set(outlets)) and not also & set(outlets)


def test_a_sentence_near_the_question_without_its_answer_is_no_answer(archive):
    """Close in words and meaning is not enough: an ICBM question asking "how long" needs a duration-like figure,
    so "It was North Korea's first ICBM test in nearly a year." never leads."""
    answer = _ask(archive, "How long did North Korea's ICBM fly?")
    assert answer.found and "minutes" in answer.sentences[0].text


def test_names_found_at_processing_give_the_answers_found_from_the_text(archive, archive_copy):
    """Processing stores each article's names for answer selection; an archive processed before it stored them
    (no names stored) gets the same answers, the names then read from the article's text."""
    from sqlalchemy import update

    from bot.intelligence.processing import article_names_text
    from bot.storage.models import ArticleAnalysis
    from summarizer.answers import name_roots

    item = article("taiwan-drills-taipei")
    with archive.database.session() as session:
        stored = session.get_one(ArticleAnalysis, archive.ids[item.key]).name_roots
    assert stored is not None and set(stored) == name_roots(article_names_text(item.title, item.text))
    assert "taiwan" in stored

    questions = [entry["question"] for entry in eval_set()["questions"]]
    before = [ask(archive_copy, shared_encoder(), q, now=NOW, window=None) for q in questions]
    with archive_copy.session() as session:
        session.execute(update(ArticleAnalysis).values(name_roots=None))
    after = [ask(archive_copy, shared_encoder(), q, now=NOW, window=None) for q in questions]
    assert [a.sentences for a in after] == [b.sentences for b in before]
    assert sum(a.found for a in before) >= len(questions) // 2


def test_a_year_in_the_question_is_the_article_s_year_or_one_it_states(archive_copy):
    """A copy of the OPEC report published a year earlier, by another outlet: no article writes 2025 or 2026, so
    "in 2025" is answered from the copy alone (the 2026 reports are not even "also reported by"), "in 2026" from
    those, never the copy, and "in 2019" by none."""
    original = article("opec-riyadh")
    copy = replace(
        original,
        key="copy",
        outlet="Gulf Ledger",
        url="https://gulfledger.example/opec",
        published=original.published.replace(year=2025),
    )
    copy_id = store_articles(archive_copy, [copy])["copy"]
    process_new_articles(archive_copy, shared_encoder())

    def sources(year: int) -> set[int]:
        question = f"Until when will OPEC+ keep its oil output cuts agreed in {year}?"
        answer = ask(archive_copy, shared_encoder(), question, now=NOW, window=None)
        urls = {also.url for sentence in answer.sentences for also in sentence.also_reported_by}
        with archive_copy.session() as session:
            also = set(session.scalars(select(Article.id).where(Article.canonical_url.in_(urls))))
        return {sentence.article_id for sentence in answer.sentences} | also

    assert sources(2025) == {copy_id}
    assert sources(2026) and copy_id not in sources(2026)
    assert sources(2019) == set()


def test_the_answers_ask_chooses_from_are_ranked_by_the_question_word(archive):
    """`rank_answers` gives every answering sentence with what ranks it: its closeness to the question word's
    vector is the encoder's, the reply's lead is among them, and a question with nothing to answer gives none."""
    question = "How many tankers did the EU blacklist in its new sanctions?"
    ranked = rank_answers(archive.database, shared_encoder(), question, now=NOW)
    assert ranked and all(each.check.answers for _, each in ranked)
    how = shared_encoder().word_vector(question, "How")
    assert how is not None
    text, first = ranked[0]
    sentence = shared_encoder().encode([text])[0]
    assert first.rank.to_asked == pytest.approx(float(sentence @ how), abs=0.02)  # stored vectors are quantised
    assert _ask(archive, question).sentences[0].text in {text for text, _ in ranked}
    assert rank_answers(archive.database, shared_encoder(), "Who won the football World Cup final?", now=NOW) == []
