"""Typed, immutable results: sentences with offsets, summaries and story summaries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a source text.

    ``text == source[start:end]`` always holds: a dateline or byline in front of the first sentence
    ("(CNN)", "WASHINGTON —", "By ... | Updated ...") is left out by moving ``start`` past it.
    """

    text: str
    start: int
    end: int
    index: int


@dataclass(frozen=True, slots=True)
class SummarySentence:
    """One sentence of a summary, pointing back to where it stands in the source.

    Attributes:
        text: the summary sentence. For extractive output it is ``source[start:end]`` (or a prefix of it
            followed by "…" when it had to be cut to fit ``max_chars``).
        start: character offset of the (supporting) source sentence.
        end: end offset of the (supporting) source sentence.
        index: index of that source sentence in ``split_sentences(source)``.
        support: cosine similarity between ``text`` and the source sentence (1.0 when copied).
        generated: True when ``text`` was written by an abstractive model rather than copied.
    """

    text: str
    start: int
    end: int
    index: int
    support: float = 1.0
    generated: bool = False


@dataclass(frozen=True, slots=True)
class Summary:
    """A summary of one text.

    Attributes:
        sentences: the summary sentences, in reading order.
        method: which summariser produced it ("extractive", "lead", "seq2seq:<model>", ...).
        from_teaser: True when the input was too short to choose from (a feed teaser or a stub), so the
            summary is (most of) the input itself. Callers should say so to readers.
        sentences_seen: how many source sentences were read: all of them for a short text; for a long one the
            splitter stops once it has the sentences it can choose from, so this is a lower bound.
        rejected: generated sentences that the faithfulness guard dropped or replaced.
    """

    sentences: tuple[SummarySentence, ...]
    method: str
    from_teaser: bool
    sentences_seen: int
    rejected: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The summary as one paragraph."""
        return " ".join(s.text for s in self.sentences)

    def lines(self) -> list[str]:
        """The summary sentences, one per element (the shape ROUGE-Lsum expects, joined by newlines)."""
        return [s.text for s in self.sentences]


@dataclass(frozen=True, slots=True)
class StoryDocument:
    """One article of a story (several articles about one event)."""

    text: str
    doc_id: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class StorySentence:
    """One sentence of a story summary, citing the article it was taken from.

    Attributes:
        text: the sentence, exactly ``documents[doc_index].text[start:end]``.
        doc_index: index of the article in the documents given.
        doc_id: that article's ``doc_id``.
        start: character offset in that article.
        end: end offset in that article.
        index: sentence index in that article.
        also_in: indices of other articles that carry a near-identical sentence (corroboration).
    """

    text: str
    doc_index: int
    doc_id: str | None
    start: int
    end: int
    index: int
    also_in: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class StorySummary:
    """A non-redundant summary across the articles of one story."""

    sentences: tuple[StorySentence, ...]
    method: str
    documents: int

    @property
    def text(self) -> str:
        """The summary as one paragraph."""
        return " ".join(s.text for s in self.sentences)
