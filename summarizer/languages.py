"""What the NLP knows about the language of a text: words for comparing articles, and sentence rules.

English is what the bundled encoder (all-MiniLM-L6-v2) and the curated word lists were made for. For other
languages the lexical side still works when it is given the language's own function words: German, Spanish,
Portuguese, French, Italian and Dutch have short curated stop-word lists here; Chinese and Japanese, written
without spaces, are compared by overlapping pairs of characters (kana-only runs, mostly particles and endings,
are left out). An encoder that is not multilingual says nothing about meaning in these languages, so callers ask
:func:`encoder_covers` before they trust its similarities.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache

import pycountry

from summarizer.retrieval import MAX_TERM_LENGTH, tokenize

__all__ = [
    "ENGLISH",
    "SENTENCE_RULES",
    "content_words",
    "encoder_covers",
    "language_code",
    "language_name",
    "sentence_rules",
]

ENGLISH = "en"
# pysbd's rule sets (0.3.4). Portuguese has none; Spanish's abbreviations and punctuation are the closest.
SENTENCE_RULES = frozenset(
    {"am", "ar", "bg", "da", "de", "el", "en", "es", "fa", "fr", "hi", "hy", "it", "ja", "kk", "mr", "my", "nl",
     "pl", "ru", "sk", "ur", "zh"}
)  # fmt: skip
_RULES_FOR = {"pt": "es", "gl": "es", "ca": "es"}

_STOPWORD_TEXT = {
    "de": """
        aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei beim bereits bis
        bisher bzw da dabei damit dann darauf das dass dem den denen der des deshalb dessen die dies diese diesem
        diesen dieser dieses doch dort durch ein eine einem einen einer eines einige er es etwa euch für gegen
        gibt hat hatte hätte haben habe hier hin ihr ihre ihrem ihren ihrer im in ist ja jedoch jetzt kann kein
        keine können könnte man mehr mit muss nach neue neuen nicht noch nun nur ob oder ohne schon sein seine
        seinem seinen seiner sich sie sind so soll sollen sollte sowie über um und uns unter vom von vor war waren
        was weil weitere wenn werden wie wieder will wir wird wurde wurden zu zum zur zwei zwischen sagte heute
        """,
    "es": """
        a al algo algunos ante antes así aunque bajo cada como con contra cual cuando de del desde donde dos el
        ella ellos en entre era es esa ese eso esta este esto estos está están fue fueron gran ha han hasta hay la
        las le les lo los más mas me mientras muy ni no nos o otra otro otros para pero por porque que quien se
        sea según ser si sido sin sobre son su sus también tiene todo todos tras un una uno unos y ya dijo este
        año hoy lunes martes miércoles jueves viernes sábado domingo
        """,
    "pt": """
        a à ao aos as às até com como contra da das de dela dele deles depois do dos e é ela ele eles em entre era
        essa esse esta está estão este eu foi foram há isso já la lhe mais mas me mesmo muito na nas nem no nos
        nossa o os ou para pela pelas pelo pelos por porque que quando se sem ser seu seus sobre sua suas também
        tem têm um uma umas uns disse diz nesta neste nesse nessa segundo segunda terça quarta quinta sexta
        sábado domingo feira hoje ano após
        """,
    "fr": """
        à au aux avec ce ces cette dans de des du elle en est et été être il ils la le les leur leurs lui mais
        même ne ni nous on ou où par pas plus pour qu que qui sa se ses si son sont sur un une était ont a y
        déjà aussi après avant entre selon sans sous dit lundi mardi mercredi jeudi vendredi samedi dimanche
        """,
    "it": """
        a ai al alla alle allo anche che chi con così da dal dalla dei del della delle di dopo e è ed gli ha
        hanno i il in la le lo ma ne nel nella non o per più quando se si sono su sua sue suo sul sulla tra un
        una uno è stato stata detto oggi anni
        """,
    "nl": """
        aan al als bij dan dat de deze die dit door een en er haar heeft hem het hij hoe in is je kan maar met
        na naar niet nog of om ook op over te tot uit van voor was wat we werd wie wil worden zal ze zich zijn
        zo zei
        """,
}
_STOPWORDS = {language: frozenset(text.split()) for language, text in _STOPWORD_TEXT.items()}
_WORD = re.compile(r"[^\W_]+(?:[-'.,][^\W_]+)*")
# Han (with the iteration mark) and katakana runs carry the content of Chinese and Japanese text.
_CJK_RUN = re.compile(r"[\u3005\u4e00-\u9fff\u30a0-\u30ff\uff66-\uff9f]+")
_CJK_LANGUAGES = frozenset({"ja", "zh"})
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")


def language_code(name: str) -> str | None:
    """The ISO 639-1 code of a language a user names ("pt", "Portuguese", "por"), or None when unknown."""
    name = name.strip()
    # codes first: lookup() alone takes "en" for the language named "En"
    found = pycountry.languages.get(alpha_2=name.lower()) or pycountry.languages.get(alpha_3=name.lower())
    if found is None:
        try:
            found = pycountry.languages.lookup(name)
        except LookupError:
            return None
    code = getattr(found, "alpha_2", None)
    return str(code) if code else None


@cache
def language_name(code: str) -> str:
    """The English name of an ISO 639-1 code ("pt" -> "Portuguese"); the code itself when unknown."""
    found = pycountry.languages.get(alpha_2=code)
    return str(found.name) if found is not None else code


def sentence_rules(language: str | None) -> str:
    """The pysbd language whose rules split text in ``language`` (English when unknown)."""
    if not language:
        return ENGLISH
    language = _RULES_FOR.get(language, language)
    return language if language in SENTENCE_RULES else ENGLISH


def encoder_covers(covered: Collection[str] | None, language: str | None) -> bool:
    """Whether an encoder covering ``covered`` (None: every language) compares meaning in ``language``.

    A text of unknown language is taken to be English, as the archive's default.
    """
    return covered is None or (language or ENGLISH) in covered


def content_words(text: str, language: str | None = None) -> list[str]:
    """The words of ``text`` that say what it is about, for comparing articles in its language.

    English (and unknown) text gives :func:`summarizer.retrieval.tokenize` (stop words out, light stemming);
    Chinese and Japanese give character pairs of their Han and katakana runs; other languages lower-cased
    words without their curated stop words (no stemming).
    """
    if not language or language == ENGLISH:
        return tokenize(text)
    if language in _CJK_LANGUAGES:
        words: list[str] = []
        for run in _CJK_RUN.findall(text):
            words.extend(run[i : i + 2] for i in range(max(len(run) - 1, 1)))
        # names and figures in Latin script ("G7", "NATO") are words too
        words.extend(tokenize(_NOT_ASCII.sub(" ", text)))
        return words
    stopwords = _STOPWORDS.get(language, frozenset())
    result = []
    for match in _WORD.finditer(text.lower().replace("’", "'")):
        word = match.group(0).strip(".'")
        if word and word[0].isdigit():
            word = word.replace(",", "")
        if len(word) > 1 and word not in stopwords and len(word) <= MAX_TERM_LENGTH:
            result.append(word)
    return result
