"""One answer, three platforms: the console, Discord and Slack show the same sentences in the same order, the
outlets that also report each fact, and the note on articles not searched yet."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.intelligence.results import AlsoReported, Answer, CitedSentence
from bot.platforms.console.render import render_answer as console_answer
from bot.platforms.discord.render import render_answer as discord_answer
from bot.platforms.slack.render import render_answer as slack_answer
from bot.storage import TextKind
from tests.platforms.discord.limits import assert_within_limits
from tests.platforms.discord.test_render import _payload
from tests.platforms.slack.blockkit import assert_within_limits as assert_within_block_kit

WHEN = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
LEAD = "The Senate passed the defence bill by 97 votes to 1 on Thursday."
SUPPORT = "The bill now goes to the House, where a vote is expected next month."
NOTE = "3 articles stored in the last minutes are not searched yet (processing)."
ANSWER = Answer(
    question="How did the Senate vote on the defence bill?",
    sentences=(
        CitedSentence(
            LEAD,
            1,
            "Senate passes defence bill",
            "Capitol Wire",
            "https://capitol.example/vote",
            WHEN,
            TextKind.FULL_TEXT,
            0.9,
            also_reported_by=(
                AlsoReported("Hill Daily", "Defence bill clears Senate", "https://hill.example/bill"),
                AlsoReported("Beltway News", "Senate vote", "https://beltway.example/vote"),
            ),
        ),
        CitedSentence(
            SUPPORT,
            2,
            "What next for the bill",
            "Union Post",
            "https://union.example/next",
            WHEN,
            TextKind.FULL_TEXT,
            0.7,
        ),
    ),
    as_of=WHEN,
    found=True,
    message="From 2 sentences in the archive:",
    searched=40,
    note=NOTE,
)


def _in_order(text: str, *parts: str) -> bool:
    positions = [text.find(part) for part in parts]
    return -1 not in positions and positions == sorted(positions)


def test_console_discord_and_slack_show_the_same_answer():
    """Lead first, then the supporting sentence; the other outlets of the lead's fact; the note; on all three."""
    console = console_answer(ANSWER)
    (discord_message,) = discord_answer(ANSWER)
    discord_payload = _payload(discord_message)
    assert_within_limits(discord_payload, require_no_mentions=False)  # mentions are turned off when sending
    discord = discord_payload["embeds"][0]["description"]
    slack_message = slack_answer(ANSWER)
    assert_within_block_kit(slack_message.payload())
    slack = " ".join(str(block) for block in slack_message.blocks)
    for text in (" ".join(console.split()), discord, slack):
        assert _in_order(text, LEAD, "also reported by", "Hill Daily", "Beltway News", SUPPORT, NOTE), text
    assert "https://hill.example/bill" in console
    assert "[Hill Daily](https://hill.example/bill)" in discord
    assert "<https://hill.example/bill|Hill Daily>" in slack


def test_a_refusal_with_pending_articles_says_both():
    """Nothing found while articles are pending: the refusal and the one-line note, on all three."""
    refusal = Answer("Who won the World Cup?", (), WHEN, False, "I have nothing on that in the archive.", 40, NOTE)
    console = console_answer(refusal)
    (discord_message,) = discord_answer(refusal)
    discord = _payload(discord_message)["embeds"][0]["description"]
    slack = " ".join(str(block) for block in slack_answer(refusal).blocks)
    for text in (console, discord, slack):
        assert _in_order(text, "I have nothing on that in the archive.", NOTE)
        assert text.count("not searched yet") == 1
