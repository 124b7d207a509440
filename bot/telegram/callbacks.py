"""Button data is never trusted: each button carries an HMAC bound to the person it was sent to.

Format (at most 64 bytes, Telegram's limit): ``<payload>~<mac>``. ``payload`` is
``f<step>:<value>`` for a flow question (``step`` tells an old button from the current one)
or ``c:<command>`` for a shortcut. The MAC covers the Telegram user id and the payload, so
data copied from someone else's button, edited, or made up is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from flows.commands import parse_number

MAX_BYTES = 64
_MAC_BYTES = 9  # 72 bits, 12 characters of base64


class ForgedButton(Exception):
    """The callback data was not made by this bot for this person."""


@dataclass(frozen=True, slots=True)
class ButtonData:
    kind: str  # "flow" or "command"
    value: str
    step: int = 0


class ButtonSigner:
    def __init__(self, key: bytes) -> None:
        # Keyed once; each MAC starts from a copy (half the cost of keying it every time).
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def _mac(self, user_id: int, payload: str) -> str:
        mac = self._keyed.copy()
        mac.update(f"{user_id}|{payload}".encode())
        return base64.urlsafe_b64encode(mac.digest()[:_MAC_BYTES]).decode()

    def sign(self, user_id: int, data: ButtonData) -> str:
        prefix = f"f{data.step}" if data.kind == "flow" else "c"
        payload = f"{prefix}:{data.value}"
        signed = f"{payload}~{self._mac(user_id, payload)}"
        if len(signed.encode()) > MAX_BYTES:
            raise ValueError(f"button value too long for Telegram: {data.value!r}")
        return signed

    def verify(self, user_id: int, raw: str | None) -> ButtonData:
        if not raw or "~" not in raw:
            raise ForgedButton("no signature")
        payload, mac = raw.rsplit("~", 1)
        # Bytes, not str: compare_digest refuses non-ASCII strings, and forged data may have them.
        if not hmac.compare_digest(mac.encode(), self._mac(user_id, payload).encode()):
            raise ForgedButton("bad signature")
        prefix, _, value = payload.partition(":")
        if prefix == "c":
            return ButtonData("command", value)
        step = parse_number(prefix[1:]) if prefix.startswith("f") else None
        if step is not None:
            return ButtonData("flow", value, step)
        raise ForgedButton("unknown kind")
