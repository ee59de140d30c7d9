"""Sentence splitting: offsets, abbreviations, quotes, datelines and bylines, lines and paragraphs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from summarizer.sentences import lead_in_length, split_sentences

ROOT = Path(__file__).resolve().parents[2]


def _texts(text: str, **kwargs) -> list[str]:
    return [s.text for s in split_sentences(text, **kwargs)]


def test_offsets_are_exact_on_real_articles(dev_rows, seed_text):
    """Every sentence is exactly the slice of the source its offsets name, in order, without overlap."""
    for text in [r["article"] for r in dev_rows] + [seed_text]:
        sentences = split_sentences(text)
        assert sentences
        previous_end = 0
        for i, s in enumerate(sentences):
            assert s.text == text[s.start : s.end]
            assert s.index == i
            assert s.start >= previous_end
            assert s.text == s.text.strip()
            previous_end = s.end


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. military said Gen. Mark Milley met officials on Jan. 6 in Washington. It was his first visit.",
            [
                "The U.S. military said Gen. Mark Milley met officials on Jan. 6 in Washington.",
                "It was his first visit.",
            ],
        ),
        ("He was born in the U.S. He moved in 1990.", ["He was born in the U.S.", "He moved in 1990."]),
        (
            "In 2008, then-Sen. Obama hammered the administration. He said so.",
            ["In 2008, then-Sen. Obama hammered the administration.", "He said so."],
        ),
        (
            "The talks continued at 3 p.m. Monday in the U.K. capital. Nobody left.",
            ["The talks continued at 3 p.m. Monday in the U.K. capital.", "Nobody left."],
        ),
        (
            "J.R.R. Tolkien wrote books. Acme Inc. made $3.5 billion in sales. No. 10 Downing St. issued a statement.",
            [
                "J.R.R. Tolkien wrote books.",
                "Acme Inc. made $3.5 billion in sales.",
                "No. 10 Downing St. issued a statement.",
            ],
        ),
        (
            "Lt. Col. James Smith and Maj. Gen. Lee spoke. Capt. Rob Jones agreed.",
            ["Lt. Col. James Smith and Maj. Gen. Lee spoke.", "Capt. Rob Jones agreed."],
        ),
    ],
)
def test_abbreviations_and_initials_do_not_end_sentences(text, expected):
    """Titles, initialisms, months, clock times and numbers stay inside their sentence."""
    assert _texts(text) == expected


def test_punctuation_only_fragments_join_the_sentence_before():
    """A stray '.' or a row of dots is not a sentence of its own."""
    assert _texts("They may be relegated. ..... The league ends in May. .") == [
        "They may be relegated. .....",
        "The league ends in May. .",
    ]


def test_quotes_split_into_their_sentences():
    """pysbd keeps whole quotations together; sentences inside a quote are split like any others."""
    text = '"Nobody cared. Rock and roll was a fad then," he said. "It was different." She agreed.'
    expected = ['"Nobody cared.', 'Rock and roll was a fad then," he said.', '"It was different."', "She agreed."]
    assert _texts(text) == expected


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("(CNN)Rescuers pulled a man out. He was alive.", "Rescuers pulled a man out."),
        ("Kathmandu, Nepal (CNN)Rescuers pulled a man out. He was alive.", "Rescuers pulled a man out."),
        ("WASHINGTON — The Senate voted on Friday. It passed.", "The Senate voted on Friday."),
        ("NEW YORK, N.Y. -- Stocks fell sharply. Bonds rose.", "Stocks fell sharply."),
        ("MOSCOW (Reuters) - Russia said it would respond. The Kremlin was silent.", "Russia said it would respond."),
        (
            "By John Smith | Updated 10:42 GMT, 3 March 2015 The Pentagon said troops had arrived. More will follow.",
            "The Pentagon said troops had arrived.",
        ),
        (
            "By . Daily Mail Reporter . PUBLISHED: . 12:01 EST, 3 April 2015 . | "
            ". UPDATED: . 14:22 EST, 3 April 2015 . A man was arrested on Friday. He is 23.",
            "A man was arrested on Friday.",
        ),
        (
            "By Jane Doe and John Roe, CNN Updated 10:42 AM ET, Tue March 3, 2015 The vote was 52 vs. 48. It passed.",
            "The vote was 52 vs. 48.",
        ),
    ],
)
def test_datelines_and_bylines_are_left_out_with_exact_offsets(text, first):
    """The first sentence starts after the dateline or byline; its offsets still point into the original."""
    sentences = split_sentences(text)
    assert sentences[0].text == first
    assert text[sentences[0].start : sentences[0].end] == first
    assert lead_in_length(text) == sentences[0].start


@pytest.mark.parametrize(
    "text",
    [
        "NATO allies met on Monday. They agreed.",
        "By the end of the week, prices had doubled. Few were surprised.",
        "Washington believes the special relationship is over. Officials disagree.",
    ],
)
def test_ordinary_first_sentences_are_not_mistaken_for_datelines(text):
    """Capitals, 'By' and place names that start a real sentence are kept."""
    assert lead_in_length(text) == 0
    assert split_sentences(text)[0].start == 0


def test_video_furniture_is_left_out():
    """ "Scroll down for video" in front of a sentence (or alone) is page furniture."""
    text = "He ran. Scroll down for video The man was arrested. Scroll down for video"
    assert _texts(text) == ["He ran.", "The man was arrested."]


def test_lines_headings_and_soft_wraps():
    """A heading line is its own sentence; a hard-wrapped line is not; paragraphs end sentences."""
    text = (
        "Security talks dominate the summit\n\n"
        "The leaders of the two countries met on Friday to discuss the growing tension in\n"
        "the region, officials said. They agreed to meet again.\n"
        "Unstable security situation\n"
        "The ministers warned of risks."
    )
    assert _texts(text) == [
        "Security talks dominate the summit",
        "The leaders of the two countries met on Friday to discuss the growing tension in\nthe region, officials said.",
        "They agreed to meet again.",
        "Unstable security situation",
        "The ministers warned of risks.",
    ]


def test_limit_returns_the_same_first_sentences(dev_rows):
    """Stopping early gives exactly the first sentences of a full split."""
    for row in dev_rows:
        full = split_sentences(row["article"])
        assert split_sentences(row["article"], limit=5) == full[:5]


@pytest.mark.parametrize("text", ["", "   \n\t ", "...", "—"])
def test_empty_or_wordless_text_has_no_sentences(text):
    """Nothing to split gives an empty list."""
    assert split_sentences(text) == []


def test_splitting_does_not_import_torch():
    """The tokenizer-free parts of the package work without loading torch or transformers."""
    code = (
        "import sys, summarizer\n"
        "from summarizer import split_sentences, LeadSummarizer\n"
        "assert split_sentences('One sentence here. Another one.')\n"
        "assert LeadSummarizer().summarize('A b c d e. F g h i j. K l m n o. P q r s t.').sentences\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]


def test_standfirst_line_without_full_stop_is_its_own_sentence():
    """Feed text has one paragraph per line: a long standfirst with no full stop does not run into the next line."""
    text = (
        "UN special envoy defends presence at Sochi talks after criticism from Syrian opposition\n"
        "A 50-strong commission representing most strands of Syrian society will draft a new constitution."
    )
    assert [s.text for s in split_sentences(text)] == text.split("\n")


def test_text_wrapped_at_a_fixed_width_is_rejoined():
    """Hard-wrapped text (lines of similar, bounded length) keeps a sentence that continues on the next line."""
    text = (
        "The foreign ministers of the two countries met in Geneva on Monday to\n"
        "discuss the ceasefire that has held since March, officials said after the\n"
        "Meeting of Ministers ended late in the evening with a joint statement.\n"
        "No date was set."
    )
    assert len(split_sentences(text)) == 2
