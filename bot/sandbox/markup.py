"""reply_markup: the four keyboards a bot may attach, checked the way Telegram checks them."""

from __future__ import annotations

from typing import Any

from bot.sandbox.errors import BotAPIError, bad_request

Markup = dict[str, Any]

CALLBACK_DATA_MAX_BYTES = 64
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "web_app",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_URL_SCHEMES = ("http://", "https://", "tg://")


def parse_reply_markup(raw: Any) -> Markup | None:
    """Return the markup normalised (reply buttons as objects), or fail with Telegram's 400."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        return {"inline_keyboard": _rows(raw["inline_keyboard"], "inline_keyboard", _inline)}
    if "keyboard" in raw:
        markup = {k: v for k, v in raw.items() if k != "keyboard"}
        markup["keyboard"] = _rows(raw["keyboard"], "keyboard", _reply_button)
        return markup
    if raw.get("remove_keyboard") is True or raw.get("force_reply") is True:
        return dict(raw)
    raise bad_request("can't parse reply keyboard markup JSON object")


def callback_data_on(markup: Markup | None) -> list[str]:
    """Every callback_data of an inline keyboard: what a person can actually press."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        button["callback_data"]
        for row in markup["inline_keyboard"]
        for button in row
        if "callback_data" in button
    ]


def _rows(raw: Any, field: str, button: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
        raise bad_request(f'field "{field}" of the keyboard markup must be an Array of Arrays')
    rows = [[button(item) for item in row] for row in raw]
    if sum(len(row) for row in rows) > 100:
        raise bad_request("reply markup is too long")
    return rows


def _inline(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    if not isinstance(raw.get("text"), str):
        raise _button_error('Field "text" must be of type String')
    actions = [name for name in _INLINE_ACTIONS if name in raw]
    if not actions:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise _button_error("Only one of the optional fields must be specified")
    if "callback_data" in raw:
        data = raw["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_MAX_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in raw and not str(raw["url"]).startswith(_URL_SCHEMES):
        raise bad_request("BUTTON_URL_INVALID")
    return dict(raw)


def _reply_button(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        return {"text": raw}
    if isinstance(raw, dict) and isinstance(raw.get("text"), str):
        return dict(raw)
    raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')


def _button_error(reason: str) -> BotAPIError:
    return bad_request(f"can't parse inline keyboard button: {reason}")
