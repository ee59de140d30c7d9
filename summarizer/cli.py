"""Command line: ``python -m summarizer summarize|eval|eval-story|bench|tag`` (see docs/summarizer.md).

The library reads text only: files or standard input, never the network (a page is summarised by the bot,
``python -m bot summarize URL``, whose HTTP client guards against private addresses).

Each command registers itself with ``add_<name>_command(subparsers)`` and sets a ``handler`` default that
takes the parsed arguments and returns the exit status, so further commands plug in the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarizer.errors import SummarizerError

if TYPE_CHECKING:
    from summarizer.encoder import TextEncoder
    from summarizer.extractive import Summarizer

__all__ = ["build_parser", "main"]

log = logging.getLogger(__name__)

DEFAULT_BENCH_DATA = Path("tests/summarizer/data/dev-sample.jsonl")  # 10 dev articles, in the repository


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _add_encoder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        default="auto",
        help="encoder precision: auto = bf16 where the CPU computes it natively (about 3x faster), else fp32",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda for the models (default: cpu)")


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    _add_encoder_options(parser)
    parser.add_argument("--model", default=None, help="seq2seq model directory (or cached hub name) for abstractive")
    parser.add_argument(
        "--guard",
        choices=("replace", "drop", "off"),
        default="replace",
        help="abstractive: replace unsupported sentences by their closest source sentence, drop them, or keep all",
    )


def _options(args: argparse.Namespace) -> Any:  # noqa: ANN401 - MethodOptions, imported late
    from summarizer.methods import MethodOptions

    return MethodOptions(
        max_sentences=args.sentences,
        precision=args.precision,
        threads=args.threads,
        model=args.model,
        device=args.device,
        guard=args.guard,
    )


def _method_list(values: Sequence[str] | None, default: Sequence[str]) -> list[str]:
    if not values:
        return list(default)
    return [m.strip() for v in values for m in v.split(",") if m.strip()]


# --- summarize ---------------------------------------------------------------------------------------------


def add_summarize_command(subparsers: Any) -> argparse.ArgumentParser:  # noqa: ANN401 - argparse's private type
    """Register ``summarize``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "summarize", help="print the summary of a text file or standard input"
    )
    p.add_argument("source", nargs="?", default="-", help="a UTF-8 text file, or - for stdin")
    p.add_argument("--title", default=None, help="the headline, if known")
    p.add_argument("--sentences", type=int, default=3, help="at most this many sentences (default 3)")
    p.add_argument("--chars", type=int, default=None, help="at most this many characters")
    p.add_argument("--method", choices=("default", "lead", "abstractive"), default="default")
    p.add_argument("--json", action="store_true", help="print the summary with offsets as one JSON object")
    _add_model_options(p)
    p.set_defaults(handler=run_summarize_command)
    return p


def _read_source(args: argparse.Namespace) -> tuple[str, str | None]:
    source: str = args.source
    if source == "-":
        return sys.stdin.read(), None
    if "://" in source:
        raise ValueError(
            f"{source} is a link: this command reads text (a file or standard input); "
            "`python -m bot summarize URL` fetches and summarises a page"
        )
    return Path(source).read_text(encoding="utf-8"), None


def run_summarize_command(args: argparse.Namespace) -> int:
    """Run ``summarize``; returns the exit status."""
    text, found_title = _read_source(args)
    title = args.title or found_title
    if args.method == "lead":
        from summarizer.extractive import LeadSummarizer

        summ: Summarizer = LeadSummarizer()
    else:
        from summarizer.encoder import Encoder
        from summarizer.methods import resolve_precision

        encoder = Encoder(threads=args.threads, bf16=resolve_precision(args.precision), device=args.device)
        if args.method == "default":
            from summarizer.extractive import ExtractiveSummarizer

            summ = ExtractiveSummarizer(encoder)
        else:
            if not args.model:
                raise ValueError("--method abstractive needs --model PATH_OR_NAME")
            from summarizer.seq2seq import Seq2SeqSummarizer

            summ = Seq2SeqSummarizer(
                args.model, device=args.device, guard_encoder=encoder, guard=args.guard, threads=args.threads
            )
    summary = summ.summarize(text, title=title, max_sentences=args.sentences, max_chars=args.chars)
    if args.json:
        payload = {
            "method": summary.method,
            "from_teaser": summary.from_teaser,
            "sentences_seen": summary.sentences_seen,
            "title": title,
            "sentences": [
                {
                    "text": s.text,
                    "start": s.start,
                    "end": s.end,
                    "index": s.index,
                    "support": round(s.support, 4),
                    "generated": s.generated,
                }
                for s in summary.sentences
            ],
            "rejected": list(summary.rejected),
        }
        _out(json.dumps(payload, ensure_ascii=False))
        return 0
    for line in summary.lines():
        _out(line)
    if summary.from_teaser:
        _err(f"note: the text is a short teaser ({summary.sentences_seen} sentences), so this is all of it")
    if summary.rejected:
        _err(f"note: the faithfulness guard rejected {len(summary.rejected)} generated sentence(s)")
    return 0


# --- eval --------------------------------------------------------------------------------------------------


def add_eval_command(subparsers: Any) -> argparse.ArgumentParser:  # noqa: ANN401 - argparse's private type
    """Register ``eval``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "eval", help="ROUGE of the summariser and baselines on a JSONL set (article, reference, title)"
    )
    p.add_argument("data", help="JSONL with 'article', 'reference' (one highlight per line), optional 'title'")
    p.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help="methods (space or comma separated): default default-fp32 default-bf16 lead3 lexrank textrank "
        "abstractive (default: default lead3, plus abstractive with --model)",
    )
    p.add_argument("--sentences", type=int, default=3, help="sentences per summary (default 3)")
    p.add_argument("--limit", type=int, default=None, help="only the first N rows")
    p.add_argument("--json", action="store_true", help='print one JSON object {"n": N, "methods": {...}}')
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_model_options(p)
    p.set_defaults(handler=run_eval_command)
    return p


def run_eval_command(args: argparse.Namespace) -> int:
    """Run ``eval``; returns the exit status."""
    from summarizer.evaluation import evaluate, load_rows
    from summarizer.methods import build_method

    default = ["default", "lead3"] + (["abstractive"] if args.model else [])
    names = _method_list(args.methods, default)
    rows = load_rows(args.data, limit=args.limit)
    options = _options(args)
    built = [build_method(name, options) for name in names]
    for method in built:
        method.load()
    report = evaluate(rows, {m.name: m.run for m in built}, progress=not args.no_progress)
    if args.json:
        _out(json.dumps(report.to_json()))
        return 0
    _out(f"{args.data}: {report.n} articles, {args.sentences} sentences per summary, ROUGE F1 x100 (stemmed)")
    _out(f"{'method':<16}{'R-1':>8}{'R-2':>8}{'R-L':>8}{'R-Lsum':>8}{'art/s':>9}")
    for name, scores in report.scores.items():
        speed = report.n / report.seconds[name] if report.seconds[name] > 0 else float("inf")
        _out(
            f"{name:<16}{scores['rouge1']:>8.2f}{scores['rouge2']:>8.2f}{scores['rougeL']:>8.2f}"
            f"{scores['rougeLsum']:>8.2f}{speed:>9.1f}"
        )
    return 0


# --- eval-story --------------------------------------------------------------------------------------------


def add_eval_story_command(subparsers: Any) -> argparse.ArgumentParser:  # noqa: ANN401 - argparse's private type
    """Register ``eval-story``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "eval-story",
        help="ROUGE of the story summariser and baselines on events of several articles (event_id, articles, summary)",
    )
    p.add_argument("data", help="JSONL: 'articles' (a list of 'title' and 'text') and 'summary' per event")
    p.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help="story lead-1-each lexrank (space or comma separated; default: all three)",
    )
    p.add_argument("--sentences", type=int, default=3, help="at most this many sentences per summary (default 3)")
    p.add_argument("--limit", type=int, default=None, help="only the first N events")
    p.add_argument("--json", action="store_true", help='print one JSON object {"n": N, "methods": {...}}')
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_encoder_options(p)
    p.set_defaults(handler=run_eval_story_command)
    return p


def run_eval_story_command(args: argparse.Namespace) -> int:
    """Run ``eval-story``; returns the exit status."""
    from summarizer.encoder import Encoder
    from summarizer.evaluation import evaluate_stories, load_story_rows, story_methods
    from summarizer.methods import resolve_precision

    names = _method_list(args.methods, ["story", "lead-1-each", "lexrank"])
    rows = load_story_rows(args.data, limit=args.limit)
    encoder = Encoder(threads=args.threads, bf16=resolve_precision(args.precision), device=args.device)
    encoder.load()
    report = evaluate_stories(rows, story_methods(encoder, args.sentences, names), progress=not args.no_progress)
    if args.json:
        _out(json.dumps(report.to_json()))
        return 0
    _out(f"{args.data}: {report.n} events, at most {args.sentences} sentences per summary, ROUGE F1 x100 (stemmed)")
    _out(f"{'method':<16}{'R-1':>8}{'R-2':>8}{'R-Lsum':>8}{'story/s':>9}")
    for name, scores in report.scores.items():
        speed = report.n / report.seconds[name] if report.seconds[name] > 0 else float("inf")
        _out(f"{name:<16}{scores['rouge1']:>8.2f}{scores['rouge2']:>8.2f}{scores['rougeLsum']:>8.2f}{speed:>9.1f}")
    return 0


# --- bench -------------------------------------------------------------------------------------------------


def add_bench_command(subparsers: Any) -> argparse.ArgumentParser:  # noqa: ANN401 - argparse's private type
    """Register ``bench``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "bench", help="articles/s and sentences/s per method, model load time and peak memory"
    )
    p.add_argument("data", nargs="?", default=None, help=f"JSONL of articles (default: {DEFAULT_BENCH_DATA})")
    p.add_argument("--methods", nargs="+", default=None, help="methods (default: default lead3)")
    p.add_argument("--limit", type=int, default=None, help="only the first N articles")
    p.add_argument("--sentences", type=int, default=3, help="sentences per summary (default 3)")
    p.add_argument("--batch", type=int, default=16, help="articles per call (1 = one article at a time)")
    p.add_argument("--repeat", type=int, default=1, help="timed passes; the fastest counts (default 1)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    _add_model_options(p)
    p.set_defaults(handler=run_bench_command)
    return p


def run_bench_command(args: argparse.Namespace) -> int:
    """Run ``bench``; returns the exit status."""
    from dataclasses import asdict

    from summarizer.bench import run_bench
    from summarizer.evaluation import load_rows

    data = Path(args.data) if args.data else DEFAULT_BENCH_DATA
    if not data.exists():
        _err(f"error: {data} not found; give a JSONL file of articles")
        return 2
    rows = load_rows(data, limit=args.limit)
    names = _method_list(args.methods, ["default", "lead3"])
    results = run_bench(names, _options(args), rows, batch=max(1, args.batch), repeat=max(1, args.repeat))
    if args.json:
        _out(json.dumps({"data": str(data), "batch": args.batch, "results": [asdict(r) for r in results]}))
        return 0
    _out(f"{data}: {len(rows)} articles, batch {args.batch}, best of {args.repeat}")
    _out(f"{'method':<16}{'art/s':>9}{'sent/s':>9}{'load s':>9}{'peak MB':>9}{'threads':>9}")
    for r in results:
        _out(
            f"{r.method:<16}{r.articles_per_s:>9.1f}{r.sentences_per_s:>9.0f}{r.load_s:>9.2f}"
            f"{r.peak_rss_mb:>9.0f}{r.threads:>9}"
        )
    return 0


# --- tag ----------------------------------------------------------------------------------------------------


def add_tag_command(subparsers: Any) -> argparse.ArgumentParser:  # noqa: ANN401 - argparse's private _SubParsersAction
    """Register ``tag`` on an ``argparse`` subparsers object; the parser's ``handler`` default runs it."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "tag",
        help="print the countries, regions and topics of a news text",
        description="Tag a news text with countries, regions/blocs and topics.",
    )
    parser.add_argument("file", nargs="?", default="-", help="a UTF-8 text file, or - for standard input (default)")
    parser.add_argument("--title", default="", help="the headline, if it is not part of the text")
    parser.add_argument(
        "--json", action="store_true", help='print {"countries": [...], "regions": [...], "topics": [...]}'
    )
    parser.add_argument("--no-encoder", action="store_true", help="tag topics from keywords only (no model is loaded)")
    parser.set_defaults(handler=run_tag_command)
    return parser


def run_tag_command(args: argparse.Namespace, encoder: TextEncoder | None = None) -> int:
    """Run ``tag``: read the text, tag it and write the result to standard output; returns the exit status."""
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    if encoder is None and not args.no_encoder:
        from summarizer.encoder import Encoder

        encoder = Encoder()
    from summarizer.tagging import Tagger

    tagger = Tagger(encoder=None if args.no_encoder else encoder)
    tags = tagger.tag(text, title=args.title)
    names = {
        "countries": [tagger.gazetteer.country_name(code) for code in tags.countries],
        "regions": [tagger.gazetteer.region_name(region) for region in tags.regions],
        "topics": [tagger.gazetteer.topic_label(topic) for topic in tags.topics],
    }
    if args.json:
        sys.stdout.write(json.dumps(names, ensure_ascii=False) + "\n")
    else:
        for key, values in names.items():
            sys.stdout.write(f"{key}: {', '.join(values) if values else '-'}\n")
    return 0


# --- entry point -------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command registered."""
    parser = argparse.ArgumentParser(prog="python -m summarizer", description="Summarise news text.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to standard error")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for register in (add_summarize_command, add_eval_command, add_eval_story_command, add_bench_command):
        register(subparsers)
    add_tag_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        status: int = args.handler(args)
    except (SummarizerError, ValueError, OSError) as exc:
        _err(f"error: {exc}")
        return 1
    return status
