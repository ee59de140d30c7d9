"""Answer selection: which retrieved sentences actually answer a question, and which of them to show.

Retrieval (:mod:`summarizer.retrieval`) ranks sentences by how close they are to the question; closeness is not an
answer. "Who won the 1998 World Cup final?" is close to "The final tally was 97-1." (a Senate vote) by the word
"final" and by the encoder's sense of "results". Here a sentence counts as an answer only when:

1. **it is about what the question names**: every name in the question (capitalised words, acronyms, places by any
   alias the gazetteer knows: "Iranian" is Iran) is covered by its rarest word, written as a name (capitalised in
   running text, never in lower case: :func:`name_roots`) in the sentence, its article's context (title, lead
   sentence, the sentence before) or the article, and of several names one besides the commonest in the sentence
   or its context (not only a company the article mentions once in passing); so is every year and decimal figure
   it gives ("in 2013", "the 4.6 earthquake"), a year also by being the year the article was published in (the
   caller adds that year to ``article_terms``); an ordinal must be said of the same thing in the sentence or its
   context ("the 13th Doctor", not "the 12th Doctor");
2. **it covers the question's salient terms**: the IDF-weighted share of its terms, and of its names at half weight,
   found in the sentence reaches ``COVERAGE_MIN``; words matched through light stemming, a few irregular forms
   and close paraphrases ("paid" for "pay", "died" for "death", "kids" for "children") and hyphenated parts,
   and found only in the context they count half, fully when the sentence refers back ("She was 91.");
3. **it has what the question asks for**, in the sentence itself: who, whom or which -> a name or a person or
   organisation noun; when -> a date or time; where -> a place; how many, how old, what magnitude ... -> a
   number; how much did X pay, what was it worth ... -> a sum of money. Other questions ("what did ... say") need
   no particular kind of word. The capitals of a headline line name nothing by themselves. A sentence that only
   denies the question's verb ("his team will not sign Mark Teixeira") has nothing of the kind.

Among the sentences that answer, the reply leads with one in which a name the question does not give fills the role
the question's verb asks about ("who did New Orleans sign": "signed Joique Bell", not "Pierre Thomas was placed on
injured reserve"), then the plainest answer (for "who" and "which X": a name, next to X, before a place, a name
that only attributes the report ("The BBC says actor X will ...") or a person noun; for "how many X" a count of X,
said with the question's verb; for "what round" a rank, not a count; for "how old" an age, the asked one's; for
"how long", "how far" a figure with its unit; for "when" a day before a month, a month before a year), then the
higher rank (`AnswerRank`): closeness to the encoder's vector of the question word ("who", "how", "which" in the
context of the question, which stands for the thing asked more than for the topic), less half the closeness to the
question as a whole, plus a fifth of the coverage in the sentence itself and a fifth of other outlets' support for
the same answer (weights fitted on the ECB+ question sets: benchmarks/tune_answer_order.py); a
"who" lead that names its answer by a surname or a first name alone yields to an answer as plain that gives the
name in full. It adds at most two supporting sentences from other outlets that add something; a sentence that
states the same fact as one already chosen (the same answer, or nearly the same words, or the chosen answer
written in it) names its outlet under "also reported by" instead.

Text processing (regular expressions and the place gazetteer) over vectors the caller computed; no model runs here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from summarizer.retrieval import ScoredPassage, tokenize
from summarizer.tagging import Gazetteer, load_gazetteer, normalize_text

__all__ = [
    "AnswerCheck",
    "AnswerRank",
    "AnswerType",
    "Answering",
    "Candidate",
    "ChosenSentence",
    "QuestionProfile",
    "answering_sentences",
    "capital_roots",
    "check_candidate",
    "name_roots",
    "plainness",
    "profile_question",
    "select_answer",
    "term_root",
]

COVERAGE_MIN = 0.5  # share of the question's salient (non-name) terms, IDF-weighted, a sentence must cover
CONTEXT_CREDIT = 0.5  # a term found only in the article's context counts this much (fully if the sentence refers back)
PARAPHRASE_SIMILARITY = 0.7  # cosine to the question at which a sentence counts as a close paraphrase ...
PARAPHRASE_COVERAGE = 0.3  # ... and then needs only this coverage
SHORT_SENTENCE = 7  # words; a shorter sentence, or one opening with a pronoun, leans on the one before
MIN_SCORE = 0.2  # retrieval score below which a sentence is not considered at all
CONSIDERED = 80  # the best-ranked sentences that are checked (checking is cheap, but not free)
SAME_WORDING = 0.85  # cosine at which two sentences say the same thing in other words
SAME_FIGURE = 0.05  # figures closer than this (relative) are one fact told twice: "about 71" and "more than 70"
NOVELTY_MIN = 0.4  # share of a sentence's new content words below which it adds nothing
MAX_SUPPORTING = 2
WEAK = "~"  # marks weak evidence: a person or organisation noun rather than a name
NAME_WEIGHT = 0.5  # a question's name weighs in coverage half as much as a term as rare as its rarest word
# How answers as plain rank (`AnswerRank`, fitted by benchmarks/tune_answer_order.py): the closeness to the question
# word's vector, less
TOPIC_DISCOUNT = 0.5  # times the closeness to the question, plus
OWN_WORDS_WEIGHT = 0.2  # times the share of the question's terms in the sentence itself, plus
SUPPORT_WEIGHT = 0.2  # times other outlets' agreement on the answer (see `_support`)
PLACE_STRENGTH, PARTIAL_STRENGTH, WEAK_STRENGTH = 0.6, 0.7, 0.3  # "who" answered by a place, a name that is
# mostly the question's own ("New Orleans Saints"), a person noun ("a woman")
REPORTED_SUBJECT_GAP = 4  # words after "says" within which the reported clause's subject is named
REPORTER_STRENGTH = 0.5  # "who": a name that only says who reports it ("The BBC says ...", "according to police")
ORDINAL_REACH = 3  # words: "the third Hunger Games film", "their third fight"
YEAR_ONLY_STRENGTH, MONTH_ONLY_STRENGTH = 0.5, 0.8  # "when" answered by a year or a month alone
FOCUS_GAP, FAR_FROM_FOCUS = 2, 0.7  # "which bank": a name within 2 words of "bank" says it; farther counts 0.7
COUNT_REACH, UNSAID_COUNT = 4, 0.85  # "how many X <verb>": a count of X with the verb within 4 words says it
ACRONYM_MAX = 5  # letters; a longer word in capitals is shouting ("GRANDMOTHER KILLED"), not an acronym
HEADLINE_WORD, HEADLINE_MIN_WORDS, HEADLINE_SHARE = 4, 4, 0.9  # a line whose words of 4+ letters are capitalised


class AnswerType(enum.StrEnum):
    """What kind of word the question asks for."""

    ENTITY = "who"  # a person or organisation (or, for "which X", the name of one)
    TIME = "when"
    PLACE = "where"
    QUANTITY = "how many"
    OTHER = "what"  # no particular kind of word: "what did they say", "why", "how"


# --- words ---------------------------------------------------------------------------------------------------------

# Irregular forms and a few derivations that news questions and sentences use for one another.
_IRREGULAR_VERBS = {
    "paid": "pay", "bought": "buy", "sold": "sell", "won": "win", "lost": "lose", "caught": "catch", "fell": "fall",
    "fallen": "fall", "found": "find", "held": "hold", "met": "meet", "sent": "send", "spent": "spend",
    "took": "take", "taken": "take", "brought": "bring", "began": "begin", "begun": "begin", "chose": "choose",
    "chosen": "choose", "fought": "fight", "fled": "flee", "led": "lead", "ran": "run", "sought": "seek",
    "shot": "shoot", "stole": "steal", "stolen": "steal", "struck": "strike", "threw": "throw", "thrown": "throw",
    "gave": "give", "given": "give", "went": "go", "gone": "go", "came": "come", "got": "get", "gotten": "get",
    "kept": "keep", "made": "make", "saw": "see", "seen": "see", "wrote": "write", "written": "write",
    "drove": "drive", "driven": "drive", "rose": "rise", "risen": "rise", "broke": "break", "broken": "break",
    "spoke": "speak", "spoken": "speak", "flew": "fly", "flown": "fly", "grew": "grow", "grown": "grow",
    "knew": "know", "known": "know", "beaten": "beat", "became": "become", "built": "build", "felt": "feel",
    "stood": "stand", "left": "leave", "meant": "mean", "slept": "sleep", "taught": "teach", "woke": "wake",
    "hid": "hide", "hidden": "hide", "hung": "hang", "fed": "feed", "lent": "lend", "swam": "swim",
}  # fmt: skip
_IRREGULAR = {
    **_IRREGULAR_VERBS,
    "died": "die", "dies": "die", "dying": "die", "dead": "die", "death": "die", "deaths": "die",
    "children": "child", "kid": "child", "kids": "child", "naval": "navy", "navies": "navy", "piracy": "pirat",
    "men": "man", "women": "woman", "people": "person", "mice": "mouse",
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "jun": "june", "jul": "july",
    "aug": "august", "sep": "september", "sept": "september", "oct": "october", "nov": "november",
    "dec": "december",
}  # fmt: skip
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ers", "er", "ments", "ment", "ly")
_INFLECTIONS = frozenset(("ings", "ing", "edly", "ed"))
_VOWELS = frozenset("aeiou")


def _split(words: str) -> list[str]:
    return words.split()


@lru_cache(maxsize=100_000)  # terms recur across sentences and questions
def term_root(term: str) -> str:
    """A crude root of a :func:`~summarizer.retrieval.tokenize` term, so that inflections match each other.

    "warned", "warning" and "warn" give "warn"; "hired" and "hire" give "hir"; "paid" gives "pay"; "murdered" and
    "murder" give "murd" (an inflection, then "er", is stripped). Only used to compare words, never shown.
    """
    if term in _IRREGULAR:
        return _IRREGULAR[term]
    if not term.isalpha() or term in _CALENDAR:
        return term
    for suffix in _SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            term = term[: -len(suffix)]
            if term.endswith("i"):  # "tried" -> "try"
                term = term[:-1] + "y"
            elif suffix in _INFLECTIONS and term.endswith("er") and len(term) >= 5:
                term = term[:-2]  # "murdered" -> "murder" -> "murd", as "murder" itself
            break
    if len(term) > 3 and term.endswith("e"):
        term = term[:-1]
    if len(term) > 3 and term[-1] == term[-2] and term[-1] not in _VOWELS:
        term = term[:-1]  # "stopped" -> "stopp" -> "stop", and "kill" -> "kil" alike
    return term


_MONTHS = frozenset(
    _split(
        "january february march april may june july august september october november december "
        "jan feb mar apr jun jul aug sep sept oct nov dec"
    )
)
_WEEKDAYS = frozenset(_split("monday tuesday wednesday thursday friday saturday sunday"))
_CALENDAR = _MONTHS | _WEEKDAYS
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12, "dozens": 24, "hundreds": 200,
    "thousands": 2000, "half": 0.5,
}  # fmt: skip
_SCALES = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
# Ordinals by their number: "sixth" and "6th" are one answer.
_ORDINALS = {
    word: number
    for number, word in enumerate(
        _split(
            "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
            "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
        ),
        start=1,
    )
}
_RELATIVE_TIMES = frozenset(
    _split("yesterday today tonight tomorrow morning afternoon evening overnight weekend midnight noon dawn")
)
_TIME_WORDS = _CALENDAR | _RELATIVE_TIMES
_PERSON_NOUNS = frozenset(
    _split(
        """
    person people man men woman women boy girl child children teenager teen official officials minister ministers
    president leader leaders spokesman spokeswoman police officer officers army military troops soldiers rebels
    militants fighters hackers group gang government ministry commission committee council court judge jury
    prosecutors prosecutor investigators authorities agency company firm team club party board union coalition
    parliament congress senate lawmakers regulators navy coast guard embassy family relatives witnesses residents
    suspect suspects gunman gunmen attacker attackers driver pilot doctor doctors nurse staff workers employees
    coach player players actor actress director singer star manager owner chairman chief executive founder
    """
    )
)
_PERSON_ROOTS = frozenset(term_root(noun) for noun in _PERSON_NOUNS)
# The noun a "which/what/how" question asks about decides the answer type.
_PLACE_NOUNS = frozenset(
    _split(
        """city country town village place state province region neighbourhood neighborhood area island district
    county capital location site port border coast street road hospital prison airport camp base"""
    )
)
_TIME_NOUNS = frozenset(_split("time date day year month hour week season"))
_QUANTITY_NOUNS = frozenset(
    _split(
        """number amount price cost magnitude score age percentage percent share rate toll total figure value size
    distance height sum salary fee fine budget round margin tally"""
    )
)
_LOCATIVE = frozenset(_split("in at near off outside inside from between across on into toward towards around"))
_SUBJECT_PRONOUNS = frozenset(_split("he she it they his her its their"))
_PRONOUN_STARTS = frozenset(_split("he she it they his her its their this these those there we"))
# Verbs too general to say what a question is about ("who is taking over", "get rid of").
_LIGHT_VERBS = frozenset(term_root(verb) for verb in _split("take get make go come give put keep let become happen"))


def _verb_group(verbs: str) -> frozenset[str]:
    """The roots of the verbs' forms, and the verbs themselves (the root of an irregular past: "wrote" is write)."""
    forms = [form for verb in _split(verbs) for form in (verb, f"{verb}s", f"{verb}ed", f"{verb}ing")]
    return frozenset(_split(verbs)) | {term_root(term) for form in forms for term in tokenize(form)}


# Verbs that questions and reports use for one another ("get rid of" a coach is to fire him; to pick a surgeon
# general is to nominate her): the question's verb is found in a sentence by any of its group.
_VERB_GROUPS = tuple(
    _verb_group(group)
    for group in (
        "fire sack dismiss oust rid relieve axe",
        "sign hire recruit",
        "pick choose nominate name appoint select tap",
        "stop thwart foil prevent repel repulse intercept halt block",
        "kill murder slay",
        "arrest detain apprehend",
        "beat defeat",
        "buy acquire purchase",
        "replace succeed",
        "write draft",
    )
)
_PASSIVE_AUXILIARIES = frozenset(_split("is are was were be been being get gets got"))
_ROLE_GAP = 5  # words between a verb and the name that fills its role ("signing undrafted rookie running back X")
_NAME_CONNECTORS = frozenset(_split("of de del da du la le van von bin al the"))
_NOT_NAMES = _CALENDAR | frozenset(
    _split(
        """a an the this that these those it its he she they we i you his her their our my in on at for from by
        with as but and or if after before when while since during under over about into of to also both all some
        many most mr mrs ms dr what why how who whom whose which where there here is are was were did does do will
        would could can should has have had may might must shall"""
    )
)

_TOKEN = re.compile(r"\d{1,2}:\d\d|[^\W_]+(?:[-'.’,][^\W_]+)*\.?|[$€£%]")  # "11:30" is a time, not 11 and 30
_DIGITS = re.compile(r"^\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th|s)?$")
_DAY = re.compile(r"\d{1,2}(?:st|nd|rd|th)?")
_CLOCK = re.compile(r"^\d{1,2}[:.]\d\d$|^\d{1,2}(?:am|pm)$|^(?:a\.m|p\.m|am|pm|gmt|bst|utc|edt|est|pdt|pst)\.?$")
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")
_RANK = re.compile(r"^\d+(?:st|nd|rd|th)$")
_POSSESSIVE = re.compile(r"['’]s?$")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*")
_LOWER = re.compile(r"(?<![\w'’.-])[a-z][\w'’.-]*")


@dataclass(frozen=True)
class _Word:
    text: str  # as written, without a final full stop
    lower: str
    capital: bool  # starts with a capital letter (or is an acronym)
    initial: bool  # the first word of its sentence or line
    pause: bool = False  # a comma, semicolon or bracket follows it: a name ends there ("in Yida, South Sudan")
    shouted: bool = False  # in a line written in capitals, where a short word in capitals is no acronym


def _long_words(line: list[_Word]) -> list[_Word]:
    return [word for word in line if len(word.text) >= HEADLINE_WORD and word.text.isalpha()]


def _headline_case(line: list[_Word]) -> bool:
    """Whether a line is written in title case or capitals ("Woman Killed In Queens Hit-And-Run"), as headlines
    are: there a capital letter says nothing about names."""
    long = _long_words(line)
    return len(long) >= HEADLINE_MIN_WORDS and sum(word.capital for word in long) >= HEADLINE_SHARE * len(long)


def _shouted(line: list[_Word]) -> bool:
    """Whether a line is written in capitals ("GRANDMOTHER KILLED BY DRUNK DRIVER ... QUEENS DA SAYS")."""
    long = _long_words(line)
    return bool(long) and sum(word.text.isupper() for word in long) >= HEADLINE_SHARE * len(long)


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[_Word, ...]:
    words: list[_Word] = []
    for line in normalize_text(text).splitlines() or [""]:
        first = True
        in_line: list[_Word] = []
        for match in _TOKEN.finditer(line):
            raw = match.group(0)
            ends_sentence = raw.endswith(".") and len(raw) > 2 and not raw[:-1].isupper()
            raw = raw.rstrip(".") if len(raw) > 1 else raw
            following = line[match.end() : match.end() + 2]
            pause = following.lstrip().startswith((",", ";", "(", ")"))
            in_line.append(_Word(raw, raw.lower(), raw[:1].isupper(), first, pause))
            first = ends_sentence or following.startswith(("?", "!", ":")) or raw in {'"', "“"}
        if _headline_case(in_line):
            # Each capitalised word then counts as a name only where the article writes it so in running text.
            shouted = _shouted(in_line)
            in_line = [_Word(word.text, word.lower, word.capital, True, word.pause, shouted) for word in in_line]
        words += in_line
    return tuple(words)


# Sentences, titles and leads recur across the candidates of one question and across questions: cache their words.
@lru_cache(maxsize=8192)
def _roots(text: str) -> frozenset[str]:
    return frozenset(term_root(term) for term in tokenize(text))


@lru_cache(maxsize=8192)
def capital_roots(text: str) -> frozenset[str]:
    """Roots of the words that ``text`` writes with a capital letter."""
    return frozenset(term_root(term) for term in tokenize(" ".join(_CAPITALISED.findall(text))))


@lru_cache(maxsize=1024)
def name_roots(text: str) -> frozenset[str]:
    """Roots of the words that ``text`` (an article) writes with a capital, outside headlines, and never in lower
    case: its names.

    "Kraft" and "Hiller" are names; "Murder" in a headline is not when the article also writes "murder trial", nor
    is "Tonight" of a "Tonight Show" question matched by "tonight's show".
    """
    # One pass of the tokenizer over each set of distinct words: an article has thousands of words, a few hundred
    # distinct ones.
    running = "\n".join(line for line in text.splitlines() if not _headline_case(list(_words(line))))
    lower = {term_root(term) for term in set(tokenize(" ".join(set(_LOWER.findall(text)))))}
    capital = {term_root(term) for term in set(tokenize(" ".join(set(_CAPITALISED.findall(running)))))}
    return frozenset(capital - lower)


@lru_cache(maxsize=8192)
def _places_in(gazetteer: Gazetteer, text: str) -> frozenset[str]:
    return frozenset(target.id for _, target in gazetteer.find_places(text) if target.kind != "none")


# --- questions -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionName:
    """A name in a question: its words as (term, root) pairs, and the places it is an alias of ("Iranian": IR)."""

    terms: tuple[tuple[str, str], ...]
    places: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks for and what an answer must be about.

    Attributes:
        text: the question.
        answer_type: the kind of word an answer must contain.
        names: the names the question mentions.
        terms: the other salient terms as (term for the word index, root for matching).
        qualifiers: the terms among ``terms`` that only say when (months, weekdays, years): they may appear
            anywhere in the article, since answers rarely repeat the dateline.
        bound: the years and decimal figures the question gives ("in 2013", "the 4.6 earthquake"): they bind as
            names do (a report of another year tells of another event). A year also counts as found when the
            article was published in it.
        ordinals: the ordinals the question gives, each as the forms it may be written in ("13th", "thirteenth")
            and the roots of the words it qualifies ("the 13th Doctor": doctor; "their third fight": fight). The
            sentence or its context must say that ordinal of that thing: "the 12th Doctor", or "the third round"
            of another fight, tells of something else.
        asked: lower-cased words of the question; an answer's evidence must be something else.
        how: the word after "how" that made the question quantitative, if any.
        focus: roots of the words after "which" or "what" that say what kind of thing is asked for ("which bank":
            bank); an answer that names one without them may name something else.
        money: the question asks for a sum of money ("how much did X pay", "what was it worth").
        verb: for "who" and "which X", the roots of the question's verb and those of its group ("who did New
            Orleans sign": sign, hire, recruit); empty when it has none that says a role ("who is on trial").
        role: what the answer is to that verb: "subject" ("which ship stopped ..."), "object" ("who did X sign").
        question_word: the first question word ("who", "which", "how" ...) as the question writes it; empty when it
            has none ("Name the ship that ..."). Its vector in the question's context ranks the answers.
    """

    text: str
    answer_type: AnswerType
    names: tuple[QuestionName, ...]
    terms: tuple[tuple[str, str], ...]
    qualifiers: frozenset[str]
    asked: frozenset[str]
    bound: tuple[str, ...] = ()
    ordinals: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = ()
    how: str = ""  # "many", "long", "old" ... for "how ..." questions (a rank like "sixth" answers none of them)
    focus: frozenset[str] = frozenset()
    money: bool = False
    verb: frozenset[str] = frozenset()
    role: str = ""
    question_word: str = ""

    @property
    def places(self) -> frozenset[str]:
        """Country and region ids of the places the question names."""
        return frozenset(place for name in self.names for place in name.places)


_INTERROGATIVES = frozenset(_split("who whom whose which what when where why how"))
_NAME_OF = frozenset(_split("name names kind type sort"))
FOCUS_WORDS = 3
_MONEY_ROOTS = frozenset(
    term_root(word)
    for word in _split(
        "pay paid spend spent cost price worth money offer offered salary fee fine budget earn sell sold buy bought "
        "charge value bid fund wage"
    )
)  # fmt: skip
_CURRENCY_SIGNS = frozenset(_split("$ € £ ¥ us$ usd eur gbp"))
_CURRENCY_WORDS = frozenset(_split("dollars dollar euros euro pounds pound yen yuan rupees rupee francs roubles"))
_AUXILIARIES = frozenset(_split("did does do will would could can has have had should is was are were"))
_SKIPPED_BEFORE_NOUN = frozenset(_split("is was are were the a an new latest final current next last of"))


def _answer_type(question: str) -> tuple[AnswerType, str]:
    """The answer type and the question word that marks it (dropped from the salient terms)."""
    words = re.findall(r"[\w'-]+", question.lower())
    text = " ".join(words)
    if re.match(r"(?:who|whom|whose)\b", text):
        return AnswerType.ENTITY, ""
    if re.match(r"(?:when|until when|since when)\b", text):
        return AnswerType.TIME, ""
    if re.match(r"where\b", text):
        return AnswerType.PLACE, ""
    how = re.search(r"\bhow (many|much|old|far|long|big|large|high|deep|tall|heavy|fast|often)\b", text)
    if how:
        return AnswerType.QUANTITY, how.group(1)
    if re.search(r"\b(?:what|which)\b.*\bworth\b", text):
        return AnswerType.QUANTITY, "worth"
    called = re.search(r"\bwhat\b.*\b(called|named)$", text)
    if called:  # "what are the drills called": a name
        return AnswerType.ENTITY, called.group(1)
    for position, word in enumerate(words):
        if word not in {"what", "which"}:
            continue
        following = words[position + 1 : position + 6]
        if following and following[0] in _AUXILIARIES - {"is", "was", "are", "were"}:
            return AnswerType.OTHER, ""  # "what did X say": a verb, not a noun, is asked about
        nouns = [each for each in following if each not in _SKIPPED_BEFORE_NOUN]
        for noun in nouns[:3]:
            if noun in _AUXILIARIES:
                break
            singular = noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun
            if singular == "name":
                return AnswerType.ENTITY, "name"
            if singular in _TIME_NOUNS:
                return AnswerType.TIME, noun
            if singular in _QUANTITY_NOUNS:
                return AnswerType.QUANTITY, ""
            if singular in _PLACE_NOUNS:
                return AnswerType.PLACE, ""
        if word == "which" or (following and following[0] not in _AUXILIARIES):
            return AnswerType.ENTITY, ""  # "which coach ...", "what store ...": the answer names one
        return AnswerType.OTHER, ""
    return AnswerType.OTHER, ""


def _name_runs(words: Sequence[_Word], *, known: set[str] | None = None) -> list[list[_Word]]:
    """Runs of capitalised words (with inner "of", "de" ...) that look like names.

    A run that is one word at the start of a sentence is kept only when that word also appears capitalised
    elsewhere (in ``known``): "Capaldi said" counts when "Peter Capaldi" is written somewhere, "Police said" not.
    """
    runs: list[list[_Word]] = []
    current: list[_Word] = []

    def close() -> None:
        while current and current[-1].lower in _NAME_CONNECTORS:
            current.pop()
        if current:
            runs.append(list(current))
        current.clear()

    for word in words:
        name_like = (
            word.capital
            and word.lower not in _NOT_NAMES
            and any(char.isalpha() for char in word.text)
            and not (word.text.isupper() and word.lower in _PERSON_NOUNS)  # "A MAN has been charged"
        )
        joins = bool(current) and word.lower in _NAME_CONNECTORS and not word.capital  # "Bank of England"
        if (name_like and not (word.initial and current)) or joins:
            current.append(word)
        else:
            close()
            if name_like:
                current.append(word)
        if word.pause:
            close()
    close()
    kept = []
    for run in runs:
        acronym = run[0].text.isupper() and len(run[0].text) <= ACRONYM_MAX and not run[0].shouted
        lone_start = len(run) == 1 and run[0].initial and not acronym
        if lone_start and (known is None or run[0].lower not in known):
            continue
        if len(run) == 1 and run[0].lower in _PERSON_NOUNS:
            continue  # "Man charged with ...", "Police said": a noun, not a name
        kept.append(run)
    return kept


def profile_question(question: str, gazetteer: Gazetteer | None = None) -> QuestionProfile:
    """Analyse a question: its answer type, the names it mentions and its other salient terms."""
    gazetteer = gazetteer or load_gazetteer()
    answer_type, marker = _answer_type(question)
    words = _words(question)
    names: list[QuestionName] = []
    name_words: set[str] = set()
    for run in _name_runs(words, known=set()):
        terms = tuple((term, term_root(term)) for word in run for term in tokenize(word.text))
        if terms:
            phrase = " ".join(word.text for word in run)
            places: frozenset[str] = frozenset()
            if gazetteer.is_place_name(phrase):  # "Washington Navy Yard" is not Washington: the name must be found
                places = frozenset(target.id for _, target in gazetteer.find_places(phrase) if target.kind != "none")
            names.append(QuestionName(terms, places))
            name_words |= {word.lower for word in run}
    terms_: list[tuple[str, str]] = []
    seen: set[str] = set()
    for word in words:
        if word.lower in name_words or word.lower == marker:
            continue
        for term in tokenize(word.text):
            root = term_root(term)
            if root not in seen and term != marker and root not in _LIGHT_VERBS:
                seen.add(root)
                terms_.append((term, root))
    bound = tuple(term for term, _ in terms_ if _YEAR.match(term) or re.fullmatch(r"\d+\.\d+", term))
    ordinals = tuple(
        (forms, frozenset(root for each in words[index + 1 : index + 1 + ORDINAL_REACH] for root in _roots(each.text)))
        for index, word in enumerate(words)
        if word.lower not in {"first", "1st"} and (forms := _ordinal_forms(word.lower))
    )  # "first" marks the original ("the first film", "for the first time") more than one of many
    qualifiers = frozenset(root for term, root in terms_ if root in _CALENDAR or _YEAR.match(term))
    roots = {root for _, root in terms_}
    verb, role = _asked_role(words) if answer_type is AnswerType.ENTITY else (frozenset(), "")
    how = marker if marker and re.search(rf"\bhow {marker}\b", question.lower()) else ""
    money = answer_type is AnswerType.QUANTITY and bool(roots & _MONEY_ROOTS or marker == "worth")
    focus: frozenset[str] = frozenset()
    if answer_type in {AnswerType.ENTITY, AnswerType.PLACE} or (answer_type is AnswerType.QUANTITY and not how):
        focus = _focus(words, name_words)
        if not focus and answer_type is AnswerType.ENTITY and _who_is_noun(words):
            focus = _focus(words, name_words, after=frozenset({"who"}))  # "who was AMD's chief executive"
    elif answer_type is AnswerType.QUANTITY and how == "many" and not money:
        focus = _focus(words, name_words, after=frozenset({"many"}), last=False)
    return QuestionProfile(
        text=question,
        answer_type=answer_type,
        names=tuple(names),
        terms=tuple(terms_),
        qualifiers=qualifiers,
        asked=frozenset(word.lower for word in words),
        bound=bound,
        ordinals=ordinals,
        how=how,
        focus=focus,
        money=money,
        verb=verb,
        role=role,
        question_word=next((word.text for word in words if word.lower in _INTERROGATIVES), ""),
    )


def _ordinal_forms(term: str) -> tuple[str, ...]:
    """An ordinal in digits and in words ("13th", "thirteenth"); none for another word."""
    number = _ORDINALS.get(term) or (int(term[:-2]) if _RANK.match(term) else None)
    if number is None:
        return ()
    word = next((each for each, value in _ORDINALS.items() if value == number), None)
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return tuple(form for form in (f"{number}{suffix}", word) if form)


def _who_is_noun(words: Sequence[_Word]) -> bool:
    """Whether a "who" question asks who holds a role: "who was AMD's chief executive", "who is the new coach" (not
    "who is on trial", "who was found guilty")."""
    lower = [word.lower for word in words]
    if len(lower) < 3 or lower[0] != "who" or lower[1] not in {"is", "was", "are", "were"}:
        return False
    return lower[2] in _DETERMINERS or bool(_POSSESSIVE.search(lower[2]) and words[2].capital)


_DO = frozenset(_split("did does do"))
_QUESTION_WORDS = frozenset(_split("who whom whose which what when where why how that"))
_MODALS = frozenset(_split("will would could can should may might has have had"))
_DETERMINERS = frozenset(_split("the a an his her their its this that"))


def _asked_role(words: Sequence[_Word]) -> tuple[frozenset[str], str]:
    """The verb of a "who" or "which X" question and the role its answer plays: "who did New Orleans sign" (the
    object of "sign"), "which ship stopped the pirates" (the subject of "stop"). None for "who is/was ..." (a
    state or a passive: "who is on trial", "who was found guilty") or a question of another shape."""
    lower = [word.lower for word in words]
    start = next((i for i, word in enumerate(lower) if word in {"who", "whom", "which", "what"}), None)
    if start is None:
        return frozenset(), ""
    at = start + 1
    if lower[start] in {"which", "what"}:  # past the noun asked about: "which Indian navy ship"
        while at < len(lower) and lower[at] not in _AUXILIARIES and not lower[at].endswith(("ed", "ing")):
            at += 1
    if at >= len(lower) or lower[at] in {"is", "was", "are", "were"}:
        return frozenset(), ""
    role = "subject"
    subject_follows = at + 1 < len(lower) and (words[at + 1].capital or lower[at + 1] in _DETERMINERS)
    if lower[at] in _DO or (lower[at] in _MODALS and subject_follows):
        role, at = "object", at + 1  # "who did New Orleans sign": past the subject to its verb
        while at < len(lower) and lower[at] in _DETERMINERS:
            at += 1
        subject_start = at
        while at < len(lower) and (words[at].capital or lower[at][:1].isdigit()):
            at += 1
        if at == subject_start:  # a subject in lower case: "did protesters set"
            at += 1
    elif lower[at] in _MODALS:
        at += 1  # "who will write ..."
    while at < len(lower) and (term_root(lower[at]) in _LIGHT_VERBS or lower[at].endswith("ly")):
        at += 1  # "get rid of": rid; "did he finally sign": sign
    if at >= len(lower) or lower[at] in _AUXILIARIES or not lower[at].isalpha() or lower[at] in {"been", "be"}:
        return frozenset(), ""
    root = term_root(lower[at])
    return next((group for group in _VERB_GROUPS if root in group), frozenset({root})), role


def _focus(
    words: Sequence[_Word],
    name_words: set[str],
    *,
    after: frozenset[str] = frozenset({"which", "what"}),
    last: bool = True,
) -> frozenset[str]:
    """The root of the noun that "which" or "what" asks about: the last word of the words after it, names and
    "the name of" skipped, up to a verb, a preposition or an article ("which Indian navy ship stopped": ship).
    With ``after={"many"}, last=False``, the roots of what "how many" counts ("how many fire crews": fire, crew)."""
    for position, word in enumerate(words):
        if word.lower not in after:
            continue
        found: list[str] = []
        for following in words[position + 1 :]:
            lower = following.lower
            ends = lower in _AUXILIARIES | _LOCATIVE | _QUESTION_WORDS or lower in {"of", "the", "a", "an", "to", "by"}
            verb = lower.endswith(("ed", "ing")) or lower in _IRREGULAR_VERBS  # "the teenager shot dead"
            if found and (ends or verb or len(found) == FOCUS_WORDS):
                break
            if lower in name_words or lower in _SKIPPED_BEFORE_NOUN | _NAME_OF:
                continue
            found += [term_root(term) for term in tokenize(following.text)]
        return frozenset(found[-1:] if last else found)
    return frozenset()


# --- candidate sentences -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A retrieved sentence, the outlet it comes from, and what its article says around it.

    Attributes:
        text: the sentence.
        source: its outlet (sentences of one outlet never support each other).
        context: its article's title, lead sentence and the sentence before it.
        article_terms: the question's terms (as :func:`~summarizer.retrieval.tokenize` gives them) that occur
            anywhere in its article, for names and dates mentioned only once, in the dateline or the lead; and
            the year it was published.
        article_places: country and region ids its article is tagged with.
        article_names: roots of the names its article writes (:func:`name_roots`): a question's name must be one
            of them (or written with a capital around the sentence), and a capitalised word at the start of a
            sentence or in a headline names something only if it is one. Empty: not known.
    """

    text: str
    source: str
    context: str = ""
    article_terms: frozenset[str] = frozenset()
    article_places: frozenset[str] = frozenset()
    article_names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AnswerCheck:
    """How well one sentence answers a question.

    Attributes:
        names_covered: every name (and place) of the question is in the sentence or its context.
        coverage: IDF-weighted share of the question's other salient terms found (context counted as explained
            in the module docstring), 0 to 1.
        evidence: what the sentence offers of the asked-for kind (names, numbers, dates or places), lower-cased;
            empty for `AnswerType.OTHER`.
        typed: the sentence has evidence of the asked-for kind (always true for `AnswerType.OTHER`).
        in_own_words: the share of the salient terms found in the sentence itself (ranks the answers).
        close: the encoder finds the sentence very close to the question, which stands in for the words a close
            paraphrase changes ("draft" for "write"): then ``PARAPHRASE_COVERAGE`` of the terms is enough.
        strength: how plainly the evidence answers, 0 to 1 (ranks the answers): for "who" and "which X", a name
            says more than a place, a place more than a person noun ("a man"); less when the sentence's subject
            is a pronoun ("He will take over ...": the name is in the sentence before) or, for "which X", when
            the sentence does not say X.
        in_role: a name the question does not give fills the role the question's verb asks about ("who did New
            Orleans sign": "signed Joique Bell"; see `_fills_role`); such a sentence leads.
    """

    names_covered: bool
    coverage: float
    evidence: frozenset[str]
    typed: bool
    in_own_words: float = 0.0
    close: bool = False
    strength: float = 1.0
    in_role: bool = False

    @property
    def answers(self) -> bool:
        """Whether the sentence counts as an answer."""
        return self.names_covered and self.typed and (self.coverage >= COVERAGE_MIN or self.close)


_FIGURE = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _numbers(words: Sequence[_Word], asked: frozenset[str], *, ordinals: bool) -> set[str]:
    found: set[str] = set()
    for index, word in enumerate(words):
        value: float | None = None
        text = word.lower
        previous = words[index - 1].lower if index else ""
        following = words[index + 1].lower if index + 1 < len(words) else ""
        if _DIGITS.match(text):
            if not ordinals and _RANK.match(text):
                continue  # "the 21st head coach" tells no age or count
            if _YEAR.match(text) or previous in _MONTHS or following in _MONTHS:
                continue  # a year or a day of a month is a date, not a count
            digits = re.sub(r"(?:st|nd|rd|th|s)$", "", text).replace(",", "")
            try:
                value = float(digits)
            except ValueError:
                continue
        elif text in _NUMBER_WORDS:
            value = float(_NUMBER_WORDS[text])
        elif ordinals and text in _ORDINALS:
            value = float(_ORDINALS[text])  # "sixth" for "in what round": 6, as "6th" is
        elif "-" in text and _FIGURE.fullmatch(first := text.split("-")[0]):
            if not text.split("-")[1].isalpha():
                found.add(text)  # a score or a range: "20-13"
                continue
            value = float(first.replace(",", ""))  # "6.1-magnitude", "16-year-old": the figure of a unit
        elif "-" in text and text.split("-")[0] in _QUANTITY_NOUNS and _FIGURE.fullmatch(last := text.split("-")[-1]):
            value = float(last.replace(",", ""))  # "magnitude-5.9": the unit before its figure (not "AK-47")
        if value is None or text in asked:
            continue
        value *= _SCALES.get(following, 1.0)
        found.add(f"{value:g}")
    return found


# The units that answer "how long", "how far" ...: "for 15 years", "a depth of 1.2 miles".
_DURATIONS = "second seconds minute minutes hour hours day days week weeks month months year years decade decades"
_LENGTHS = "inch inches foot feet yard yards mile miles metre metres meter meters km kilometre kilometres kilometers"
_UNITS = {
    how: frozenset(term_root(term) for word in _split(words) for term in tokenize(word))
    for how, words in (
        ("long", f"{_DURATIONS} {_LENGTHS}"),
        ("far", _LENGTHS),
        ("deep", _LENGTHS),
        ("high", _LENGTHS),
        ("tall", _LENGTHS),
        ("often", "times time"),
    )
}


def _is_age(words: Sequence[_Word], index: int) -> bool:
    """Whether the number at ``index`` is an age: set off by commas after a name ("Cheeks, 48,"), "48-year-old",
    "48 years old", "aged 48"."""
    word = words[index]
    before = words[index - 1] if index else None
    after = [each.lower for each in words[index + 1 : index + 3]]
    return (
        word.lower.endswith(("-year-old", "-years-old"))
        or after[:1] in (["year-old"], ["years-old"])
        or after == ["years", "old"]
        or (before is not None and (before.lower in {"aged", "age"} or (before.pause and word.pause)))
    )


def _counting(profile: QuestionProfile, words: Sequence[_Word]) -> float:
    """How plainly a sentence's numbers tell what the question counts or ranks: "how many fire crews" is answered
    by a number before "crews" ("Eight crews fought the blaze"), less plainly by "dozens of firefighters"; "in what
    round" asks for a rank, which "in six rounds" (a count of rounds) does not say and "the sixth round" does; "how
    old" is answered by an age ("Cheeks, 48,", "a 48-year-old", "aged 48"), not "for seven seasons", and most plainly
    by the age of the one asked about; "how long", "how far", "how deep" ... by a figure with its unit."""
    ordinals = not profile.how
    numbers = [index for index, word in enumerate(words) if _numbers([word], profile.asked, ordinals=ordinals)]
    if profile.how == "old":
        ages = [index for index in numbers if _is_age(words, index)]
        if not ages:
            return FAR_FROM_FOCUS
        # "Zurana Horton, 34," answers "how old was Zurana Horton"; "Andrew Lopez, 20" is another's age
        own = any(
            word.capital and _asked(profile, word) for index in ages for word in words[max(0, index - 2) : index + 3]
        )
        return 1.0 if own or not profile.names else UNSAID_COUNT
    if profile.how in _UNITS:
        units = _UNITS[profile.how]
        measured = any(units & _roots(word.text) for index in numbers for word in words[index : index + 3])
        return 1.0 if measured else FAR_FROM_FOCUS  # "how long had she worked": "15 years", not "two co-workers"
    if not profile.focus:
        return 1.0

    def says_focus(word: _Word) -> bool:
        return bool(profile.focus & _roots(word.text))

    if profile.how == "many":
        counted = [
            index for index in numbers if any(says_focus(word) for word in words[index + 1 : index + 2 + FOCUS_GAP])
        ]
        if not counted:
            return FAR_FROM_FOCUS
        # "how many people were killed": "10 people had been killed", not "home to 120,000 people"
        said = {root for term, root in profile.terms if term.endswith("ed") or term in _IRREGULAR_VERBS} - profile.focus
        near = (words[max(0, index - COUNT_REACH) : index + 2 + FOCUS_GAP + COUNT_REACH] for index in counted)
        return 1.0 if not said or any(said & _roots(word.text) for window in near for word in window) else UNSAID_COUNT
    counts = any(
        index + 1 < len(words) and words[index + 1].lower.endswith("s") and says_focus(words[index + 1])
        for index in numbers
    )
    ranks = any(words[index].lower in _ORDINALS or _RANK.match(words[index].lower) for index in numbers)
    return FAR_FROM_FOCUS if counts and not ranks else 1.0


def _timeliness(profile: QuestionProfile, times: set[str]) -> float:
    """How plainly a sentence's times answer "when": a year alone says less than a month, a month less than a day
    ("to host Oscars in 2014", "a November 2013 release" against "on Sunday, March 2, 2014"), and "at what time"
    asks for a time of day ("2:09 a.m.", not "this morning")."""
    if profile.asked & {"time", "hour"}:
        return 1.0 if any(_CLOCK.match(each) for each in times) else FAR_FROM_FOCUS
    if any(not _YEAR.match(each) and (each[:1].isdigit() or each not in _MONTHS) for each in times):
        return 1.0  # a day: "November 22", "on Saturday", "yesterday", "at 2:09"
    if any(each in _MONTHS for each in times):
        return MONTH_ONLY_STRENGTH
    return YEAR_ONLY_STRENGTH if times else 0.0


def _sums(words: Sequence[_Word]) -> set[str]:
    """Sums of money: a figure after a currency sign ("$334 million", "US$ 3m") or before a currency word."""
    found: set[str] = set()
    for index, word in enumerate(words):
        if not _DIGITS.match(word.lower):
            continue
        before = words[index - 1].lower if index else ""
        after = [each.lower for each in words[index + 1 : index + 3]]
        if before in _CURRENCY_SIGNS or any(each in _CURRENCY_WORDS for each in after):
            found |= _numbers(words[index : index + 2], frozenset(), ordinals=False)
    return found


def _times(words: Sequence[_Word], asked: frozenset[str]) -> set[str]:
    found = set()
    for index, word in enumerate(words):
        text = word.lower
        if text in asked:
            continue
        if text in _TIME_WORDS or _YEAR.match(text) or _CLOCK.match(text):
            found.add(term_root(text))
        elif _DAY.fullmatch(text) and (
            not text.isdigit() or any(each.lower in _CALENDAR for each in words[max(0, index - 1) : index + 2])
        ):
            found.add(text)  # a day of a month: "the 22nd", "November 22", "8 October"
    return found


def _places(words: Sequence[_Word], runs: Sequence[list[_Word]], gazetteer: Gazetteer, text: str,
            profile: QuestionProfile) -> set[str]:  # fmt: skip
    found = {target.id for _, target in gazetteer.find_places(text) if target.kind != "none"} - profile.places
    position = {id(word): index for index, word in enumerate(words)}
    for run in runs:
        start = position[id(run[0])]
        before = {word.lower for word in words[max(0, start - 2) : start]}  # "in Richmond Hill", "at the Ritz"
        phrase = " ".join(word.text for word in run)
        aliases = {target.id for _, target in gazetteer.find_places(phrase)}
        if before & _LOCATIVE and not (aliases and aliases <= profile.places):
            found.add(_POSSESSIVE.sub("", phrase.lower()))
    return found


def _has(roots: frozenset[str], root: str) -> bool:
    """Whether ``root`` is among ``roots``; a hyphenated word also when all its parts are ("T - Mobile", "hit and
    run" for "hit-and-run")."""
    if root in roots:
        return True
    parts = [term_root(term) for part in root.split("-") for term in tokenize(part)]
    return len(parts) > 1 and all(part in roots for part in parts)


def check_candidate(
    profile: QuestionProfile,
    candidate: Candidate,
    weight: Callable[[str], float] | None = None,
    gazetteer: Gazetteer | None = None,
    *,
    similarity: float = 0.0,
) -> AnswerCheck:
    """Check whether ``candidate`` answers the question of ``profile`` (see the module docstring for the rules).

    Args:
        profile: the analysed question.
        candidate: the sentence with its source and context.
        weight: the weight of a salient term (its IDF over the archive); default: every term weighs 1.
        gazetteer: the place names (default: the bundled one).
        similarity: the encoder's cosine between the question and the sentence (for close paraphrases).
    """
    gazetteer = gazetteer or load_gazetteer()
    weight = weight or (lambda _term: 1.0)
    in_sentence = _roots(candidate.text)
    in_context = _roots(candidate.context)
    words = _words(candidate.text)
    first = words[0].lower if words else ""
    refers_back = first in _PRONOUN_STARTS or len(words) < SHORT_SENTENCE
    context_credit = 1.0 if refers_back else CONTEXT_CREDIT

    def anywhere(term: str, root: str) -> bool:
        return _has(in_sentence, root) or _has(in_context, root) or term in candidate.article_terms

    names_covered = (
        all(_name_covered(name, anywhere, weight, candidate, gazetteer) for name in profile.names)
        and _names_a_rarer_one_near(profile, candidate, weight)
        and all(anywhere(term, term) for term in profile.bound)
        and all(_says_ordinal(forms, nouns, candidate) for forms, nouns in profile.ordinals)
    )
    total = found = own = 0.0
    for term, root in profile.terms:
        share = weight(term)
        total += share
        if _has(in_sentence, root):
            found, own = found + share, own + share
        elif root in profile.qualifiers and anywhere(term, root):
            found += share
        elif _has(in_context, root):
            found += share * context_credit
    # Names count too, by their rarest word: a sentence that names what the question names is about it even
    # when it says the rest in other words ("AMD will pay $334 million for SeaMicro" for "spend to buy").
    places_here = _places_in(gazetteer, candidate.text)
    for name in profile.names:
        term, rarest = _rarest(name, weight)
        share = NAME_WEIGHT * weight(term)
        total += share
        if _has(in_sentence, rarest) or name.places & places_here:
            found, own = found + share, own + share
        else:
            found += share * context_credit  # covered elsewhere in the article (names_covered says whether)
    coverage = found / total if total else 1.0
    in_own_words = own / total if total else 1.0
    close = similarity >= PARAPHRASE_SIMILARITY and coverage >= PARAPHRASE_COVERAGE
    if not names_covered or not (coverage >= COVERAGE_MIN or close):
        return AnswerCheck(names_covered, coverage, frozenset(), False, in_own_words, close)
    evidence, strength = _evidence(profile, candidate, words, gazetteer)
    # "his team will not sign Mark Teixeira" denies what "which team did he sign with" asks: no answer
    typed = (
        (profile.answer_type is AnswerType.OTHER or bool(evidence))
        and not _denies(profile, words)
        and not _asks(candidate.text)
    )
    runs = _name_runs(words, known=_known(candidate, words)) if typed and profile.verb else []
    in_role = bool(runs) and _fills_role(profile, words, runs)
    return AnswerCheck(
        names_covered, coverage, evidence, typed, in_own_words, close, strength if typed else 0.0, in_role
    )


def _phrase(run: list[_Word]) -> str:
    return _POSSESSIVE.sub("", " ".join(word.text for word in run).lower())


def _asked(profile: QuestionProfile, word: _Word) -> bool:
    """Whether a word of a sentence is one the question says ("Oscar" for "Oscars", "Okla" for "Oklahoma")."""
    if word.lower in profile.asked:
        return True
    roots = _roots(word.text)
    asked = _asked_roots(profile)
    if roots and roots <= asked:
        return True
    return len(word.lower) >= 3 and any(other.startswith(word.lower) for other in profile.asked if len(other) > 4)


@lru_cache(maxsize=256)
def _asked_roots(profile: QuestionProfile) -> frozenset[str]:
    return frozenset(term_root(term) for word in profile.asked for term in tokenize(word))


def _evidence(
    profile: QuestionProfile, candidate: Candidate, words: Sequence[_Word], gazetteer: Gazetteer
) -> tuple[frozenset[str], float]:
    """What the sentence offers of the kind the question asks for (see `AnswerCheck.evidence`), and how plainly
    (`AnswerCheck.strength`)."""
    kind = profile.answer_type
    if kind is AnswerType.QUANTITY and profile.money:
        return frozenset(_sums(words)), 1.0
    if kind is AnswerType.QUANTITY:
        return frozenset(_numbers(words, profile.asked, ordinals=not profile.how)), _counting(profile, words)
    if kind is AnswerType.TIME:
        times = _times(words, profile.asked)
        return frozenset(times), _timeliness(profile, times)
    if kind is AnswerType.OTHER:
        return frozenset(), 1.0
    every_run = _name_runs(words, known=_known(candidate, words))
    runs = [run for run in every_run if not all(_asked(profile, word) for word in run)]
    position = {id(word): index for index, word in enumerate(words)}
    focus = [index for index, word in enumerate(words) if profile.focus & _roots(word.text)]

    person_focus = bool(profile.focus & _PERSON_ROOTS)

    def by_focus(run: list[_Word]) -> float:
        """ "Which bank": "Marfin Bank", "the bank, Marfin" say it; a name far from "bank" may be another thing."""
        if not profile.focus:
            return 1.0
        start, end = position[id(run[0])], position[id(run[-1])]
        if person_focus and end + 1 in focus:
            return FAR_FROM_FOCUS  # "a Norwalk Superior Court judge": where the judge sits, not who the judge is
        return 1.0 if any(start - FOCUS_GAP <= index <= end + FOCUS_GAP for index in focus) else FAR_FROM_FOCUS

    if kind is AnswerType.PLACE:
        places = _places(words, runs, gazetteer, candidate.text, profile)
        # "which island": the name next to "island" is a place too ("the island of Qeshm", "Yida refugee camp"),
        # and the plainest answer; a country or a demonym beside it describes the thing: "South Sudanese refugee camp")
        named: list[list[_Word]] = []
        for run in runs if profile.focus else ():
            if by_focus(run) == 1.0 and not _places_in(gazetteer, " ".join(word.text for word in run)):
                places.add(_phrase(run))
                named.append(run)
        if not profile.focus:
            named = [run for run in runs if _phrase(run) in places]
        strength = max((by_focus(run) for run in named), default=1.0 if not profile.focus else FAR_FROM_FOCUS)
        return frozenset(places), strength if places else 0.0
    found = {_POSSESSIVE.sub("", " ".join(word.lower for word in run)) for run in runs}
    strength = 0.0
    for run in runs:
        start = position[id(run[0])]
        phrase = " ".join(word.text for word in run)
        end = position[id(run[-1])]
        if _places_in(gazetteer, phrase) or {word.lower for word in words[max(0, start - 2) : start]} & _LOCATIVE:
            kind_of = PLACE_STRENGTH  # "at the Kraft Foods plant in Northeast Philadelphia": where, not who
        elif _reports(words, position, start, end, every_run) and not profile.asked & _REPORTING:
            kind_of = REPORTER_STRENGTH  # "The BBC says actor Matt Smith will take over": who tells, not who does
        elif sum(not _asked(profile, word) for word in run) < min(2, len(run)):
            kind_of = PARTIAL_STRENGTH  # "New Orleans Saints" for a question naming New Orleans
        else:
            kind_of = 1.0
        strength = max(strength, kind_of * by_focus(run))
    # A person or organisation noun ("the commission", "police") answers "who" too, but says less than a name:
    # marked, so that two sentences are not taken for one fact because both say "officials".
    nouns = {WEAK + word.lower for word in words if word.lower in _PERSON_NOUNS and word.lower not in profile.asked}
    if nouns:
        found |= nouns
        strength = max(strength, WEAK_STRENGTH)
    if words and words[0].lower in _SUBJECT_PRONOUNS:
        strength *= 0.5  # "He will take over ...": who is in the sentence before
    return frozenset(found), strength


def _known(candidate: Candidate, words: Sequence[_Word]) -> set[str]:
    """The capitalised words of the sentence that are names wherever they stand (see `_name_runs`)."""
    if candidate.article_names:
        return {word.lower for word in words if word.capital and term_root(word.lower) in candidate.article_names}
    return {word.lower for word in (*_words(candidate.context), *words) if word.capital and not word.initial}


_NEGATIONS = frozenset(_split("not never no nor"))
NEGATION_REACH = 3  # words before the verb: "will not sign", "has never been charged"


def _denies(profile: QuestionProfile, words: Sequence[_Word]) -> bool:
    """Whether the sentence says the question's verb only to deny it ("will not sign", "didn't hire")."""
    verbs = [index for index, word in enumerate(words) if profile.verb & _roots(word.text)]
    return bool(verbs) and all(
        any(
            each.lower in _NEGATIONS or each.lower.endswith(("n't", "n’t"))
            for each in words[max(0, at - NEGATION_REACH) : at]
        )
        for at in verbs
    )


def _asks(text: str) -> bool:
    """Whether the sentence is itself a question, which tells nothing ("Should the Yankees go higher than $25
    million a season for Teixeira?")."""
    return text.rstrip(" \"'”’)").endswith("?")


def _fills_role(profile: QuestionProfile, words: Sequence[_Word], runs: Sequence[list[_Word]]) -> bool:
    """Whether a name the question does not give fills, in the sentence, the role the question asks about: the
    object of its verb ("the Sixers fired Jim O'Brien", "O'Brien was relieved") or its subject ("INS Sukanya
    thwarted the attack", "stopped by INS Sukanya"). In "Maurice Cheeks was fired" the one fired is the
    question's own Cheeks: that sentence tells of another event. No syntax: the name next to the verb, on the
    side the role and the voice say, else (before the verb) the sentence's first name."""
    position = {id(word): index for index, word in enumerate(words)}
    spans = [(position[id(run[0])], position[id(run[-1])], not all(_asked(profile, w) for w in run)) for run in runs]
    for verb, word in enumerate(words):
        if not profile.verb & _roots(word.text):
            continue
        passive = verb > 0 and words[verb - 1].lower in _PASSIVE_AUXILIARIES
        if (profile.role == "object") != passive:  # after the verb: its object, or a passive's "by" agent
            after = verb + 1
            if passive:
                if not any(each.lower == "by" for each in words[after : after + 2]):
                    continue
                after += 1
            filler = next((new for start, _, new in spans if after <= start <= verb + _ROLE_GAP), None)
        else:  # right before the verb and its auxiliaries, an age or an adverb between at most ("Hiller, 43, was
            # suspended", "INS Sukanya quickly thwarted"); else the sentence's first name, its likely subject
            chain = verb
            while chain > 0 and words[chain - 1].lower in _PASSIVE_AUXILIARIES | _MODALS | {"to"}:
                chain -= 1
            if chain > 0 and (words[chain - 1].lower.isdigit() or words[chain - 1].lower.endswith("ly")):
                chain -= 1
            before = [(end, new) for _, end, new in spans if end < chain]
            filler = before[-1][1] if before and before[-1][0] == chain - 1 else (before[0][1] if before else None)
        if filler:
            return True
    return False


_REPORTING = frozenset(_split("says said say reports reported report told tweeted writes wrote"))


def _reports(
    words: Sequence[_Word], position: Mapping[int, int], start: int, end: int, runs: Sequence[list[_Word]]
) -> bool:
    """Whether the name at ``words[start:end + 1]`` only attributes what another name does: "The BBC says actor
    Matt Smith will ...", "according to Reuters". Not when no other name is there: in "JNIM said that it had
    carried out the ambush" JNIM is who did it. ``position`` is each word's index, by ``id``."""
    following = words[end + 1].lower if end + 1 < len(words) else ""
    before = [word.lower for word in words[max(0, start - 2) : start]]
    if following in _REPORTING:  # the reported clause names its own subject: "says actor Matt Smith will"
        return any(end + 1 < position[id(run[0])] <= end + 1 + REPORTED_SUBJECT_GAP for run in runs)
    return before == ["according", "to"] and any(run[0] is not words[start] for run in runs)


def _names_a_rarer_one_near(profile: QuestionProfile, candidate: Candidate, weight: Callable[[str], float]) -> bool:
    """Whether, of a question with several names, the sentence or its context names one besides the commonest (a
    place may be anywhere): a report on AMD buying SeaMicro that mentions Calxeda once in passing does not tell
    what AMD paid for Calxeda; "Obama ... the Bush rule ... at the Interior Department" is answered by a sentence
    naming Bush. Only where the article's names are known (as in search), since "near" needs them."""
    if len(profile.names) < 2 or not candidate.article_names:
        return True
    others = sorted(profile.names, key=lambda name: weight(_rarest(name, weight)[0]))[1:]
    near = capital_roots(candidate.text) | capital_roots(candidate.context)
    return any(name.places or _has(near, _rarest(name, weight)[1]) for name in others)


def _rarest(name: QuestionName, weight: Callable[[str], float]) -> tuple[str, str]:
    """The (term, root) of a name's rarest word: "Tonight" of "Tonight Show"."""
    return max(name.terms, key=lambda pair: weight(pair[0]))


def _says_ordinal(forms: tuple[str, ...], nouns: frozenset[str], candidate: Candidate) -> bool:
    """Whether the sentence or its context says the ordinal of the thing the question qualifies with it: "the
    thirteenth Doctor" for "the 13th Doctor" (see `QuestionProfile.ordinals`)."""
    for text in (candidate.text, candidate.context):
        words = _words(text)
        for index, word in enumerate(words):
            following = words[index + 1 : index + 1 + ORDINAL_REACH]
            if word.lower in forms and (not nouns or any(nouns & _roots(each.text) for each in following)):
                return True
    return False


def _name_covered(
    name: QuestionName,
    anywhere: Callable[[str, str], bool],
    weight: Callable[[str], float],
    candidate: Candidate,
    gazetteer: Gazetteer,
) -> bool:
    """A name counts when its rarest word occurs ("Tonight" of "Tonight Show", not "show"), or (for a place) any
    alias of that place."""
    term, root = _rarest(name, weight)
    if candidate.article_names:
        capitals = capital_roots(candidate.text) | capital_roots(candidate.context) | candidate.article_names
        if _has(capitals, root):
            return True
    elif anywhere(term, root):
        return True
    if not name.places:
        return False
    if name.places & candidate.article_places:
        return True
    return bool(name.places & (_places_in(gazetteer, candidate.text) | _places_in(gazetteer, candidate.context)))


# --- choosing the reply --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChosenSentence:
    """A sentence of the reply: its index among the candidates, and other sources that state the same fact.

    Attributes:
        index: the candidate's index (as in `ScoredPassage.index`).
        score: its rank among the answers as plain (`AnswerRank.value`).
        also: indexes of candidates from other sources stating the same fact, best first (one per source).
    """

    index: int
    score: float
    also: tuple[int, ...] = ()


@dataclass
class _Pick:
    index: int
    score: float  # its rank (`AnswerRank.value`)
    check: AnswerCheck
    roots: set[str]
    also: list[int] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)


def _novelty(roots: set[str], known: set[str]) -> float:
    """The share of ``roots`` (a sentence's content words beyond the question's) not in ``known``."""
    return len(roots - known) / len(roots) if roots else 0.0


@dataclass(frozen=True)
class AnswerRank:
    """What ranks an answering sentence among the answers as plain (see the module docstring).

    Attributes:
        to_asked: the cosine between the sentence and the question word's vector.
        to_question: the cosine between the sentence and the question.
        in_own_words: `AnswerCheck.in_own_words`.
        support: how far other outlets' answers agree with its answer, 0 to 1 (see `_support`).
    """

    to_asked: float
    to_question: float
    in_own_words: float
    support: float = 0.0

    @property
    def value(self) -> float:
        """The rank: higher leads."""
        return (
            self.to_asked
            - TOPIC_DISCOUNT * self.to_question
            + OWN_WORDS_WEIGHT * self.in_own_words
            + SUPPORT_WEIGHT * self.support
        )


@dataclass(frozen=True)
class Answering:
    """A sentence that answers: its index among the candidates, its check, and what ranks it."""

    index: int
    check: AnswerCheck
    rank: AnswerRank


def plainness(check: AnswerCheck) -> tuple[bool, float]:
    """What orders answers before their rank (ascending): a name in the asked role first ("signed Joique Bell"
    before "Pierre Thomas was placed on injured reserve" for "who did New Orleans sign"), then the plainer answer
    ("who": a name before "a woman")."""
    return (not check.in_role, -check.strength)


def answering_sentences(
    profile: QuestionProfile,
    ranked: Sequence[ScoredPassage],
    candidates: Sequence[Candidate],
    vectors: np.ndarray,
    *,
    weight: Callable[[str], float] | None = None,
    gazetteer: Gazetteer | None = None,
    asked: np.ndarray | None = None,
) -> list[Answering]:
    """The sentences among the best-ranked that answer the question (`AnswerCheck.answers`), in retrieval order.

    The arguments are those of `select_answer`.
    """
    gazetteer = gazetteer or load_gazetteer()
    weight = weight or (lambda _term: 1.0)
    found: list[tuple[ScoredPassage, AnswerCheck]] = []
    for passage in ranked[:CONSIDERED]:
        if passage.score < MIN_SCORE:
            break
        check = check_candidate(profile, candidates[passage.index], weight, gazetteer, similarity=passage.dense)
        if check.answers:
            found.append((passage, check))
    support = _support(found, candidates, _asked_roots(profile))
    return [
        Answering(
            passage.index,
            check,
            AnswerRank(
                float(vectors[passage.index] @ asked) if asked is not None else passage.dense,
                passage.dense,
                check.in_own_words,
                agreed,
            ),
        )
        for (passage, check), agreed in zip(found, support, strict=True)
    ]


def select_answer(
    profile: QuestionProfile,
    ranked: Sequence[ScoredPassage],
    candidates: Sequence[Candidate],
    vectors: np.ndarray,
    *,
    weight: Callable[[str], float] | None = None,
    max_sentences: int = 1 + MAX_SUPPORTING,
    gazetteer: Gazetteer | None = None,
    asked: np.ndarray | None = None,
) -> list[ChosenSentence]:
    """Choose the reply: the best answering sentence, then up to two from other sources that add something.

    Args:
        profile: the analysed question (:func:`profile_question`).
        ranked: retrieved sentences, best first (:func:`~summarizer.retrieval.rank_passages`); their ``index``
            points into ``candidates`` and ``vectors``.
        candidates: the sentences with their source and context.
        vectors: unit-length encoder vectors of the candidates, one row each.
        weight: the weight of a term (its IDF over the archive); default 1 for every term.
        max_sentences: at most this many sentences (1 to 3).
        gazetteer: the place names (default: the bundled one).
        asked: the unit-length encoder vector of the question word in the question
            (``QuestionProfile.question_word``, see `summarizer.encoder.word_vector`); None: the question's own
            vector (the passages' ``dense``) stands in.

    Returns:
        The chosen sentences, lead first; empty when no sentence answers (the reply is then a refusal).
    """
    asked_roots = {root for _, root in profile.terms} | {root for name in profile.names for _, root in name.terms}
    answering = [
        _Pick(each.index, each.rank.value, each.check, set(_roots(candidates[each.index].text)) - asked_roots)
        for each in answering_sentences(
            profile, ranked, candidates, vectors, weight=weight, gazetteer=gazetteer, asked=asked
        )
    ]
    if not answering:
        return []
    answering.sort(key=lambda pick: (*plainness(pick.check), -pick.score))
    lead = _in_full(answering) if profile.answer_type is AnswerType.ENTITY else answering[0]
    chosen = [lead]
    lead.sources.add(candidates[lead.index].source)
    limit = max(1, min(max_sentences, 1 + MAX_SUPPORTING))
    for pick in answering:
        if pick is lead:
            continue
        source = candidates[pick.index].source
        if any(source in each.sources for each in chosen):
            continue  # one sentence per outlet: the reply's sentences and its "also reported by" alike
        same = next((each for each in chosen if _same_fact(profile, pick, each, vectors)), None)
        if same is not None:
            same.also.append(pick.index)
            same.sources.add(source)
        elif len(chosen) < limit:
            pick.sources.add(source)
            chosen.append(pick)
    return [ChosenSentence(pick.index, pick.score, tuple(pick.also)) for pick in chosen]


def _in_full(answering: Sequence[_Pick]) -> _Pick:
    """The lead of a "who" reply: the best answer, or one as plain that gives the name in full when the best names
    a surname (or a first name) alone.

    "Hiller was suspended from her job" answers "who is on trial" for a reader of the article, who met "Yvonne
    Hiller" before; a reply has only its own sentences, and "a woman named Yvonne Hiller shot two co-workers" says
    who she is.
    """
    best = answering[0]
    names = _names(best.check.evidence)
    if not names or any(len(words) > 1 for words in names):
        return best
    alone = {words[0] for words in names}
    for pick in answering[1:]:
        same_rank = pick.check.in_role == best.check.in_role and pick.check.strength >= best.check.strength
        full = any(len(words) > 1 and alone.intersection(words) for words in _names(pick.check.evidence))
        if same_rank and full:
            return pick
    return best


def _names(evidence: frozenset[str]) -> list[list[str]]:
    """The names among a "who" answer's evidence, as their words: "yvonne hiller" -> [yvonne, hiller]; not "the
    bank of greece" (a name with a connector is an institution or a place) nor a person noun."""
    names = [item.split() for item in evidence if not item.startswith(WEAK)]
    return [words for words in names if not _NAME_CONNECTORS.intersection(words)]


def _support(
    answering: Sequence[tuple[ScoredPassage, AnswerCheck]], candidates: Sequence[Candidate], asked: frozenset[str]
) -> list[float]:
    """The support of other outlets for each answer: the share of the answering sentences' retrieval score (one per
    outlet and answer word) whose answer shares a word with it. Reports of one event agree on who and how many; a
    name that only one sentence offers ("the BBC says ...") is more likely beside the point. The question's own
    words ("Saints" of "New Orleans Saints") are in every report and say nothing."""

    def answer_words(check: AnswerCheck) -> set[str]:
        return {word for word in _answer_words(check.evidence) if not _roots(word) or not _roots(word) <= asked}

    votes: dict[str, float] = {}
    counted: set[tuple[str, str]] = set()
    total = 0.0
    for passage, check in answering:
        source = candidates[passage.index].source
        words = answer_words(check)
        if words:
            total += passage.score
        for word in words:
            if (source, word) not in counted:
                counted.add((source, word))
                votes[word] = votes.get(word, 0.0) + passage.score
    if not total:
        return [0.0] * len(answering)
    return [max((votes[word] / total for word in answer_words(check)), default=0.0) for _, check in answering]


def _close_figures(mine: set[str], theirs: set[str]) -> bool:
    """Whether two sets of figures share one within ``SAME_FIGURE`` of each other ("about 71" and "more than 70")."""

    def values(words: set[str]) -> list[float]:
        return [float(word) for word in words if re.fullmatch(r"\d+(?:\.\d+)?(?:e\+\d+)?", word)]

    return any(abs(a - b) <= SAME_FIGURE * max(a, b) for a in values(mine) for b in values(theirs))


def _answer_words(evidence: frozenset[str]) -> set[str]:
    """The words of a sentence's answer evidence, weak evidence left out ("maurice cheeks" -> maurice, cheeks)."""
    return {
        word for item in evidence if not item.startswith(WEAK) for word in item.split() if word not in _NAME_CONNECTORS
    }


def _writes(pick: _Pick, other: _Pick) -> bool:
    """Whether ``other``'s sentence writes every word of ``pick``'s answer (a name, not a figure)."""
    words = {word for word in _answer_words(pick.check.evidence) if word.isalpha()}
    return bool(words) and all(term_root(word) in other.roots for word in words)


def _same_fact(profile: QuestionProfile, pick: _Pick, other: _Pick, vectors: np.ndarray) -> bool:
    """Whether two answering sentences state the same fact.

    With a typed answer on both sides (names, numbers, dates, places), they do when their answers share a word:
    "117 tankers" twice is one fact, 10 and 20 ships are two; or when one writes the other's answer, though not
    as its answer ("the warehouse in Palmer" and "Palmer's historic warehouse"). Otherwise when they say nearly
    the same in the encoder's view, or one adds almost no word to the other.
    """
    if profile.answer_type is not AnswerType.OTHER:
        mine, theirs = _answer_words(pick.check.evidence), _answer_words(other.check.evidence)
        if mine and theirs:
            return bool(mine & theirs) or _close_figures(mine, theirs) or _writes(pick, other) or _writes(other, pick)
    if float(vectors[pick.index] @ vectors[other.index]) >= SAME_WORDING:
        return True
    return _novelty(pick.roots, other.roots) < NOVELTY_MIN
