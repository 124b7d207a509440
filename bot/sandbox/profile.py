"""How the bot presents itself: command lists, menu buttons, name and descriptions.

Each is stored per scope and language as setMyCommands and friends store them, and
resolved for one person the way a Telegram app resolves them in a private chat.
"""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.errors import bad_request

Scope = tuple[str, int | None]

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_SCOPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}
_MENU_TYPES = {"commands", "web_app", "default"}


def parse_scope(raw: Any) -> Scope:
    if raw is None:
        return ("default", None)
    if not isinstance(raw, dict) or raw.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(raw["type"])
    if kind in ("chat", "chat_administrators", "chat_member"):
        chat_id = raw.get("chat_id")
        if not isinstance(chat_id, int):
            raise bad_request("chat not found")
        user_id = raw.get("user_id")
        return (f"{kind}:{user_id}" if kind == "chat_member" else kind, chat_id)
    return (kind, None)


def parse_language(raw: str | None) -> str:
    """setMyCommands takes a two-letter ISO 639-1 code, or none for everyone."""
    if not raw:
        return ""
    if not _LANGUAGE.fullmatch(raw):
        raise bad_request("invalid language_code specified: use a two-letter ISO 639-1 code")
    return raw


def parse_commands(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > 100:
        raise bad_request("too many commands specified")
    commands: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("command description is empty or longer than 256 characters")
        commands.append({"command": command, "description": description})
    return commands


def parse_menu_button(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {"type": "default"}
    if not isinstance(raw, dict) or raw.get("type") not in _MENU_TYPES:
        raise bad_request("can't parse MenuButton JSON object")
    return dict(raw)


class BotProfile:
    def __init__(self, first_name: str) -> None:
        self.first_name = first_name
        self._commands: dict[tuple[Scope, str], list[dict[str, str]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._texts: dict[tuple[str, str], str] = {}

    def set_commands(self, scope: Scope, language: str, commands: list[dict[str, str]]) -> None:
        if commands:
            self._commands[(scope, language)] = commands
        else:
            self._commands.pop((scope, language), None)

    def commands(self, scope: Scope, language: str) -> list[dict[str, str]]:
        return self._commands.get((scope, language), [])

    def commands_for(self, chat_id: int, language_code: str) -> list[dict[str, str]]:
        """The list a Telegram app shows in a private chat, most specific scope first."""
        language = language_code.split("-")[0].lower()
        for scope in (("chat", chat_id), ("all_private_chats", None), ("default", None)):
            for lang in (language, ""):
                found = self._commands.get((scope, lang))
                if found:
                    return found
        return []

    def set_menu_button(self, chat_id: int | None, button: dict[str, Any]) -> None:
        self._menu_buttons[chat_id] = button

    def menu_button(self, chat_id: int | None) -> dict[str, Any]:
        """The chat's own button, else the bot's default one, else the command list."""
        for key in dict.fromkeys((chat_id, None)):
            button = self._menu_buttons.get(key)
            if button is not None and button["type"] != "default":
                return button
        return {"type": "commands"}

    def set_text(self, field: str, language: str, value: str) -> None:
        """name, description or short_description, per language ("" for everyone)."""
        if value:
            self._texts[(field, language)] = value
        else:
            self._texts.pop((field, language), None)

    def text(self, field: str, language: str) -> str:
        return self._texts.get((field, language), "")

    def text_for(self, field: str, language_code: str) -> str:
        language = language_code.split("-")[0].lower()
        return self._texts.get((field, language)) or self._texts.get((field, ""), "")
