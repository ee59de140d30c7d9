"""News intelligence over the stored articles: stories, tags, ranking, briefs and grounded answers.

`process_new_articles` does the model work once per article (tags, vectors, word and sentence index, story
assignment); `ask`, `brief` and `select_digest_stories` only read what it stored. The pure NLP lives in
`summarizer.tagging`, `summarizer.stories`, `summarizer.retrieval`, `summarizer.answers` and `summarizer.ranking`.
"""

from bot.intelligence.briefing import brief, resolve_filters, select_digest_stories, story_briefs
from bot.intelligence.encoder import encoder_for, question_encoder_for
from bot.intelligence.processing import ProcessReport, process_new_articles
from bot.intelligence.results import NOTHING_FOUND, AlsoReported, Answer, Brief, CitedSentence, StoryBrief
from bot.intelligence.search import ask, search_sentences

__all__ = [
    "NOTHING_FOUND",
    "AlsoReported",
    "Answer",
    "Brief",
    "CitedSentence",
    "ProcessReport",
    "StoryBrief",
    "ask",
    "brief",
    "encoder_for",
    "process_new_articles",
    "question_encoder_for",
    "resolve_filters",
    "search_sentences",
    "select_digest_stories",
    "story_briefs",
]
