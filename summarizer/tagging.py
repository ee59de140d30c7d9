"""Tag news text with countries, regions and blocs, and topics.

Countries come from pycountry (every ISO 3166-1 name) plus the curated aliases in ``data/aliases.toml``:
demonyms, capitals, metonyms ("the Kremlin") and people ("Kishida" -> Japan). Aliases are matched
case-sensitively on whole words, longest first, in one pass of a trie-shaped regular expression. Text in another
language is matched with the English names plus that language's: pycountry's translations (its locale
catalogues) and the curated ``[languages.xx]`` aliases; Chinese and Japanese names are matched without word
boundaries. Topic similarity is used only in languages the encoder covers (keywords are English).

Regions are tagged when they are named ("Indo-Pacific", "NATO") and, for geographic regions (not blocs), when
one of the article's salient countries belongs to them. Topics combine two kinds of evidence: curated keyword
hits and the similarity of the article's sentences to short topic descriptions under the sentence encoder.

``python -m summarizer tag [FILE|-] [--json]`` prints the tags (`summarizer.cli`).
"""

from __future__ import annotations

import gettext
import logging
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pycountry

from summarizer.encoder import TextEncoder, covered_languages
from summarizer.languages import ENGLISH, encoder_covers
from summarizer.sentences import split_sentences

__all__ = [
    "Gazetteer",
    "Region",
    "TagRef",
    "Tagger",
    "Tags",
    "Topic",
    "TopicEvidence",
    "extract_entities",
    "load_gazetteer",
]

log = logging.getLogger(__name__)

# A country named in the title is what the article is about: count that as this many extra mentions.
TITLE_MENTION_BONUS = 2
# A country mentioned this often (title bonus included) is salient: it pulls in its geographic regions and
# counts for story-level tags. Passing mentions ("talks with France") do not.
SALIENT_COUNTRY_WEIGHT = 2
# Topic rule, tuned on tests/intelligence/data/eval.toml (see docs/intelligence.md): a topic needs at least one
# keyword hit, and then the encoder similarity plus a bonus per keyword hit must reach the threshold. Keywords
# alone are precise but miss paraphrases; the encoder alone confuses neighbours (a missile test reads like drills).
KEYWORD_REPEAT_CAP = 2  # a keyword repeated more often than this adds nothing: one word must not carry a topic
TOPIC_KEYWORD_STEP = 0.05  # what each keyword hit adds to the similarity
TOPIC_KEYWORD_CAP = 8  # hits beyond this add nothing
TOPIC_THRESHOLD = 0.42  # similarity + keyword bonus needed
TOPIC_KEYWORDS_WITHOUT_ENCODER = 3  # keyword-only mode (no encoder): hits needed
TOPIC_TOP_SENTENCES = 2  # how many of the best-matching sentences the encoder score averages
MAX_TOPIC_SENTENCES = 60  # sentences embedded for topics when the caller gives no vectors (long texts are cut)

RegionKind = Literal["region", "bloc"]
TagKind = Literal["country", "region", "topic"]

_DATA_FILE = "aliases.toml"
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})
_SPACED_DASH = re.compile(r"(?<=\w)\s*[–—]\s*(?=\w)|(?<=\w)\s+-\s+(?=\w)")  # "Indo – Pacific" -> "Indo-Pacific"
_SPACES = re.compile(r"\s+")
_ANY_ENDING = r"[\w-]*"  # what a keyword's trailing "*" stands for


@dataclass(frozen=True, slots=True)
class Region:
    """A geographic region or a political bloc.

    Attributes:
        id: stable identifier stored in the database ("indo-pacific", "nato").
        name: display name ("Indo-Pacific", "NATO").
        kind: "region" (also tagged from member countries) or "bloc" (tagged only when named).
        members: ISO alpha-2 codes of its member countries.
    """

    id: str
    name: str
    kind: RegionKind
    members: frozenset[str]


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic with its label, the words people use for it, its keywords and its description sentences."""

    id: str
    label: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    descriptions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TagRef:
    """What a user's word for a tag resolves to: a country code, a region id or a topic id."""

    kind: TagKind
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class TopicEvidence:
    """Why a topic was (or was not) tagged: distinct keyword hits and the encoder similarity."""

    topic: str
    keywords: int
    similarity: float | None


@dataclass(frozen=True, slots=True)
class Tags:
    """The tags of one text.

    Attributes:
        countries: ISO 3166-1 alpha-2 codes, most mentioned first (title mentions count extra).
        salient_countries: the subset mentioned often enough to say the text is about them.
        regions: region and bloc ids: those named, then the regions of the salient countries.
        topics: topic ids, strongest evidence first.
        entities: normalised names and figures (people, organisations, places, numbers) for matching coverage
            of the same event across outlets.
        country_weights: (code, weight) pairs behind ``countries``.
        evidence: the topic scores, for every topic (for tuning and explanations).
    """

    countries: tuple[str, ...]
    salient_countries: tuple[str, ...]
    regions: tuple[str, ...]
    topics: tuple[str, ...]
    entities: tuple[str, ...] = ()
    country_weights: tuple[tuple[str, int], ...] = ()
    evidence: tuple[TopicEvidence, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class _Target:
    kind: Literal["country", "region", "none"]
    id: str
    ambiguous: bool


class Gazetteer:
    """Country, region and topic names with the compiled matchers; build one with :func:`load_gazetteer`."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.countries: dict[str, str] = {}
        self.regions: dict[str, Region] = {}
        self.topics: dict[str, Topic] = {}
        self._targets: dict[str, _Target] = {}
        self._country_regions: dict[str, tuple[str, ...]] = {}
        self._load_countries(data)
        self._load_regions(data)
        self._load_topics(data)
        self._pattern = re.compile(r"(?<!\w)(" + _trie_pattern(self._targets) + r")(?!\w)")
        self._lookup = self._build_lookup()
        self._language_aliases: dict[str, dict[str, dict[str, list[str]]]] = data.get("languages", {})
        self._language_patterns: dict[str, tuple[re.Pattern[str], dict[str, _Target]]] = {}

    # -- loading ------------------------------------------------------------------------------------------------
    def _add(self, alias: str, target: _Target) -> None:
        # later entries win: the curated file overrides pycountry ("Congo" means the DR Congo in the news)
        self._targets[_SPACES.sub(" ", alias.translate(_QUOTES)).strip()] = target

    def _load_countries(self, data: dict[str, Any]) -> None:
        display: dict[str, str] = data.get("display_names", {})
        curated: dict[str, dict[str, list[str]]] = data.get("countries", {})
        for country in pycountry.countries:
            code = country.alpha_2
            self.countries[code] = display.get(code) or getattr(country, "common_name", None) or country.name
            ambiguous = set(curated.get(code, {}).get("ambiguous", []))
            for name in (country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)):
                if name and "," not in name:  # "Korea, Republic of" is never written in running text
                    self._add(name, _Target("country", code, name in ambiguous))
            self._add(self.countries[code], _Target("country", code, self.countries[code] in ambiguous))
        for code, entry in curated.items():
            if code not in self.countries:
                raise ValueError(f"{_DATA_FILE}: unknown country code {code!r}")
            ambiguous = set(entry.get("ambiguous", []))
            for key in ("names", "demonyms", "capitals", "metonyms", "people", "ambiguous"):
                for alias in entry.get(key, []):
                    self._add(alias, _Target("country", code, alias in ambiguous))
        for alias in data.get("not_places", {}).get("phrases", []):
            self._add(alias, _Target("none", "", False))

    def _load_regions(self, data: dict[str, Any]) -> None:
        raw: dict[str, dict[str, Any]] = data.get("regions", {})

        def members(region_id: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
            entry = raw[region_id]
            result = set(entry.get("members", []))
            for included in entry.get("includes", []):
                if included in seen:
                    raise ValueError(f"{_DATA_FILE}: region {region_id!r} includes itself")
                result |= members(included, seen | {region_id})
            return frozenset(result)

        for region_id, entry in raw.items():
            unknown = [code for code in entry.get("members", []) if code not in self.countries]
            if unknown:
                raise ValueError(f"{_DATA_FILE}: region {region_id!r} has unknown members {unknown}")
            region = Region(region_id, entry["name"], entry["kind"], members(region_id))
            self.regions[region_id] = region
            for alias in [*entry.get("aliases", []), entry["name"]]:
                self._add(alias, _Target("region", region_id, False))
        by_country: dict[str, list[str]] = {}
        for region in self.regions.values():
            if region.kind == "region":
                for code in region.members:
                    by_country.setdefault(code, []).append(region.id)
        self._country_regions = {code: tuple(ids) for code, ids in by_country.items()}

    def _load_topics(self, data: dict[str, Any]) -> None:
        for topic_id, entry in data.get("topics", {}).items():
            self.topics[topic_id] = Topic(
                id=topic_id,
                label=entry["label"],
                aliases=tuple(entry.get("aliases", [])),
                keywords=tuple(entry["keywords"]),
                descriptions=tuple(entry["descriptions"]),
            )
        self._keyword_patterns = {topic.id: _keyword_pattern(topic.keywords) for topic in self.topics.values()}

    def _build_lookup(self) -> dict[str, TagRef]:
        lookup: dict[str, TagRef] = {}
        for topic in self.topics.values():
            ref = TagRef("topic", topic.id, topic.label)
            for word in (topic.id, topic.label, *topic.aliases):
                lookup.setdefault(_fold(word), ref)
        for region in self.regions.values():
            lookup.setdefault(_fold(region.id), TagRef("region", region.id, region.name))
        for alias, target in self._targets.items():
            if target.kind == "region":
                lookup.setdefault(_fold(alias), TagRef("region", target.id, self.regions[target.id].name))
        for code, name in self.countries.items():
            lookup.setdefault(_fold(name), TagRef("country", code, name))
        for alias, target in self._targets.items():
            if target.kind == "country":
                lookup.setdefault(_fold(alias), TagRef("country", target.id, self.countries[target.id]))
        for code, name in self.countries.items():
            lookup.setdefault(code.lower(), TagRef("country", code, name))
        return lookup

    # -- queries ------------------------------------------------------------------------------------------------
    def country_name(self, code: str) -> str:
        """The display name of an ISO alpha-2 code (pycountry's common name, or a curated short name)."""
        return self.countries.get(code, code)

    def region_name(self, region_id: str) -> str:
        """The display name of a region or bloc id."""
        region = self.regions.get(region_id)
        return region.name if region else region_id

    def topic_label(self, topic_id: str) -> str:
        """The label of a topic id ("security" -> "security and defence")."""
        topic = self.topics.get(topic_id)
        return topic.label if topic else topic_id

    def regions_of(self, code: str) -> tuple[str, ...]:
        """The geographic regions (not blocs) a country belongs to."""
        return self._country_regions.get(code, ())

    def resolve(self, word: str) -> TagRef | None:
        """Resolve what a user typed ("nuclear", "the Kremlin", "Sahel", "JP") to a tag, or None."""
        return self._lookup.get(_fold(word))

    def is_place(self, phrase: str) -> bool:
        """True when ``phrase`` is exactly a country or region alias (or a blocked phrase like "New Mexico")."""
        return phrase in self._targets

    def vocabulary(self) -> list[str]:
        """Every word :meth:`resolve` understands, folded (for suggestions)."""
        return list(self._lookup)

    def find_places(self, text: str, language: str | None = None) -> list[tuple[int, _Target]]:
        """Every country/region alias in ``text`` (written in ``language``), with its offset in the normalised text."""
        if not language or language == ENGLISH:
            return [(m.start(), self._targets[m.group(1)]) for m in self._pattern.finditer(normalize_text(text))]
        pattern, targets = self._language_pattern(language)
        return [(m.start(), targets[m.group(m.lastindex or 0)]) for m in pattern.finditer(normalize_text(text))]

    def is_place_name(self, text: str) -> bool:
        """Whether ``text`` (a name) is a country or region name and nothing more: "South Sudan", "Iranian", "Japan's";
        not "Washington Navy Yard" or "University of Washington", which name a place and something in it."""
        rest = self._pattern.sub(" ", normalize_text(text)).replace("'s", " ")
        return rest != normalize_text(text) and not re.search(r"[^\W\d_]{2,}", rest)

    def _language_pattern(self, language: str) -> tuple[re.Pattern[str], dict[str, _Target]]:
        """The matcher for text in ``language``: the English names plus the language's own (built once)."""
        cached = self._language_patterns.get(language)
        if cached is not None:
            return cached
        targets = dict(self._targets)
        translation = _country_translation(language)
        if translation is not None:
            for country in pycountry.countries:
                target = _Target("country", country.alpha_2, False)
                for attribute in ("name", "common_name", "official_name"):
                    name = getattr(country, attribute, None)
                    translated = translation.gettext(name) if name else ""
                    for part in re.split(r"\s*[()（）]\s*", translated):  # "大韓民国 (韓国)" is two names
                        if part and part != name and "," not in part and len(part) > 1:
                            targets.setdefault(_SPACES.sub(" ", part).strip(), target)
        for code, entry in self._language_aliases.get(language, {}).items():
            if code not in self.countries:
                raise ValueError(f"{_DATA_FILE}: unknown country code {code!r} in languages.{language}")
            ambiguous = set(entry.get("ambiguous", []))
            for aliases in entry.values():
                for alias in aliases:
                    key = _SPACES.sub(" ", alias.translate(_QUOTES)).strip()
                    targets[key] = _Target("country", code, alias in ambiguous)
        spaced = [alias for alias in targets if not _UNSPACED_SCRIPT.search(alias)]
        unspaced = [alias for alias in targets if _UNSPACED_SCRIPT.search(alias)]
        source = r"(?<!\w)(" + _trie_pattern(spaced) + r")(?!\w)"
        if unspaced:
            source += "|(" + _trie_pattern(unspaced) + ")"
        result = (re.compile(source), targets)
        self._language_patterns[language] = result
        return result

    def keyword_hits(self, text: str, title: str = "") -> dict[str, int]:
        """Keyword evidence per topic: occurrences, at most ``KEYWORD_REPEAT_CAP`` per keyword, title hits doubled."""
        body = normalize_text(text).lower()
        head = normalize_text(title).lower()
        hits: dict[str, int] = {}
        for topic_id, pattern in self._keyword_patterns.items():
            counts: dict[str, int] = {}
            for part, weight in ((head, 2), (body, 1)):
                for match in pattern.finditer(part):
                    key = match.lastgroup or ""
                    counts[key] = counts.get(key, 0) + weight
            hits[topic_id] = sum(min(count, KEYWORD_REPEAT_CAP) for count in counts.values())
        return hits


_UNSPACED_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")  # kana, Han, Hangul


def _country_translation(language: str) -> gettext.NullTranslations | None:
    """pycountry's catalogue of country names in ``language`` (Brazilian Portuguese for "pt"), if it has one."""
    for locale in {"pt": ["pt_BR", "pt"], "zh": ["zh_CN", "zh"]}.get(language, [language]):
        try:
            return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
        except OSError:
            continue
    return None


@cache
def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """Load (once per path) the gazetteer from ``path`` or the bundled ``summarizer/data/aliases.toml``."""
    path = path or Path(__file__).resolve().parent / "data" / _DATA_FILE
    return Gazetteer(tomllib.loads(path.read_text(encoding="utf-8")))


def normalize_text(text: str) -> str:
    """Straighten quotes, join spaced dashes ("Indo – Pacific") and collapse whitespace, for matching."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    return _SPACES.sub(" ", _SPACED_DASH.sub("-", text))


def _fold(word: str) -> str:
    """Fold a user's word for lookup: case, accents, "the", punctuation and spacing do not matter."""
    word = unicodedata.normalize("NFKD", word.translate(_QUOTES)).encode("ascii", "ignore").decode()
    word = re.sub(r"[^\w+]+", " ", word.lower()).strip()
    return re.sub(r"^the ", "", word)


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, trying longer words first (a trie, so matching stays fast)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a word ends here: the longer continuations are optional, and tried first
            return (body if len(branches) > 1 else "(?:" + body + ")") + "?"
        return body

    return emit(trie)


def _keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str]:
    """One regex over lower-case text with a named group per keyword; "word*" matches any ending."""
    parts = []
    for index, keyword in sorted(enumerate(keywords), key=lambda item: -len(item[1])):
        escaped = re.escape(keyword.rstrip("*").lower()).replace(r"\ ", r"\s+")
        suffix = _ANY_ENDING if keyword.endswith("*") else ""
        parts.append(f"(?P<k{index}>{escaped}{suffix})")
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w])")


# --- entities ---------------------------------------------------------------------------------------------------
_NAME_WORD = r"[A-Z][\w'-]*(?:\.[A-Z])*"  # "Lai", "Ching-te", "U.S" (a dotted abbreviation)
_NAME_RUN = re.compile(rf"(?<![\w'.-]){_NAME_WORD}(?: (?:(?:of|the|de|al|bin|for) )?{_NAME_WORD})*")
_FIGURE = re.compile(r"(?<![\w.,])\d(?:[\d,.]*\d)?(?![\w])")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"(\n]\s*|^\W*)$")
# Words that start or end a capitalised run without being part of a name ("The", "President", "Monday").
_NOT_ENTITY_WORDS = """
    a an the this that these those it its he she they we i you his her their our my in on at for from by with as
    but and or if after before when while since during under over about into of to also both all some many most
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december mr mrs ms dr president prime minister foreign minister spokesman spokeswoman
    adviser secretary chancellor ambassador commander general leader
    officials analysts sources news report reports there here what why how who one two three four five six
    seven eight nine ten first second third last next new former top senior chief"""
_NOT_ENTITIES = frozenset(_NOT_ENTITY_WORDS.split())
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_POSSESSIVE = re.compile(r"'s?$")


def _split_possessives(words: list[str]) -> list[list[str]]:
    """Cut a run of capitalised words after each possessive: "Lai's US stopover" names Lai, then the US."""
    runs: list[list[str]] = [[]]
    for word in words:
        bare = _POSSESSIVE.sub("", word)
        runs[-1].append(bare)
        if bare != word:
            runs.append([])
    return [run for run in runs if run]


def _name_in(words: list[str], gazetteer: Gazetteer) -> str:
    """The name in a run of capitalised words, without leading stop, role and place words; "" if none is left.

    "Japanese Prime Minister Fumio Kishida" -> "Fumio Kishida"; a place is only dropped while at least two words
    remain ("US Indo-Pacific Command" -> "Indo-Pacific Command"), and a bare place is no entity.
    """
    changed = True
    while words and changed:
        changed = False
        if words[0].lower() in _NOT_ENTITIES:
            words, changed = words[1:], True
            continue
        for size in (3, 2, 1):
            if len(words) >= size + 2 and gazetteer.is_place(" ".join(words[:size])):
                words, changed = words[size:], True
                break
    while words and words[-1].lower() in _NOT_ENTITIES:
        words = words[:-1]
    phrase = " ".join(words)
    return "" if len(phrase) < 3 or gazetteer.is_place(phrase) else phrase


def extract_entities(text: str, gazetteer: Gazetteer | None = None) -> tuple[str, ...]:
    """Names and figures in ``text`` (lower-cased, most frequent first), without bare country or region names.

    A cheap, model-free stand-in for named-entity recognition: runs of capitalised words ("Eastern Theatre
    Command", "Lai Ching-te") and figures other than years ("117", "1.65"), which identify an event well across
    outlets. A single capitalised word that only starts sentences ("Concerns", "The") is not a name.
    """
    gazetteer = gazetteer or load_gazetteer()
    counts: dict[str, int] = {}
    for line in (normalize_text(part) for part in text.splitlines()):
        for match in _NAME_RUN.finditer(line):
            at_start = bool(_SENTENCE_START.search(line[: match.start()]))
            for words in _split_possessives(match.group(0).split()):
                phrase = _name_in(words, gazetteer)
                if phrase and not (at_start and " " not in phrase):
                    counts[phrase.lower()] = counts.get(phrase.lower(), 0) + 1
                at_start = False
        for match in _FIGURE.finditer(line):
            figure = match.group(0).replace(",", "")
            if len(figure) >= 2 and not _YEAR.match(figure):
                counts[figure] = counts.get(figure, 0) + 1
    return tuple(sorted(counts, key=lambda key: (-counts[key], key)))


# --- tagging ----------------------------------------------------------------------------------------------------
class Tagger:
    """Tags texts with countries, regions and topics.

    Args:
        encoder: the sentence encoder used for topic evidence; ``None`` tags topics from keywords alone.
        gazetteer: names and rules; the bundled ``aliases.toml`` by default.

    Example:
        >>> tagger = Tagger()  # keyword-only topics
        >>> tagger.tag("Pyongyang fired a ballistic missile toward Japan.").countries
        ('KP', 'JP')
    """

    def __init__(self, encoder: TextEncoder | None = None, gazetteer: Gazetteer | None = None) -> None:
        self.encoder = encoder
        self.gazetteer = gazetteer or load_gazetteer()
        self._topic_ids = list(self.gazetteer.topics)
        self._prototypes: np.ndarray | None = None
        self._prototype_owner: list[int] = []

    def topic_prototypes(self) -> tuple[np.ndarray, list[int]]:
        """The description vectors of every topic (embedded once) and, per row, the index of its topic."""
        if self._prototypes is None:
            if self.encoder is None:
                raise ValueError("topic prototypes need an encoder")
            texts: list[str] = []
            owner: list[int] = []
            for index, topic_id in enumerate(self._topic_ids):
                for description in self.gazetteer.topics[topic_id].descriptions:
                    texts.append(description)
                    owner.append(index)
            self._prototypes = np.asarray(self.encoder.encode(texts), dtype=np.float32)
            self._prototype_owner = owner
        return self._prototypes, self._prototype_owner

    def topic_similarities(self, sentence_vectors: np.ndarray) -> dict[str, float]:
        """Per topic: the mean of the best sentences' similarity to any of the topic's descriptions."""
        prototypes, owner = self.topic_prototypes()
        if len(sentence_vectors) == 0:
            return dict.fromkeys(self._topic_ids, 0.0)
        sims = np.asarray(sentence_vectors, dtype=np.float32) @ prototypes.T  # (sentences, descriptions)
        result: dict[str, float] = {}
        owners = np.asarray(owner)
        for index, topic_id in enumerate(self._topic_ids):
            best_per_sentence = sims[:, owners == index].max(axis=1)
            top = np.sort(best_per_sentence)[::-1][:TOPIC_TOP_SENTENCES]
            result[topic_id] = float(top.mean())
        return result

    def tag(
        self, text: str, title: str = "", sentence_vectors: np.ndarray | None = None, *, language: str | None = None
    ) -> Tags:
        """Tag one article.

        Args:
            text: the article body.
            title: its headline (mentions there weigh more).
            sentence_vectors: encoder vectors of the article's sentences (title first if there is one), when the
                caller has them already; otherwise they are computed here if the tagger has an encoder.
            language: the text's ISO 639-1 code (None: English), for country names in that language; topic
                similarity is left out when the encoder does not cover it.

        Returns:
            The tags; ``countries`` and ``regions`` are codes and ids (see :class:`Gazetteer` for names).
        """
        weights, first_seen, named_regions = self._places(text, title, language)
        countries = sorted(weights, key=lambda code: (-weights[code], first_seen[code]))
        salient = [code for code in countries if weights[code] >= SALIENT_COUNTRY_WEIGHT] or countries[:1]
        regions = list(dict.fromkeys(named_regions))
        for code in salient:
            regions.extend(region for region in self.gazetteer.regions_of(code) if region not in regions)
        covered = self.encoder is not None and encoder_covers(covered_languages(self.encoder), language)
        evidence = self._topic_evidence(text, title, sentence_vectors, use_encoder=covered)
        topics = [item.topic for item in sorted(evidence, key=_evidence_strength, reverse=True) if _is_topic(item)]
        return Tags(
            countries=tuple(countries),
            salient_countries=tuple(salient),
            regions=tuple(regions),
            topics=tuple(topics),
            entities=extract_entities(f"{title}\n{text}", self.gazetteer),
            country_weights=tuple((code, weights[code]) for code in countries),
            evidence=tuple(evidence),
        )

    def _places(
        self, text: str, title: str, language: str | None = None
    ) -> tuple[dict[str, int], dict[str, int], list[str]]:
        weights: dict[str, int] = {}
        first_seen: dict[str, int] = {}
        ambiguous: dict[str, int] = {}
        regions: list[str] = []
        offset = 0
        for part, bonus in ((title, TITLE_MENTION_BONUS), (text, 0)):
            for position, target in self.gazetteer.find_places(part, language):
                if target.kind == "region":
                    regions.append(target.id)
                elif target.kind == "country":
                    table = ambiguous if target.ambiguous else weights
                    table[target.id] = table.get(target.id, 0) + 1 + bonus
                    first_seen.setdefault(target.id, offset + position)
            offset += len(part) + 1
        for code, weight in ambiguous.items():
            if code in weights:  # "Georgia" counts once "Tbilisi" or "Georgian" has shown which one is meant
                weights[code] += weight
        return weights, first_seen, regions

    def _topic_evidence(
        self, text: str, title: str, sentence_vectors: np.ndarray | None, *, use_encoder: bool = True
    ) -> list[TopicEvidence]:
        hits = self.gazetteer.keyword_hits(text, title)
        similarities: dict[str, float] = {}
        if not use_encoder:
            return [TopicEvidence(topic, hits[topic], None) for topic in self._topic_ids]
        if sentence_vectors is None and self.encoder is not None:
            sentences = [title] if title.strip() else []
            sentences += [s.text for s in split_sentences(text)][:MAX_TOPIC_SENTENCES]
            sentence_vectors = self.encoder.encode(sentences) if sentences else np.zeros((0, 1), dtype=np.float32)
        if sentence_vectors is not None and self.encoder is not None:
            similarities = self.topic_similarities(sentence_vectors)
        return [TopicEvidence(topic, hits[topic], similarities.get(topic)) for topic in self._topic_ids]


def _is_topic(evidence: TopicEvidence) -> bool:
    """The topic rule (the module constants document the thresholds)."""
    if evidence.similarity is None:
        return evidence.keywords >= TOPIC_KEYWORDS_WITHOUT_ENCODER
    return evidence.keywords >= 1 and _evidence_strength(evidence) >= TOPIC_THRESHOLD


def _evidence_strength(evidence: TopicEvidence) -> float:
    similarity = evidence.similarity if evidence.similarity is not None else 0.0
    return similarity + TOPIC_KEYWORD_STEP * min(evidence.keywords, TOPIC_KEYWORD_CAP)


# --- command line -----------------------------------------------------------------------------------------------
