"""The offline demo end to end, as `make run` starts it on a machine with no platform token."""

from __future__ import annotations

import io
import logging
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.demo.bundle import load_bundle
from bot.demo.run import QUESTIONS
from tests.intelligence.shared import ENCODER_ENV, shared_encoder

pytestmark = pytest.mark.slow

SOURCE_LINE = re.compile(r"^ +\[\d+\] [^:]+: (http://127\.0\.0\.1:\d+/\S+) \((full text|feed teaser only)\)$", re.M)
STORY_LINE = re.compile(r"^\d+\. \S", re.M)


@dataclass(frozen=True)
class DemoRun:
    code: int
    digest: str
    answers: dict[str, str]
    progress: str
    folder: Path


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`python -m bot run` once, in this process (so it reuses the test encoder), with no token configured."""
    shared_encoder()
    folder = tmp_path_factory.mktemp("demo")
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in Settings.model_fields:
            patch.delenv(name.upper(), raising=False)
        patch.setenv("DATABASE_URL", f"sqlite:///{folder / 'mine.sqlite3'}")
        for name, value in ENCODER_ENV.items():
            patch.setenv(name, value)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = main(["run"])
        finally:
            root.handlers[:], root.level = handlers, level  # main() set up logging to the captured stream
    digest, *answers = out.getvalue().split("\nQ: ")
    by_question = {answer.split("\n", 1)[0]: answer.split("\n", 1)[1] for answer in answers}
    return DemoRun(code, digest, by_question, err.getvalue(), folder)


def test_demo_prints_a_digest_of_several_stories_with_labels_and_loopback_sources(demo_run: DemoRun):
    """Exit code 0; the digest has several stories, each with labelled sources on the sample server."""
    assert demo_run.code == 0, demo_run.progress
    assert demo_run.digest.lstrip().startswith("Geopolitics briefing")
    assert len(STORY_LINE.findall(demo_run.digest)) >= 4
    sources = SOURCE_LINE.findall(demo_run.digest)
    assert len(sources) >= 4
    assert {label for _url, label in sources} == {"full text", "feed teaser only"}


def test_demo_digest_leaves_out_the_backlog(demo_run: DemoRun):
    """What the feeds carried when first seen (round 1) is backlog, never news in the digest."""
    backlog = [article for article in load_bundle().articles if article.round == 1]
    assert backlog
    for article in backlog:
        assert f"/{article.outlet}/{article.slug} " not in demo_run.digest


def test_demo_answers_both_questions_citing_bundled_articles(demo_run: DemoRun):
    """Each example question is answered with quoted sentences citing bundled articles on the sample server."""
    bundle = load_bundle()
    pages = {f"/{article.outlet}/{article.slug}": article for article in bundle.articles}
    assert list(demo_run.answers) == list(QUESTIONS)
    cited = {}
    for question, answer in demo_run.answers.items():
        links = re.findall(r"^ +(http://127\.0\.0\.1:\d+(/\S+))$", answer, re.M)
        assert links, f"no citation for {question!r}"
        assert all(path in pages for _url, path in links)
        cited[question] = {pages[path].slug for _url, path in links}
        assert "As of " in answer
    assert "biden-kishida-security-talks" in cited[QUESTIONS[0]]
    assert "NPT" in demo_run.answers[QUESTIONS[0]]
    assert any(slug.startswith("Syria-finishing-school") for slug in cited[QUESTIONS[1]])


def test_demo_posts_an_update_of_a_growing_story_and_shows_how_it_is_told(demo_run: DemoRun):
    """Round 3 brings three more outlets to a story of the first digest: the next digest posts only what is new,
    each line cited, and the story view lists every outlet's first report and how each tells it."""
    update = demo_run.digest.split("  ↳ Update to: ", 1)[1].split("\n$ python -m bot story ", 1)[0]
    assert "New since" in update
    assert "Now also reported by BBC News [1], Radio Netherlands Worldwide [2], The New York Times [3]" in update
    assert "First coverage from NL" in update
    lines = re.findall(r"^    - (.+?) \[(\d)\]$", update.replace("\n      ", " "), re.M)
    facts = [(text, number) for text, number in lines if not text.startswith("Now also reported by")]
    assert len(facts) == 3 and {number for _text, number in facts} == {"1", "2", "3"}
    for path in ("/reuters/", "/usatoday/"):  # what the channel was told already is not repeated
        assert path not in update
    story = demo_run.digest.split("\n$ python -m bot story ", 1)[1]
    timeline = story.split("\nTimeline\n", 1)[1].split("\nHow it is told\n", 1)[0]
    entries = re.findall(r"^  \d\d \w{3} .+$", timeline, re.M)
    assert [line.strip().split(" ", 3)[3].split(":")[0] for line in entries] == [
        "first report Reuters (GB)",
        "first from USA Today (US)",
        "first from BBC News (GB)",
        "first from Radio Netherlands Worldwide (NL)",
        "first from The New York Times (US)",
    ]
    told = story.split("\nHow it is told\n", 1)[1]
    assert told.count("“") >= 10  # five headlines, five distinctive sentences


def test_demo_shows_progress_and_leaves_the_configured_database_alone(demo_run: DemoRun):
    """Progress lines go to standard error, with the hint to connect a platform; DATABASE_URL is never created."""
    assert "offline demo" in demo_run.progress
    steps = re.findall(r"^\[(\d+)/11\] .+\(\d+\.\d s\)$", demo_run.progress, re.M)
    assert steps == [str(number) for number in range(1, 12)]
    assert "backlog" in demo_run.progress and "DISCORD_TOKEN" in demo_run.progress
    assert re.search(r"backlog's pages, .* \d+ full text, \d+ feed teaser only, 7 pages requested", demo_run.progress)
    assert not (demo_run.folder / "mine.sqlite3").exists()
