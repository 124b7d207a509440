"""Telegram's flood control for messages a bot sends, as token buckets.

Telegram documents "about 30 messages per second" in bulk and "no more than one message
per second" in a single chat, tolerating short bursts before answering 429 with a
retry_after. Each bucket refills at its rate and holds up to its burst; a message needs
a token from the overall bucket and from its chat's bucket.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimits:
    overall_per_second: float = 30.0
    overall_burst: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 20


class TokenBucket:
    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until a token is available (0 when one is)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class SendLimiter:
    """Decides whether one more message may be sent to a chat now."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._overall = TokenBucket(limits.overall_per_second, limits.overall_burst, clock())
        self._chats: dict[int, TokenBucket] = {}

    def admit(self, chat_id: int) -> int | None:
        """Take the tokens and return None, or return retry_after in whole seconds."""
        now = self._clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = TokenBucket(self.limits.per_chat_per_second, self.limits.per_chat_burst, now)
            self._chats[chat_id] = chat
        wait = max(self._overall.wait_time(now), chat.wait_time(now))
        if wait > 0:
            return max(1, math.ceil(wait))
        self._overall.take()
        chat.take()
        return None
