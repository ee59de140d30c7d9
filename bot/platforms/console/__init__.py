"""The console platform, laid out as Discord and Slack are: the terminal gets what a channel would get.

- `render`: digests, answers and link summaries as terminal text (formatting only; `bot.digests.present` chooses)
- `publisher`: the console channel and the publisher that writes its digests to a stream
- `commands`: `python -m bot ask`, `brief`, `summarize`, `digest` and `process` (registered in bot/cli.py)
"""
