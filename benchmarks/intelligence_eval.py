"""Evaluate news intelligence: answers on real news (ECB+) and on the self-written labelled set, tagging, clustering.

usage: python -m benchmarks.intelligence_eval [--keywords-only] [--ecbplus PATH] [--questions TOML]

Self-written set: tests/intelligence/data/articles.toml (45 articles, 21 labelled events) and eval.toml (24
answerable and 4 unanswerable questions; country and topic labels for 21 articles), written by the same person
who tuned the thresholds. The articles are stored in a temporary SQLite database and processed exactly as in
production (`process_new_articles`, real MiniLM, fp32, 2 threads).

ECB+ (with ``--ecbplus ../shared/data/stories-dev/ecbplus.jsonl``): 982 real articles served as teaser feeds and
pages on a loopback server and taken in by the production code on day one (first poll, backlog backfill with page
extraction, processing; see benchmarks/ecbplus.py), and benchmarks/data/ecbplus_questions.toml (43 questions whose
answer is a fact in one article, 12 unanswerable ones on nearby topics, written before the system ran on them).
``--questions`` takes another set of that format: ecbplus_questions_heldout.toml, _test, _final, _last and
_sixth.toml were each written before the system ran on it, after the answer rules had been chosen on the sets
before it, to measure the rules on questions they were not chosen on; _seventh.toml was written after the answer
rank had been fitted on those six (benchmarks/tune_answer_order.py), and nothing was chosen on it
(docs/intelligence.md).

Printed for each question set:
- fact hit rate: the first sentence of `ask`'s reply contains the expected answer (ECB+: the expected phrase, case
  and spacing ignored, from any article; self-written: a gold sentence);
- retrieval recall@1 / @3: an answering sentence is among the top 1 / 3 ranked archive sentences
  (`search_sentences`, whole archive), before answer selection;
- refusal accuracy: unanswerable questions answered "nothing on that" (and answerable ones wrongly refused);
- (ECB+) how many expected answers the stored texts still hold after ingestion, and replies in which two sentences
  state the expected fact (the reply must give one fact once, other outlets as "also reported by");
- the misses, each with the reply's first sentence.
Then tagging micro precision / recall for countries and topics (with the encoder, or keywords only), and for
countries on 17 held-out Guardian teasers (holdout_countries.toml); clustering pairwise precision / recall.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from benchmarks.ecbplus import CorpusArticle, build, load_corpus
from bot.intelligence import ask, process_new_articles, search_sentences
from bot.storage import Article, Database, utcnow
from summarizer.tagging import Tagger
from tests.intelligence.shared import DATA, article, eval_set, fixture_articles, shared_encoder, store_articles

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ECBPLUS_QUESTIONS = Path(__file__).resolve().parent / "data" / "ecbplus_questions.toml"


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class Question:
    """A question with a test for answering sentences (None: the archive cannot answer it)."""

    text: str
    is_answer: Callable[[int, str], bool] | None


def evaluate_questions(database: Database, questions: Sequence[Question], now: datetime) -> dict[str, float]:
    """Fact hit rate of `ask`, recall@1/@3 of the ranked sentences, refusals; prints the misses."""
    encoder = shared_encoder()
    hits = at_1 = at_3 = answerable = refused_ok = unanswerable = wrongly_refused = repeated = 0
    latencies = []
    for question in questions:
        started = time.perf_counter()
        answer = ask(database, encoder, question.text, now=now, window=None)
        latencies.append(time.perf_counter() - started)
        first = answer.sentences[0].text if answer.sentences else "(refused)"
        if question.is_answer is None:
            unanswerable += 1
            refused_ok += not answer.found
            if answer.found:
                sys.stdout.write(f"  answered, should refuse: {question.text} -> {first[:110]}\n")
            continue
        answerable += 1
        ranked = search_sentences(database, encoder, question.text, now=now, window=None, limit=3)
        found = [question.is_answer(s.article_id, s.text) for s in ranked]
        at_1 += bool(found[:1] and found[0])
        at_3 += any(found)
        hit = bool(answer.sentences) and question.is_answer(answer.sentences[0].article_id, first)
        hits += hit
        twice = sum(question.is_answer(s.article_id, s.text) for s in answer.sentences) > 1
        repeated += twice
        if twice:
            sys.stdout.write(f"  fact stated twice: {question.text}\n")
        wrongly_refused += not answer.found
        if not hit:
            sys.stdout.write(f"  fact missed: {question.text} -> {first[:110]}\n")
    latencies.sort()
    return {
        "answerable questions": answerable,
        "fact hit rate": _ratio(hits, answerable),
        "recall@1": _ratio(at_1, answerable),
        "recall@3": _ratio(at_3, answerable),
        "answerable refused": wrongly_refused,
        "fact stated twice": repeated,
        "unanswerable questions": unanswerable,
        "refusal accuracy": _ratio(refused_ok, unanswerable),
        "ask p50 (s)": latencies[len(latencies) // 2],
    }


def self_written_questions(ids: dict[str, int]) -> list[Question]:
    """eval.toml's questions: a sentence answers when it is one of the gold sentences."""
    questions = []
    for entry in eval_set()["questions"]:
        if not entry.get("answerable", True):
            questions.append(Question(entry["question"], None))
            continue
        gold = [(ids[key], phrase) for key, phrase in entry["answers"]]

        def is_gold(article_id: int, text: str, gold: list[tuple[int, str]] = gold) -> bool:
            return any(article_id == g_id and phrase in text for g_id, phrase in gold)

        questions.append(Question(entry["question"], is_gold))
    return questions


def folded(text: str) -> str:
    """``text`` as expected answers are matched: case, spacing and curly apostrophes ignored."""
    return " ".join(text.replace("’", "'").split()).lower()


def evaluate_ecbplus(corpus: Path, questions_file: Path, keep: Path | None = None) -> dict[str, float]:
    """Build the ECB+ archive as the bot does on day one, then ask the question set (see the module docstring).

    With ``keep``, the archive is kept in that SQLite file, and reused (only the questions run) when it exists.
    """
    with questions_file.open("rb") as handle:
        spec = tomllib.load(handle)
    now = utcnow()
    articles = load_corpus(corpus, now)
    by_url = {article.url: article for article in articles if article.url}
    with tempfile.TemporaryDirectory() as folder:
        path = keep or Path(folder) / "ecbplus.sqlite3"
        exists = path.exists()
        database = Database(f"sqlite:///{path}")
        database.upgrade()
        if not exists:
            build_ecbplus_archive(database, articles, now)
        with database.session() as session:
            # the feed item's GUID is the article's line number in the corpus
            stored = {guid: text for guid, text in session.execute(select(Article.guid, Article.text))}
        questions, kept = [], 0
        for entry in spec["questions"]:
            expected = folded(entry["answer"])
            kept += expected in folded(stored.get(str(by_url[entry["url"]].index), ""))

            def contains(_article_id: int, text: str, expected: str = expected) -> bool:
                return expected in folded(text)

            questions.append(Question(entry["question"], contains))
        questions += [Question(entry["question"], None) for entry in spec["unanswerable"]]
        sys.stdout.write(f"ECB+ archive: {len(stored)} articles in {path}\n")
        figures = {"expected answers kept by ingestion": float(kept), **evaluate_questions(database, questions, now)}
        database.dispose()
    return figures


def build_ecbplus_archive(database: Database, articles: Sequence[CorpusArticle], now: datetime) -> None:
    """Take the ECB+ articles in as the bot does on day one (see benchmarks/ecbplus.py), then process them."""
    started = time.perf_counter()
    build_report = build(database, articles, now)
    built = time.perf_counter() - started
    started = time.perf_counter()
    report = process_new_articles(database, shared_encoder())
    processed = time.perf_counter() - started
    backfill = build_report.backfill
    sys.stdout.write(
        f"ECB+ archive built: {len(build_report.ingest.results)} feeds, {build_report.ingest.total('backlog')} "
        f"backlog items; pages: {sum(p.full_text for p in backfill)} full text, {sum(p.teaser for p in backfill)} "
        f"teaser only, {sum(p.blocked for p in backfill)} blocked, {sum(p.duplicate for p in backfill)} duplicate "
        f"({len(backfill)} backfill passes) in {built:.1f} s; processed {report.articles} in {processed:.1f} s\n"
    )


def evaluate_tags(keywords_only: bool) -> dict[str, float]:
    """Micro precision and recall of countries and topics over the labelled articles."""
    tagger = Tagger(None if keywords_only else shared_encoder())
    counts = {"countries": [0, 0, 0], "topics": [0, 0, 0]}
    for label in eval_set()["tags"]:
        item = article(label["key"])
        tags = tagger.tag(item.text, item.title)
        for kind, predicted in (("countries", set(tags.countries)), ("topics", set(tags.topics))):
            gold = set(label[kind])
            counts[kind][0] += len(gold & predicted)
            counts[kind][1] += len(predicted - gold)
            counts[kind][2] += len(gold - predicted)
    result: dict[str, float] = {"articles": len(eval_set()["tags"])}
    for kind, (tp, fp, fn) in counts.items():
        result[f"{kind}_precision"] = _ratio(tp, tp + fp)
        result[f"{kind}_recall"] = _ratio(tp, tp + fn)
    return result


def evaluate_holdout_countries() -> dict[str, float]:
    """Country precision and recall on the held-out Guardian teasers (labelled before the tagger saw them)."""
    with (DATA / "holdout_countries.toml").open("rb") as handle:
        items = tomllib.load(handle)["items"]
    tagger = Tagger(None)
    tp = fp = fn = 0
    for item in items:
        predicted, gold = set(tagger.tag(item["text"], item["title"]).countries), set(item["countries"])
        tp, fp, fn = tp + len(predicted & gold), fp + len(predicted - gold), fn + len(gold - predicted)
    return {"items": len(items), "labels": tp + fn, "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn)}


def evaluate_clustering(database: Database, ids: dict[str, int]) -> dict[str, float]:
    """Pairwise precision and recall of the stored stories against the labelled events."""
    events = {ids[item.key]: item.event for item in fixture_articles()}
    with database.session() as session:
        story_of = {
            article_id: story_id for article_id, story_id in session.execute(select(Article.id, Article.story_id))
        }
    keys = sorted(events)
    pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :]]
    same_event = {pair for pair in pairs if events[pair[0]] == events[pair[1]]}
    same_story = {pair for pair in pairs if story_of[pair[0]] == story_of[pair[1]]}
    both = len(same_event & same_story)
    return {
        "events": len(set(events.values())),
        "stories": len(set(story_of.values())),
        "pair_precision": _ratio(both, len(same_story)),
        "pair_recall": _ratio(both, len(same_event)),
    }


def main() -> int:
    """Build the labelled archive, evaluate, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords-only", action="store_true", help="also report tagging without the encoder")
    parser.add_argument("--ecbplus", type=Path, help="ecbplus.jsonl: also evaluate answers on these real articles")
    parser.add_argument("--questions", type=Path, default=ECBPLUS_QUESTIONS, help="the ECB+ question set (TOML)")
    parser.add_argument(
        "--ecbplus-db", type=Path, help="keep the ECB+ archive in this SQLite file (reused if it exists)"
    )
    args = parser.parse_args()
    sections: dict[str, dict[str, float]] = {}
    if args.ecbplus:
        sections["answers, ECB+ (real news, questions written before running)"] = evaluate_ecbplus(
            args.ecbplus, args.questions, args.ecbplus_db
        )
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'eval.sqlite3'}")
        database.upgrade()
        ids = store_articles(database, fixture_articles())
        started = time.perf_counter()
        report = process_new_articles(database, shared_encoder())
        sys.stdout.write(f"processed {report.articles} articles in {time.perf_counter() - started:.1f} s\n")
        sections |= {
            "answers, self-written set": evaluate_questions(database, self_written_questions(ids), NOW),
            "tagging (encoder + keywords)": evaluate_tags(keywords_only=False),
            "country tagging, held-out Guardian teasers": evaluate_holdout_countries(),
            "clustering": evaluate_clustering(database, ids),
        }
        if args.keywords_only:
            sections["tagging (keywords only)"] = evaluate_tags(keywords_only=True)
        database.dispose()
    for name, figures in sections.items():
        sys.stdout.write(f"{name}:\n")
        for key, value in figures.items():
            shown = f"{value:.3f}" if isinstance(value, float) and not value.is_integer() else str(int(value))
            sys.stdout.write(f"  {key:<36} {shown}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
