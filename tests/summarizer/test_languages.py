"""Other languages: their words, sentence rules, agency datelines, country names and the honest fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from summarizer.languages import content_words, encoder_covers, language_code, language_name, sentence_rules
from summarizer.results import StoryDocument
from summarizer.sentences import split_sentences
from summarizer.stories import (
    JOIN_THRESHOLD,
    UNCOVERED_JOIN_THRESHOLD,
    StoryFeatures,
    cluster_articles,
    similarity_matrix,
    weighted_terms,
)
from summarizer.story import lead_summary
from summarizer.tagging import Tagger

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_content_words_drop_the_languages_own_function_words():
    """Portuguese "de", "em", "que" say nothing about the event; names and figures stay."""
    words = content_words("O índice Dow Jones fechou em baixa de 0,68% nesta segunda-feira que passou", "pt")
    assert "de" not in words and "em" not in words and "que" not in words
    assert {"índice", "dow", "jones", "068"} <= set(words)  # figures without separators, as in English
    assert content_words("Die Regierung hat das Gesetz über die Rente beschlossen", "de") == [
        "regierung",
        "gesetz",
        "rente",
        "beschlossen",
    ]


def test_japanese_is_compared_by_character_pairs_without_kana_particles():
    """Han and katakana runs give overlapping pairs; hiragana (particles) is left out; Latin names stay."""
    words = content_words("日本政府はG7の首脳会議で発表した。", "ja")
    assert "日本" in words and "政府" in words and "首脳" in words
    assert not any(char in "はので" for word in words for char in word)
    assert "g7" in words


def test_sentence_rules_and_coverage():
    """pysbd's rules per language (Portuguese borrows Spanish); unknown text counts as English."""
    assert sentence_rules("de") == "de" and sentence_rules("pt") == "es" and sentence_rules("xx") == "en"
    assert encoder_covers(frozenset({"en"}), None) and not encoder_covers(frozenset({"en"}), "pt")
    assert encoder_covers(None, "ja")
    assert language_code("Portuguese") == "pt" and language_code("deu") == "de" and language_code("Klingonish") is None
    assert language_name("ja") == "Japanese"


@pytest.mark.parametrize(
    ("text", "language", "first"),
    [
        ("     Nova York, 24 set (EFE).- O índice Dow Jones fechou em baixa. Outra frase.", "pt", "O índice Dow Jones"),
        ("MADRI, 24 SET (ANSA) - A ex-enfermeira de Chávez prestou depoimento hoje.", "pt", "A ex-enfermeira"),
        ("Quito, 24 Set 2018 (AFP) - O fundador do WikiLeaks renunciou ao asilo.", "pt", "O fundador"),
        ("Por Matt Spetalnick e Jason Szep\nWASHINGTON (Reuters) - Um relatório acusa.", "pt", "Um relatório"),
        ("Berlin (dpa) - Die Bundesregierung hat am Montag beschlossen. Das Kabinett stimmte zu.", "de", "Die Bundes"),
        ("Ciudad de México, 3 ene (EFE).- El Gobierno anunció un plan. La oposición protestó.", "es", "El Gobierno"),
        ("Rio de Janeiro, 24 set (Agência Brasil) - O governo anunciou medidas.", "pt", "O governo"),
    ],
)
def test_agency_datelines_are_never_part_of_a_sentence(text, language, first):
    """A dateline with its agency tag is not article text: the first sentence starts after it."""
    sentences = split_sentences(text, language=language)
    assert sentences[0].text.startswith(first)
    assert all(s.text == text[s.start : s.end] for s in sentences)


def test_a_byline_alone_and_read_more_links_are_no_sentences():
    """A teaser that is only a byline gives no sentence; "Leia mais (...)" is a link, not text."""
    assert split_sentences("                Por Matt Spetalnick e Jason Szep ", language="pt") == []
    text = "Já são mais de 500 mil testes completos no Match Eleitoral. Leia mais (09/24/2018 - 19h22)"
    assert [s.text for s in split_sentences(text, language="pt")] == [
        "Já são mais de 500 mil testes completos no Match Eleitoral."
    ]


def test_language_rules_split_other_languages():
    """Japanese ends sentences at 。; Spanish titles ("Sra.") do not end one."""
    assert len(split_sentences("政府は24日、閣議を開いた。首相は記者団に語った。", language="ja")) == 2
    assert len(split_sentences("La Sra. García dijo que aprobará la ley. Nadie protestó.", language="es")) == 2


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("pt", "Os Estados Unidos e a Alemanha assinaram o acordo em Berlim. Os EUA comemoraram.", {"US", "DE"}),
        ("de", "Die Vereinigte Staaten und Japan verhandeln. Das Kanzleramt in Berlin schweigt.", {"US", "JP", "DE"}),
        ("es", "Estados Unidos y Alemania firmaron el acuerdo. El Gobierno de Japón lo celebró.", {"US", "DE", "JP"}),
        ("ja", "日本政府は24日、米国と中国の首脳会談について発表した。", {"JP", "US", "CN"}),
    ],
)
def test_country_names_in_each_bundled_language(language, text, expected):
    """pycountry's translations plus the curated aliases tag countries named in the article's language."""
    assert set(Tagger(None).tag(text, language=language).countries) == expected


def test_other_languages_names_do_not_change_english_tagging():
    """Translated names are matched only in their language's articles."""
    assert Tagger(None).tag("Alemanha is a word this English text only quotes.").countries == ()
    assert Tagger(None).tag("Alemanha e Japão", language="pt").countries == ("DE", "JP")


class _English:
    """A stand-in encoder declaring English only (what a monolingual model is taken as)."""

    languages = frozenset({"en"})

    def encode(self, texts):
        return np.ones((len(texts), 4), dtype=np.float32) / 2


def test_topic_similarity_is_not_used_where_the_encoder_does_not_cover_the_language():
    """In Portuguese the English encoder gives no topic evidence: only keyword hits could tag a topic."""
    tags = Tagger(_English()).tag("Forças armadas realizaram exercícios militares com mísseis.", language="pt")
    assert all(item.similarity is None for item in tags.evidence)
    assert any(item.similarity is not None for item in Tagger(_English()).tag("Troops held drills.").evidence)


def _features(words: str, axis: int, language: str, hours: float = 0) -> StoryFeatures:
    vector = np.zeros(4, dtype=np.float32)
    vector[axis] = 1.0
    terms = weighted_terms(words, words, words, language)
    return StoryFeatures.of(vector, terms, T0 + timedelta(hours=hours), language)


def test_uncovered_languages_are_clustered_on_words_alone_at_the_stricter_threshold():
    """Identical encoder vectors join nothing in Portuguese; shared words join only past the stricter threshold."""
    poll = _features("Ibope Bolsonaro perde para Haddad no segundo turno", 0, "pt")
    nurse = _features("Enfermeira de Chávez alega perseguição em corte espanhola", 0, "pt", 1)
    poll_again = _features("Ibope Bolsonaro estaciona e Haddad avança no segundo turno", 1, "pt", 2)
    similarity = similarity_matrix([poll, nurse, poll_again])
    assert similarity[0, 1] == pytest.approx(0.0, abs=1e-6)  # the same vector says nothing in Portuguese
    labels = cluster_articles([poll, nurse, poll_again])
    assert labels[0] == labels[2] != labels[1]
    # in English the same vectors would count for half the similarity
    english = [_features("strike ports", 0, "en"), _features("court ruling", 0, "en", 1)]
    assert similarity_matrix(english)[0, 1] == pytest.approx(0.5, abs=1e-6)
    # words alone must reach UNCOVERED_JOIN_THRESHOLD, which lands on JOIN_THRESHOLD
    assert JOIN_THRESHOLD / UNCOVERED_JOIN_THRESHOLD > 1.0


def test_a_multilingual_encoder_covers_every_language():
    """With a multilingual encoder, the vectors count in Portuguese too, and languages may join."""
    a, b = _features("Ibope", 0, "pt"), _features("Haddad", 0, "de", 1)
    assert similarity_matrix([a, b], multilingual=True)[0, 1] == pytest.approx(0.5, abs=1e-6)
    assert similarity_matrix([a, b])[0, 1] == 0.0


def test_lead_summary_takes_the_opening_article_text():
    """The fallback summary is the article's own lead, without the dateline, and claims no other article."""
    document = StoryDocument(
        text="Nova York, 24 set (EFE).- O índice Dow Jones Industrial fechou nesta segunda-feira em baixa de 0,68%. "
        "O mercado acompanhou a disputa comercial entre Estados Unidos e China.",
        doc_id="7",
    )
    summary = lead_summary(document, max_sentences=1, language="pt")
    assert summary.method == "story-lead"
    assert [s.text for s in summary.sentences] == [
        "O índice Dow Jones Industrial fechou nesta segunda-feira em baixa de 0,68%."
    ]
    assert summary.sentences[0].also_in == () and summary.sentences[0].doc_id == "7"
