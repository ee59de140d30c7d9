"""One checker for every message payload the Discord adapter produces: Discord's limits and mention safety.

The numbers are written out here from Discord's documentation rather than imported from the renderer, so a wrong
constant in the renderer cannot make its own test pass.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000  # all embeds of one message together
EMBEDS = 10

# A mention Discord would render (and, allowed_mentions permitting, ping).
LIVE_MENTION = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>", re.IGNORECASE)


def _texts(payload: dict[str, Any]) -> list[str]:
    texts = [payload.get("content") or ""]
    for embed in payload.get("embeds") or []:
        texts += [embed.get("title", ""), embed.get("description", "")]
        texts += [embed.get("footer", {}).get("text", ""), embed.get("author", {}).get("name", "")]
        for field in embed.get("fields", []):
            texts += [field["name"], field["value"]]
    return texts


def message_problems(payload: dict[str, Any], *, require_no_mentions: bool = True) -> list[str]:
    """Everything in one message payload that breaks Discord's limits or could ping someone."""
    problems = []
    content = payload.get("content") or ""
    if len(content) > CONTENT:
        problems.append(f"content has {len(content)} characters")
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS:
        problems.append(f"{len(embeds)} embeds")
    total = 0
    for number, embed in enumerate(embeds, start=1):
        sizes = {
            "title": (len(embed.get("title", "")), TITLE),
            "description": (len(embed.get("description", "")), DESCRIPTION),
            "footer": (len(embed.get("footer", {}).get("text", "")), FOOTER),
            "author": (len(embed.get("author", {}).get("name", "")), AUTHOR),
        }
        fields = embed.get("fields", [])
        if len(fields) > FIELDS:
            problems.append(f"embed {number} has {len(fields)} fields")
        for field in fields:
            sizes[f"field {field['name']!r} name"] = (len(field["name"]), FIELD_NAME)
            sizes[f"field {field['name']!r} value"] = (len(field["value"]), FIELD_VALUE)
            if not field["value"]:
                problems.append(f"embed {number} has an empty field value")
        for part, (size, limit) in sizes.items():
            if size > limit:
                problems.append(f"embed {number} {part} has {size} characters (limit {limit})")
        total += sum(size for size, _ in sizes.values())
        if "url" in embed and urlsplit(embed["url"]).scheme not in {"http", "https"}:
            problems.append(f"embed {number} url {embed['url']!r} is not an http(s) link")
    if total > EMBED_TOTAL:
        problems.append(f"embeds have {total} characters together")
    if require_no_mentions:
        mentions = payload.get("allowed_mentions")
        if mentions is None or mentions.get("parse") != [] or mentions.get("users") or mentions.get("roles"):
            problems.append(f"allowed_mentions is {mentions!r}")
        problems += [f"live mention in {text[:80]!r}" for text in _texts(payload) if LIVE_MENTION.search(text)]
    return problems


def assert_within_limits(payload: dict[str, Any], *, require_no_mentions: bool = True) -> None:
    """Fail with every problem of the payload listed."""
    problems = message_problems(payload, require_no_mentions=require_no_mentions)
    assert not problems, problems


def embed_chars(payload: dict[str, Any]) -> int:
    """The characters Discord counts towards the 6000 of one message."""
    return sum(len(text) for text in _texts(payload)) - len(payload.get("content") or "")
