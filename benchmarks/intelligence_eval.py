"""Evaluate news intelligence on the labelled set: retrieval recall, answer refusals, tagging and clustering.

usage: python -m benchmarks.intelligence_eval [--keywords-only]

Data: tests/intelligence/data/articles.toml (45 articles, 21 labelled events) and eval.toml (24 answerable and
4 unanswerable questions; country and topic labels for 21 articles). The articles are stored in a temporary
SQLite database and processed exactly as in production (`process_new_articles`, real MiniLM, fp32, 2 threads).

Printed:
- retrieval recall@1 / @3: a question counts when a gold sentence is among the top 1 / 3 ranked archive sentences
  (`search_sentences`, whole archive); answer accuracy: the first sentence of `ask` is a gold one;
- refusals: unanswerable questions answered "nothing on that" (and answerable ones wrongly refused);
- tagging micro precision / recall for countries and topics (with the encoder, or keywords only), and for countries
  on 17 held-out Guardian teasers (holdout_countries.toml);
- clustering pairwise precision / recall against the labelled events.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.intelligence import ask, process_new_articles, search_sentences
from bot.storage import Article, Database
from summarizer.tagging import Tagger
from tests.intelligence.shared import DATA, article, eval_set, fixture_articles, shared_encoder, store_articles

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def evaluate_retrieval(database: Database, ids: dict[str, int]) -> dict[str, float]:
    """Recall@1/@3 of the ranked sentences, accuracy of `ask`'s first sentence, and refusals."""
    encoder = shared_encoder()
    at_1 = at_3 = first_ok = answerable = refused_ok = unanswerable = wrongly_refused = 0
    latencies = []
    for entry in eval_set()["questions"]:
        started = time.perf_counter()
        answer = ask(database, encoder, entry["question"], now=NOW, window=None)
        latencies.append(time.perf_counter() - started)
        if not entry.get("answerable", True):
            unanswerable += 1
            refused_ok += not answer.found
            continue
        answerable += 1
        gold = [(ids[key], phrase) for key, phrase in entry["answers"]]

        def is_gold(article_id: int, text: str, gold: list[tuple[int, str]] = gold) -> bool:
            return any(article_id == g_id and phrase in text for g_id, phrase in gold)

        ranked = search_sentences(database, encoder, entry["question"], now=NOW, window=None, limit=3)
        hits = [is_gold(s.article_id, s.text) for s in ranked]
        at_1 += bool(hits[:1] and hits[0])
        at_3 += any(hits)
        first_ok += bool(answer.sentences and is_gold(answer.sentences[0].article_id, answer.sentences[0].text))
        wrongly_refused += not answer.found
        if not (hits[:1] and hits[0]):
            top = ranked[0].text[:90] if ranked else "-"
            sys.stdout.write(f"  miss@1: {entry['question']} -> {top}\n")
    latencies.sort()
    return {
        "questions": answerable,
        "recall@1": _ratio(at_1, answerable),
        "recall@3": _ratio(at_3, answerable),
        "answer_first_correct": _ratio(first_ok, answerable),
        "answerable_refused": wrongly_refused,
        "unanswerable": unanswerable,
        "unanswerable_refused": refused_ok,
        "ask_p50_s": latencies[len(latencies) // 2],
    }


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'eval.sqlite3'}")
        database.upgrade()
        ids = store_articles(database, fixture_articles())
        started = time.perf_counter()
        report = process_new_articles(database, shared_encoder())
        sys.stdout.write(f"processed {report.articles} articles in {time.perf_counter() - started:.1f} s\n")
        sections = {
            "retrieval": evaluate_retrieval(database, ids),
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
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            sys.stdout.write(f"  {key:<24} {shown}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
