"""The sandbox: a local Telegram Bot API server and a multi-person web chat.

Program staff try the bot without a Telegram account or internet, peer workers train by
role-play, and tests run the bot against a real HTTP Bot API. See docs/sandbox.md.
"""

from bot.sandbox.botapi import RecordedCall, SandboxBotAPI
from bot.sandbox.chats import ChatEntry
from bot.sandbox.errors import BotAPIError, SandboxError
from bot.sandbox.ratelimit import RateLimits

__all__ = [
    "BotAPIError",
    "ChatEntry",
    "RateLimits",
    "RecordedCall",
    "SandboxBotAPI",
    "SandboxError",
]
