"""The command line: summarize (file, stdin, URL), eval (table and JSON) and bench."""

from __future__ import annotations

import io
import json

import pytest

from summarizer.cli import build_parser, main
from tests.summarizer.conftest import DEV_SAMPLE, SEED


def _run(argv, capsys) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_summarize_file_prints_three_sentences(capsys):
    """The default summary of the seed article: three lines, the headline not among them."""
    status, out, _ = _run(["summarize", str(SEED), "--precision", "fp32", "--threads", "2"], capsys)
    lines = out.splitlines()
    assert status == 0
    assert len(lines) == 3
    assert lines[0].startswith("The virtual meeting will be the first major discussion")


def test_summarize_json_has_offsets_into_the_input(capsys):
    """--json gives each sentence with offsets that slice the input text exactly."""
    text = SEED.read_text(encoding="utf-8")
    status, out, _ = _run(["summarize", str(SEED), "--method", "lead", "--sentences", "2", "--json"], capsys)
    payload = json.loads(out)
    assert status == 0
    assert payload["method"] == "lead" and payload["from_teaser"] is False
    assert [text[s["start"] : s["end"]] for s in payload["sentences"]] == [s["text"] for s in payload["sentences"]]


def test_summarize_stdin_teaser_says_it_is_a_teaser(capsys, monkeypatch):
    """A two-sentence teaser on stdin is printed whole, with a note on stderr."""
    monkeypatch.setattr("sys.stdin", io.StringIO("Ministers met in Paris. They agreed on aid."))
    status, out, err = _run(["summarize", "-", "--method", "lead"], capsys)
    assert status == 0
    assert out.splitlines() == ["Ministers met in Paris.", "They agreed on aid."]
    assert "teaser" in err


def test_summarize_reads_text_not_links(capsys):
    """A link is refused (exit 1) with a pointer to the bot's command, which fetches pages through its guarded
    client: the library itself never opens a connection."""
    status, out, err = _run(["summarize", "https://news.example/article", "--method", "lead"], capsys)
    assert status == 1 and out == ""
    assert "reads text" in err and "python -m bot summarize URL" in err


def test_eval_json_is_exactly_one_object_with_the_rouge_scores(capsys):
    """eval --json prints one JSON object: n and, per method, the four ROUGE F1 scores."""
    status, out, _ = _run(
        ["eval", str(DEV_SAMPLE), "--methods", "lead3", "textrank", "--json", "--no-progress"], capsys
    )
    assert status == 0
    payload = json.loads(out)
    assert set(payload) == {"n", "methods"} and payload["n"] == 10
    assert set(payload["methods"]) == {"lead3", "textrank"}
    for scores in payload["methods"].values():
        assert set(scores) == {"rouge1", "rouge2", "rougeL", "rougeLsum"}
        assert all(0 < v < 100 for v in scores.values())
    assert payload["methods"]["lead3"]["rouge1"] == pytest.approx(30.38, abs=0.01)


def test_eval_table_compares_default_with_lead3(capsys):
    """Without --json: a table with the default summariser above Lead-3 on the sample."""
    status, out, _ = _run(["eval", str(DEV_SAMPLE), "--precision", "fp32", "--threads", "2"], capsys)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert status == 0
    assert set(rows) == {"default", "lead3"}
    assert float(rows["default"][0]) > float(rows["lead3"][0])


def test_eval_abstractive_needs_a_model(capsys):
    """Asking for the abstractive method without --model is a clear error."""
    status, _, err = _run(["eval", str(DEV_SAMPLE), "--methods", "abstractive", "--no-progress"], capsys)
    assert status == 1 and "--model" in err


def test_bench_reports_speed_load_time_and_memory(capsys):
    """bench --json: one result per method with articles/s, sentences/s, load seconds and peak memory."""
    status, out, _ = _run(["bench", str(DEV_SAMPLE), "--methods", "lead3", "--limit", "4", "--json"], capsys)
    payload = json.loads(out)
    (result,) = payload["results"]
    assert status == 0
    assert result["method"] == "lead3" and result["articles"] == 4
    assert result["articles_per_s"] > 0 and result["sentences_per_s"] > result["articles_per_s"]
    assert result["peak_rss_mb"] > 10


def test_bench_without_data_outside_the_repository_says_what_to_do(capsys):
    """The default data file is relative to the repository root; elsewhere the user is told to give one."""
    status, _, err = _run(["bench"], capsys)
    assert status == 2 and "give a JSONL file" in err


def test_parser_has_the_commands_and_room_for_more():
    """summarize, eval and bench are registered; each sets a handler."""
    parser = build_parser()
    for command in ("summarize", "eval", "bench"):
        args = parser.parse_args([command, "x"] if command != "bench" else [command])
        assert callable(args.handler)
