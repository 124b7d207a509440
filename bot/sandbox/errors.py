"""The two kinds of failure in the sandbox: Telegram's answers, and misuse of the control API."""

from __future__ import annotations

from typing import Any


class BotAPIError(Exception):
    """A Bot API call fails the way Telegram fails it: status code, description, parameters."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> BotAPIError:
    return BotAPIError(403, f"Forbidden: {reason}")


def conflict(reason: str) -> BotAPIError:
    return BotAPIError(409, f"Conflict: {reason}")


def too_many_requests(retry_after: int) -> BotAPIError:
    return BotAPIError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


class SandboxError(Exception):
    """The simulated person cannot do that (unknown person, button not on the message ...)."""
