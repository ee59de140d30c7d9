"""Errors the bot raises on purpose.

BotError
 ├── ConfigError      a setting is missing or invalid; start-up stops with its message
 └── UserInputError   a command's input is wrong; platforms show the message to the user as is
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot raises deliberately; its message is safe to show."""


class ConfigError(BotError):
    """A setting is missing or invalid."""


class UserInputError(BotError):
    """A command's input is invalid; the message says what is allowed."""


class PermissionDeniedError(BotError):
    """The user may not do this in this channel; the message says who can."""
