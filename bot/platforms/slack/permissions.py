"""Who may change a channel's subscription and the feed list in Slack.

Workspace admins and owners (from users.info), plus the user ids the operator lists in SLACK_SUBSCRIPTION_MANAGERS.
Answers are cached briefly, so a burst of commands costs one users.info call (Tier 4, about 100 a minute), and a
demoted admin loses the right within minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
MAX_CACHED = 10_000  # bounded memory even in a huge workspace


class ManagerCheck:
    """Decides whether a Slack user may manage subscriptions and sources."""

    def __init__(
        self,
        client: AsyncWebClient,
        managers: Iterable[str] = (),
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.managers = frozenset(managers)
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}

    async def can_manage(self, team_id: str, user_id: str) -> bool:
        """True for listed managers and for workspace admins and owners; False when Slack cannot tell us."""
        if user_id in self.managers:
            return True
        key = (team_id, user_id)
        cached = self._cache.get(key)
        now = self.clock()
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            response = await self.client.users_info(user=user_id)
        except (SlackApiError, SlackClientError, ClientError, TimeoutError) as error:
            # Not cached: the next command asks again. Refusing is the safe side of an unknown answer.
            log.warning("users.info failed for user %s in team %s: %s", user_id, team_id, _reason(error))
            return False
        user = response.get("user") or {}
        allowed = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[key] = (now, allowed)
        return allowed


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "unknown error"))
    return type(error).__name__
