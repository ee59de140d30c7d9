"""Sentence splitting for news text, with character offsets into the original text.

pysbd (rule-based, no model) does the splitting. Three repairs on top of it, each measured on the dev set
(see docs/summarizer.md): a split right after a title abbreviation ("then-Sen. Obama"), after "a.m."/"p.m."
before a weekday, or in front of a fragment with no letters is undone; and a dateline or byline in front of
the first sentence ("(CNN)", "Kathmandu, Nepal (CNN)", "WASHINGTON —", "By Jane Doe | Updated 10:42 GMT,
3 March 2015") is left out of that sentence's text (its ``start`` moves past it) so that it neither
counts for scoring nor shows up in a summary. Offsets always stay exact: ``text == source[start:end]``.

Other languages: pysbd's rules for the text's language are used when given (``language=``; Portuguese uses the
Spanish rules, pysbd has none of its own), and the datelines and bylines of agency copy in German, Spanish,
Portuguese, French and Italian ("Nova York, 24 set (EFE).-", "MADRI, 24 SET (ANSA) -", "Berlin (dpa) -",
"Por Matt Spetalnick e Jason Szep") are recognised too. "Read more" lines in those languages are dropped.

This module does not import torch.
"""

from __future__ import annotations

import re

import pysbd

from summarizer.languages import sentence_rules
from summarizer.results import Sentence

__all__ = ["lead_in_length", "split_sentences"]

# Title abbreviations that essentially never end an English news sentence, so a split right after one
# ("Gen. | Mark Milley", "then-Sen. | Obama") is a splitter error. "St." and "No." are left out on purpose:
# "on Elm St." and "said No." can end a sentence.
_TITLE_ABBREVIATIONS = frozenset(
    {
        "Mr", "Mrs", "Ms", "Dr", "Gen", "Gens", "Sen", "Sens", "Rep", "Reps", "Gov", "Lt", "Col", "Maj", "Capt", "Cpt",
        "Sgt", "Cpl", "Pvt", "Adm", "Cmdr", "Cdr", "Brig", "Prof", "Rev", "Hon", "Pres", "Amb", "Supt", "Det", "Insp",
        "Messrs", "Mme", "Mlle", "Sec", "Atty", "Sra", "Srta", "Sres", "Dra", "Profa",
    }
)  # fmt: skip
# Month abbreviations: a split after one is only an error when a day number follows ("Jan. | 6").
_MONTH_ABBREVIATIONS = frozenset({"Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"})
_CLOCK_FOLLOWERS = frozenset(
    {
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
        "today", "tonight", "tomorrow", "yesterday", "local",
        "ET", "EST", "EDT", "CT", "CST", "CDT", "PT", "PST", "PDT", "GMT", "BST", "UTC", "CET", "CEST",
    }
)  # fmt: skip

_LAST_WORD = re.compile(r"(?:^|[\s(\"'“‘-])([A-Za-z][A-Za-z.]*)\.[\"'”’)]*\s*$")
_CLOCK_END = re.compile(r"\b[ap]\.m\.\s*$", re.IGNORECASE)
_FIRST_WORD = re.compile(r"\s*[\"'“‘(]*([\w-]+)")
_HAS_WORD = re.compile(r"[^\W_]")

# pysbd keeps everything between quote marks in one segment, and one unbalanced quote can glue a dozen
# sentences together (1,889 characters once on the dev set). Inside each segment, a boundary is therefore also
# placed after terminal punctuation that follows an ordinary word (two or more letters with a lower-case one,
# or digits) when an upper-case letter follows; abbreviations never qualify.
_INNER_BOUNDARY = re.compile(r"(?<=[^\s.])([.!?]+[\"'”’)\]]*)\s+(?=[\"'“‘(\[]*[A-Z])")
_WORD_BEFORE = re.compile(r"([\w'’-]+)$")
_LINE = re.compile(r"[^\n]*[^\s][^\n]*")
_SOFT_WRAP = re.compile(r"(?<=[^\s.!?:;\"'”’])[ \t]*(?P<nl>\n)[ \t]*(?P<next>[^\s])")
_WRAPPED_LINE_CHARS = 60  # in wrapped text, a line this long that does not end a sentence continues on the next
_WRAP_WIDTH_MAX = 100  # wrapped text keeps every line at most this long
_CHUNK_CHARS = 600  # pysbd input size: its cost per character grows with the input, see _raw_spans
_NOT_SENTENCE_END = _TITLE_ABBREVIATIONS | frozenset(
    {"Inc", "Co", "Corp", "Ltd", "Jr", "Sr", "St", "No", "vs", "etc", "al", "approx", "est", "cf"}
)

# --- datelines and bylines in front of the first sentence -------------------------------------------------
_AGENCIES = (
    r"CNN|CNN Money|CNNMoney|CNN Student News|EW\.com|Reuters|AP|AFP|UPI|Bloomberg|dpa|Xinhua|PA|BBC"
    r"|EFE|ANSA|Lusa|DPA|KNA|epd|APA|AFPTV|Europa Press|EP|Kyodo|Yonhap|TASS|Agência Brasil|Estadão Conteúdo"
    r"|Folhapress|Télam|Notimex|SDA|Belga|ANP|AGI|Adnkronos|Agencia Brasil|Sputnik|RIA Novosti"
)
# Month names and abbreviations of the agency datelines in German, Spanish, Portuguese, French and Italian
# ("24 set", "24. Februar 2016"), matched without regard to case ("24 SET").
_FOREIGN_MONTHS = (
    r"(?i:jan(?:eiro|vier|uar)?|fev(?:ereiro)?|févr(?:ier)?|feb(?:rero|ruar|braio)?|mar(?:ço|zo|s)?|märz|abr(?:il)?"
    r"|avr(?:il)?|apr(?:ile)?|mai(?:o)?|may(?:o)?|jun(?:ho|io|i)?|juin|giu(?:gno)?|jul(?:ho|io|i)?|juil(?:let)?"
    r"|lug(?:lio)?|ago(?:sto)?|août|aug(?:ust)?|set(?:embro|tembre)?|sep(?:tiembre|tember|t)?|out(?:ubro)?"
    r"|oct(?:ubre|obre)?|okt(?:ober)?|ott(?:obre)?|nov(?:embro|iembre|embre|ember)?|dez(?:embro|ember)?"
    r"|dic(?:iembre|embre)?|déc(?:embre)?|ene(?:ro)?|gen(?:naio)?)"
)
_MONTHS = (
    r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?"
    r"|Nov(?:ember)?|Dec(?:ember)?"
)
_DATE = rf"(?:(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\.?,?\s+\d{{4}})"
_PLACE_WORD = r"[A-Z][\w.'’-]*"
_PLACE_JOINER = r"(?:de|da|do|dos|das|del|la|el|am|an|im|sur|di)"  # "Rio de Janeiro", "Frankfurt am Main"
_AGENCY_DATE = rf",?\s*\d{{1,2}}\.?\s+{_FOREIGN_MONTHS}\.?(?:\s+\d{{4}})?"  # ", 24 set", ", 24 Set 2018"
_LEAD_IN_PIECES = (
    # "(CNN)", "Kathmandu, Nepal (CNN)", "MOSCOW (Reuters) -", "Nova York, 24 set (EFE).-", "Berlin (dpa) -"
    re.compile(
        rf"(?:{_PLACE_WORD}(?:,?\s+(?:{_PLACE_JOINER}\s+)?{_PLACE_WORD}){{0,5}}(?:{_AGENCY_DATE})?\s*)?"
        rf"\((?:{_AGENCIES})\)\s*\.?\s*(?:(?:--|[—–-])\s*)?"
    ),
    # "WASHINGTON —", "NEW YORK, N.Y. --", "LONDON, England -": an all-capitals place, then a dash
    re.compile(
        r"[A-Z][A-Z.'’-]+(?:\s[A-Z][A-Z.'’-]+){0,3}(?:,\s*[A-Z][\w.'’-]*(?:\s[A-Z][\w.'’-]*){0,2})?\s*(?:--|[—–-])\s+"
    ),
    # "By Jane Doe |", "By . Daily Mail Reporter .", "By Jane Doe and John Roe, CNN" followed by a separator
    re.compile(
        r"(?:By|Por|Von|Par|Di|Door)\s+(?:\.\s+)?(?:(?:[A-Z][\w'’.-]*|and|&|de|van|von|al|bin|e|y|und|et)\s*){1,8}"
        r"(?:,\s*(?:[A-Z][\w'’.-]*\s*){1,4})?\s*(?=\||\.\s|\n|\s*$|PUBLISHED|UPDATED|Updated|Published|Last updated)"
    ),
    # "PUBLISHED: . 12:01 EST, 3 April 2015", "Updated 10:42 AM ET, Tue March 3, 2015"
    re.compile(rf"(?:PUBLISHED|UPDATED|Published|Updated|Last updated|Posted)\s*:?\s*\.?\s*.{{0,40}}?{_DATE}\s*"),
    # the separators between those pieces: "|", a lone ".", a dash
    re.compile(r"(?:\||\.(?=\s)|--|[—–])\s*"),
)
# Daily Mail pages put this in front of the sentence after a video; it is page furniture, not article text.
_FURNITURE_PREFIX = re.compile(r"Scroll down (?:for|to (?:watch|see)) (?:the )?videos?(?:\s+|$)")
# A link to the rest of the article, in the languages of the bundled feeds: never a sentence of it.
_READ_MORE = re.compile(
    r"(?:read more|continue reading|leia mais|saiba mais|leer más|lee más|weiterlesen|mehr lesen|lire la suite"
    r"|continua a leggere|leggi tutto|続きを読む)\b",
    re.IGNORECASE,
)
_MAX_LEAD_IN = 200  # a dateline plus byline is never longer than this; never strip more


def lead_in_length(text: str) -> int:
    """Return how many leading characters of ``text`` are a dateline or byline rather than article text."""
    pos = len(text) - len(text.lstrip())
    consumed = pos
    found = False
    progress = True
    while progress and pos < _MAX_LEAD_IN:
        progress = False
        for pattern in _LEAD_IN_PIECES:
            m = pattern.match(text, pos)
            if m and m.end() > pos:
                pos = m.end()
                pos += len(text[pos:]) - len(text[pos:].lstrip())
                progress = True
                # separators count only after a real piece: a text may well start with "—" or "|"
                found = found or pattern is not _LEAD_IN_PIECES[-1]
                if found:
                    consumed = pos
                break
    return consumed if consumed <= _MAX_LEAD_IN else 0


_DATELINE_LINES = 3  # a page's text may put its headline and standfirst above the dateline


def _agency_datelines(text: str) -> list[tuple[int, int]]:
    """Agency datelines ("Nova York, 24 set (EFE).-") opening one of the first lines after the first one."""
    found = []
    for number, line in enumerate(_LINE.finditer(text)):
        if number == 0:
            continue
        if number > _DATELINE_LINES:
            break
        start = line.start() + len(line.group(0)) - len(line.group(0).lstrip())
        match = _LEAD_IN_PIECES[0].match(text, start, line.end())
        if match and match.end() < line.end():
            found.append((start, match.end() + len(text[match.end() :]) - len(text[match.end() :].lstrip())))
    return found


def _unwrap(text: str) -> str:
    """Return a copy of ``text`` of the same length in which soft line wraps are spaces.

    pysbd ends a sentence at every newline. That is right for one-paragraph-per-line text (what trafilatura
    gives) but wrong for hard-wrapped text, so a single newline counts as a wrap when the line before it does
    not end a sentence and either the next line starts in lower case or the line before is long. Replacing
    one character by one character keeps every offset valid for the original text.
    """
    if "\n" not in text:
        return text
    chars = list(text)
    hard_wrapped = _looks_hard_wrapped(text)
    for m in _SOFT_WRAP.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        long_line = m.start() - line_start >= _WRAPPED_LINE_CHARS
        if m.group("next")[0].islower() or (hard_wrapped and long_line):
            chars[m.start("nl")] = " "
    return "".join(chars)


def _looks_hard_wrapped(text: str) -> bool:
    """True for text wrapped at a fixed width: lines of bounded length, most of them nearly full.

    Feed and page text has one paragraph per line, where a long line without a full stop is a standfirst or a
    heading, not half a sentence; only in wrapped text does such a line continue on the next.
    """
    lengths = [len(line) for line in text.splitlines() if line.strip()]
    long_lines = sum(length >= _WRAPPED_LINE_CHARS for length in lengths)
    return len(lengths) >= 3 and max(lengths) <= _WRAP_WIDTH_MAX and long_lines * 3 >= len(lengths) * 2


def _cut_ok(text: str, start: int, m: re.Match[str]) -> bool:
    """Return True when the punctuation matched by ``_INNER_BOUNDARY`` ends a sentence (not an abbreviation)."""
    before = _WORD_BEFORE.search(text, max(start, m.start(1) - 40), m.start(1))  # a window keeps it linear
    word = before.group(1) if before else ""
    if word in _NOT_SENTENCE_END or word in _MONTH_ABBREVIATIONS or "." in word:
        return False
    return word.isdigit() or (len(word) >= 2 and any(c.isalpha() for c in word))


def _pysbd_spans(text: str, start: int, end: int, rules: str = "en") -> list[tuple[int, int]]:
    """Return pysbd's segments of text[start:end] as whitespace-trimmed (start, end) spans of ``text``."""
    chunk = text[start:end]
    # Segmenter.segment() maps each sentence back with a freshly compiled regex of the whole sentence, which
    # was 40% of its run time; the processor's sentences are found with str.find instead (same result on the
    # dev set). A Segmenter is cheap and not thread-safe, so each call makes its own.
    segments = pysbd.Segmenter(language=rules, clean=False).processor(chunk).process()
    spans: list[tuple[int, int]] = []
    cursor = 0
    for seg in segments:
        stripped = seg.strip()
        if not stripped:
            continue
        # clean=False keeps the text, so the segment is normally right at the cursor; find() is the fallback
        at = chunk.find(stripped, cursor)
        if at < 0:
            continue
        spans.append((start + at, start + at + len(stripped)))
        cursor = at + len(stripped)
    return spans


def _raw_spans(text: str, limit: int | None, rules: str = "en") -> list[tuple[int, int]]:
    """Split ``text`` (already unwrapped) into sentence spans: per line, in chunks, pysbd plus inner cuts."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        lo, hi = line.span()
        cuts = [m.end() for m in _INNER_BOUNDARY.finditer(text, lo, hi) if _cut_ok(text, lo, m)]
        # pysbd's run time grows faster than linearly with its input (4000 characters take 7x as long as 1000),
        # so long lines go to it in pieces of about _CHUNK_CHARS, cut at boundaries that are certain anyway.
        chunk_lo = lo
        bounds: list[tuple[int, int]] = []
        for cut in cuts:
            if cut - chunk_lo >= _CHUNK_CHARS:
                bounds.append((chunk_lo, cut))
                chunk_lo = cut
        bounds.append((chunk_lo, hi))
        ci = 0
        for b_lo, b_hi in bounds:
            for s_lo, s_hi in _pysbd_spans(text, b_lo, b_hi, rules):
                while ci < len(cuts) and cuts[ci] <= s_lo:
                    ci += 1
                piece_lo = s_lo
                while ci < len(cuts) and cuts[ci] < s_hi:
                    piece_hi = piece_lo + len(text[piece_lo : cuts[ci]].rstrip())
                    if piece_hi > piece_lo:
                        spans.append((piece_lo, piece_hi))
                    piece_lo = cuts[ci]
                    ci += 1
                spans.append((piece_lo, s_hi))
            if limit is not None and len(spans) > limit + 1:  # one extra: a repair may merge the last two
                return spans
    return spans


def _wrongly_split(left: str, right: str) -> bool:
    """Return True when the boundary between ``left`` and ``right`` is a known pysbd error."""
    if not _HAS_WORD.search(right):
        return True  # "....." or a stray "." is not a sentence
    first = _FIRST_WORD.match(right)
    first_word = first.group(1) if first else ""
    if not first_word:
        return False
    last = _LAST_WORD.search(left)
    if last:
        word = last.group(1)
        if word in _TITLE_ABBREVIATIONS and (first_word[0].isupper() or first_word[0].isdigit()):
            return True
        if word in _MONTH_ABBREVIATIONS and first_word[0].isdigit():
            return True
    return bool(_CLOCK_END.search(left) and (first_word in _CLOCK_FOLLOWERS or first_word[0].islower()))


def split_sentences(text: str, *, limit: int | None = None, language: str | None = None) -> list[Sentence]:
    """Split news text into sentences with exact character offsets.

    Args:
        text: the article (plain text; one paragraph per line or hard-wrapped lines both work).
        limit: stop after this many sentences (faster on long texts when only the first ones are needed).
        language: the text's ISO 639-1 code, for that language's splitting rules (None: English).

    Returns:
        The sentences in order; ``s.text == text[s.start:s.end]`` for each. A dateline or byline in front
        of the first sentence is left out. Empty or whitespace-only text gives an empty list.
    """
    if not text or text.isspace() or (limit is not None and limit <= 0):
        return []
    merged: list[tuple[int, int]] = []
    for start, end in _raw_spans(_unwrap(text), limit, sentence_rules(language)):
        if merged and _wrongly_split(text[merged[-1][0] : merged[-1][1]], text[start:end]):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    skips = [(0, lead_in_length(text)), *_agency_datelines(text)]
    sentences: list[Sentence] = []
    for start, end in merged:
        for skip_start, skip_end in skips:
            if skip_start <= start < skip_end:
                start = skip_end
        if start >= end:
            continue  # the whole segment is a byline or dateline
        furniture = _FURNITURE_PREFIX.match(text, start, end)
        if furniture:
            start = furniture.end()
        if not _HAS_WORD.search(text, start, end) or _READ_MORE.match(text, start, end):
            continue
        sentences.append(Sentence(text=text[start:end], start=start, end=end, index=len(sentences)))
        if limit is not None and len(sentences) == limit:
            break
    return sentences
