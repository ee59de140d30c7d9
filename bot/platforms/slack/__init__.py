"""The Slack adapter: `/news` over Socket Mode or HTTP, Block Kit digests, and the digest publisher.

Modules: `render` (pure Block Kit within Slack's limits), `commands` (parse `/news`, ack, call the service,
respond), `permissions` (who may change subscriptions), `publisher` (chat.postMessage with threads and rate-limit
retries), `app` (the Bolt app, the HTTP server and Socket Mode).
"""

from bot.platforms.slack.app import SlackPlatform, build_slack

__all__ = ["SlackPlatform", "build_slack"]
