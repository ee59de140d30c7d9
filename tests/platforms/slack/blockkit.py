"""The one Block Kit checker: every payload the tests capture (posts, responses, acks) goes through it.

Limits from https://api.slack.com/reference/block-kit/blocks, plus our own escaping rule: mrkdwn holds no raw
``&``, and ``<`` only opens a link or a mention we made, never a broadcast such as ``<!everyone>``.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_TEXT_OBJECT = 3000
MAX_HEADER_TEXT = 150
MAX_MESSAGE_TEXT = 40000
MAX_BLOCK_ID = 255

RAW_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
ANGLE = re.compile(r"<([^<>]*)>")
ALLOWED_ANGLE = re.compile(r"(?:https?://[^\s|]+|mailto:[^\s|]+)\|[^|]*|@U[A-Z0-9]+")
BROADCASTS = ("<!everyone>", "<!channel>", "<!here>", "<!subteam")


def mrkdwn_problems(text: str, where: str) -> list[str]:
    """Escaping problems in one mrkdwn string."""
    problems = []
    if RAW_AMPERSAND.search(text):
        problems.append(f"{where}: raw & in mrkdwn: {text[:120]!r}")
    for broadcast in BROADCASTS:
        if broadcast in text:
            problems.append(f"{where}: broadcast {broadcast} in mrkdwn")
    for match in ANGLE.finditer(text):
        if not ALLOWED_ANGLE.fullmatch(match.group(1)):
            problems.append(f"{where}: unexpected <{match.group(1)[:60]}> in mrkdwn")
    if ANGLE.sub("", text).count("<") or ANGLE.sub("", text).count(">"):
        problems.append(f"{where}: unbalanced < or > in mrkdwn: {text[:120]!r}")
    return problems


def _text_object(obj: Any, where: str, limit: int) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in {"plain_text", "mrkdwn"}:
        return [f"{where}: not a text object: {obj!r:.80}"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: empty text"]
    problems = [f"{where}: {len(text)} characters > {limit}"] if len(text) > limit else []
    if obj["type"] == "mrkdwn":
        problems += mrkdwn_problems(text, where)
    return problems


def block_problems(block: dict[str, Any], where: str) -> list[str]:
    """Limit and shape problems in one block."""
    kind = block.get("type")
    problems = []
    if len(str(block.get("block_id", ""))) > MAX_BLOCK_ID:
        problems.append(f"{where}: block_id too long")
    if kind == "header":
        text = block.get("text", {})
        if text.get("type") != "plain_text":
            problems.append(f"{where}: header text must be plain_text")
        problems += _text_object(text, where, MAX_HEADER_TEXT)
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(f"{where}: section without text or fields")
        if "text" in block:
            problems += _text_object(block["text"], where, MAX_SECTION_TEXT)
        fields = block.get("fields", [])
        if len(fields) > MAX_FIELDS:
            problems.append(f"{where}: {len(fields)} fields > {MAX_FIELDS}")
        for number, item in enumerate(fields):
            problems += _text_object(item, f"{where}.fields[{number}]", MAX_FIELD_TEXT)
    elif kind == "context":
        elements = block.get("elements", [])
        if not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
            problems.append(f"{where}: {len(elements)} context elements")
        for number, element in enumerate(elements):
            problems += _text_object(element, f"{where}.elements[{number}]", MAX_TEXT_OBJECT)
    elif kind != "divider":
        problems.append(f"{where}: unexpected block type {kind!r}")
    return problems


def message_problems(payload: dict[str, Any], where: str = "message") -> list[str]:
    """Every problem in one message payload (chat.postMessage arguments, a response_url post or an ack body)."""
    blocks = payload.get("blocks") or []
    if isinstance(blocks, str):  # form-encoded API calls carry blocks as JSON text
        blocks = json.loads(blocks)
    text = payload.get("text") or ""
    problems = []
    if not text and not blocks:
        problems.append(f"{where}: neither text nor blocks")
    if len(text) > MAX_MESSAGE_TEXT:
        problems.append(f"{where}: text of {len(text)} characters")
    if text:
        problems += mrkdwn_problems(text, f"{where}.text")
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{where}: {len(blocks)} blocks > {MAX_BLOCKS}")
    for number, block in enumerate(blocks):
        problems += block_problems(block, f"{where}.blocks[{number}]")
    return problems


def assert_within_limits(payload: dict[str, Any]) -> None:
    """Fail with every problem listed."""
    problems = message_problems(payload)
    assert not problems, "\n".join(problems)
