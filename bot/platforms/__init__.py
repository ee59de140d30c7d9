"""Platform adapters: Discord, Slack and the console render digests and answer commands."""
