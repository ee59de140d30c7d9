"""Platform adapters: Discord, Slack and the console render digests and answer commands.

What they share is decided outside them: `spec` defines every `/news` command once (both chat adapters register
from it), and `bot.digests.present` chooses what a digest item shows in a style; each adapter only formats.
"""
