"""Formatted text as Telegram stores it: plain text plus entities.

Bots send HTML or MarkdownV2 (or legacy Markdown); Telegram parses the markup, answers
"can't parse entities" for markup it rejects, trims surrounding white space and stores
plain text with entities whose offsets count UTF-16 code units. Doing the same here
catches bad markup in translated strings before they reach real users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import BotAPIError, bad_request

Entity = dict[str, Any]

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_MARKDOWN_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MARKDOWN_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
    "expandable_blockquote": "ExpandableBlockQuote",
}
_STYLE_ENTITIES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
    }
)
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_URL = re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’」。，]")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class FormattedText:
    text: str
    entities: list[Entity] = field(default_factory=list)


def parse(text: str, parse_mode: str | None, entities: Any) -> FormattedText:
    """Turn a bot's text and parse_mode (or explicit entities) into what Telegram stores."""
    if entities is not None:
        result = FormattedText(text, _checked_entities(entities, text))
    elif parse_mode is None or parse_mode == "":
        result = FormattedText(text)
    else:
        mode = parse_mode.lower()
        if mode == "html":
            result = _parse_html(text)
        elif mode == "markdownv2":
            result = _MarkdownV2(text).parse()
        elif mode == "markdown":
            result = _parse_legacy_markdown(text)
        else:
            raise bad_request(f"unsupported parse_mode {parse_mode}")
    result = _trimmed(result)
    result.entities = _sorted(result.entities + detect_entities(result.text, result.entities))
    return result


def detect_entities(text: str, existing: list[Entity] | None = None) -> list[Entity]:
    """Entities Telegram finds by itself in any message: commands, links, @mentions.

    Nothing is found inside a link or code the sender marked; inside bold or italic it is.
    """
    taken = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing or []
        if e["type"] not in _STYLE_ENTITIES
    ]
    found: list[Entity] = []
    for kind, pattern in (("bot_command", _COMMAND), ("url", _URL), ("mention", _MENTION)):
        for match in pattern.finditer(text):
            offset = utf16_len(text[: match.start()])
            length = utf16_len(match.group())
            if any(start < offset + length and offset < end for start, end in taken):
                continue
            taken.append((offset, offset + length))
            found.append({"type": kind, "offset": offset, "length": length})
    return found


def _checked_entities(entities: Any, text: str) -> list[Entity]:
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    checked: list[Entity] = []
    for entity in entities:
        if not isinstance(entity, dict):
            raise bad_request("can't parse entities JSON object")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request("can't parse entities: entity offset and length must be integers")
        if not isinstance(entity.get("type"), str):
            raise bad_request("can't parse entities: entity type is missing")
        if length > 0 and offset >= 0 and offset + length <= total:
            checked.append(dict(entity))
    return checked


def _sorted(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _trimmed(formatted: FormattedText) -> FormattedText:
    text = formatted.text
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    stripped = stripped_left.rstrip()
    end = utf16_len(stripped)
    entities: list[Entity] = []
    for entity in formatted.entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            entities.append({**entity, "offset": start, "length": stop - start})
    return FormattedText(stripped, entities)


def _entity_error(reason: str) -> BotAPIError:
    return bad_request(f"can't parse entities: {reason[0].upper()}{reason[1:]}")


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


class _Output:
    """Plain text being built, with its length in UTF-16 units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.position = 0
        self.entities: list[Entity] = []

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.position += utf16_len(chunk)

    def close(self, entity: Entity, start: int) -> None:
        length = self.position - start
        if length > 0:
            self.entities.append({**entity, "offset": start, "length": length})

    def result(self) -> FormattedText:
        return FormattedText("".join(self.parts), self.entities)


@dataclass
class _Open:
    tag: str
    start: int
    entity: Entity


def _parse_html(source: str) -> FormattedText:
    out = _Output()
    stack: list[_Open] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "&":
            decoded, i = _html_entity(source, i)
            out.add(decoded)
        elif char == "<" and i + 1 < n and source[i + 1] == "/":
            end = source.find(">", i)
            if end == -1:
                raise _entity_error(f"unclosed end tag at byte offset {_byte_offset(source, i)}")
            name = source[i + 2 : end].strip().lower()
            if not stack:
                raise _entity_error(f"unexpected end tag at byte offset {_byte_offset(source, i)}")
            if name != stack[-1].tag:
                raise _entity_error(
                    f"unmatched end tag at byte offset {_byte_offset(source, i)}, "
                    f'expected "</{stack[-1].tag}>", found "</{name}>"'
                )
            _close_html(out, stack)
            i = end + 1
        elif char == "<":
            i = _open_html(source, i, out, stack)
        else:
            out.add(char)
            i += 1
    if stack:
        raise _entity_error(f'can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return out.result()


def _html_entity(source: str, i: int) -> tuple[str, int]:
    end = source.find(";", i)
    if end != -1 and end - i <= 10:
        name = source[i + 1 : end]
        if name in _HTML_NAMED:
            return _HTML_NAMED[name], end + 1
        try:
            if name.startswith(("#x", "#X")):
                return chr(int(name[2:], 16)), end + 1
            if name.startswith("#"):
                return chr(int(name[1:])), end + 1
        except (ValueError, OverflowError):
            pass
    return "&", i + 1


_ATTRIBUTE = re.compile(r"""\s*([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _open_html(source: str, i: int, out: _Output, stack: list[_Open]) -> int:
    offset = _byte_offset(source, i)
    match = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)").match(source, i)
    if match is None:
        raise _entity_error(f"unexpected start tag at byte offset {offset}")
    tag = match.group(1).lower()
    if tag not in _HTML_TAGS:
        raise _entity_error(f'unsupported start tag "{tag}" at byte offset {offset}')
    attributes: dict[str, str] = {}
    j = match.end()
    while True:
        while j < len(source) and source[j].isspace():
            j += 1
        if j >= len(source):
            raise _entity_error(f"unclosed start tag at byte offset {offset}")
        if source[j] == ">":
            break
        attribute = _ATTRIBUTE.match(source, j)
        if attribute is None or attribute.end() == j:
            raise _entity_error(f"invalid attribute in start tag at byte offset {offset}")
        value = next((v for v in attribute.group(2, 3, 4) if v is not None), "")
        attributes[attribute.group(1).lower()] = value
        j = attribute.end()
    entity: Entity = {"type": _HTML_TAGS[tag]}
    if tag == "a":
        url = attributes.get("href", "")
        entity = {"type": "text_link", "url": url} if url else {"type": "plain"}
    elif tag == "span" and attributes.get("class") != "tg-spoiler":
        raise _entity_error(f'tag "span" must have class "tg-spoiler" at byte offset {offset}')
    elif tag == "code" and attributes.get("class", "").startswith("language-"):
        entity["language"] = attributes["class"].removeprefix("language-")
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attributes.get("emoji-id", "")
    elif tag == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    stack.append(_Open(tag, out.position, entity))
    return j + 1


def _close_html(out: _Output, stack: list[_Open]) -> None:
    opened = stack.pop()
    entity = opened.entity
    if entity["type"] == "code" and stack and stack[-1].tag == "pre":
        # <pre><code class="language-x"> is one pre entity with a language.
        if "language" in entity:
            stack[-1].entity["language"] = entity["language"]
        return
    if entity["type"] != "plain":
        out.close(entity, opened.start)


class _MarkdownV2:
    """Telegram's MarkdownV2: nested entities, and every reserved character escaped."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out = _Output()
        self.stack: list[tuple[_Open, int]] = []
        self.i = 0

    def parse(self) -> FormattedText:
        source, n = self.source, len(self.source)
        while self.i < n:
            char = source[self.i]
            at_line_start = self.i == 0 or source[self.i - 1] == "\n"
            if at_line_start and self._top_is_quote() and not source.startswith(">", self.i):
                self._end_quote_line()
            if char == "\\" and self.i + 1 < n and 1 <= ord(source[self.i + 1]) <= 126:
                self.out.add(source[self.i + 1])
                self.i += 2
            elif self._in_code():
                self._code_char(char)
            elif at_line_start and source.startswith("**>", self.i):
                self._open("expandable_blockquote", 3)
            elif at_line_start and char == ">":
                if not self._top_is_quote():
                    self._open("blockquote", 0)
                self.i += 1
            elif source.startswith("||", self.i):
                self._double_bar()
            elif source.startswith("__", self.i):
                self._toggle("underline", 2)
            elif char in "*_~":
                self._toggle({"*": "bold", "_": "italic", "~": "strikethrough"}[char], 1)
            elif source.startswith("```", self.i):
                self._open_pre()
            elif char == "`":
                self._open("code", 1)
            elif char == "[" or source.startswith("!["):
                self._open("custom_emoji" if char == "!" else "text_link", 2 if char == "!" else 1)
            elif char == "]" and self._top_is_link():
                self._close_link()
            elif char in _MARKDOWN_V2_RESERVED:
                raise _entity_error(
                    f"character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            else:
                self.out.add(char)
                self.i += 1
        if self._top_is_quote() and self.stack[-1][0].tag == "blockquote":
            self._close()
        if self.stack:
            opened, byte_offset = self.stack[-1]
            name = _MARKDOWN_V2_NAMES[opened.tag]
            raise _entity_error(f"can't find end of {name} entity at byte offset {byte_offset}")
        return self.out.result()

    def _top_is_quote(self) -> bool:
        return bool(self.stack) and self.stack[-1][0].tag in ("blockquote", "expandable_blockquote")

    def _top_is_link(self) -> bool:
        return bool(self.stack) and self.stack[-1][0].tag in ("text_link", "custom_emoji")

    def _in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1][0].tag in ("code", "pre")

    def _open(self, tag: str, width: int) -> None:
        opened = _Open(tag, self.out.position, {"type": tag})
        self.stack.append((opened, _byte_offset(self.source, self.i)))
        self.i += width

    def _close(self, width: int = 0) -> None:
        opened, _ = self.stack.pop()
        self.out.close(opened.entity, opened.start)
        self.i += width

    def _toggle(self, tag: str, width: int) -> None:
        if self.stack and self.stack[-1][0].tag == tag:
            self._close(width)
        else:
            self._open(tag, width)

    def _double_bar(self) -> None:
        after = self.i + 2
        ends_line = after == len(self.source) or self.source[after] == "\n"
        if ends_line and self.stack and self.stack[-1][0].tag == "expandable_blockquote":
            self._close(2)
        else:
            self._toggle("spoiler", 2)

    def _end_quote_line(self) -> None:
        opened, byte_offset = self.stack[-1]
        if opened.tag == "expandable_blockquote":
            raise _entity_error(
                f"can't find end of ExpandableBlockQuote entity at byte offset {byte_offset}"
            )
        # The newline that ended the quote belongs after it, not inside.
        self.stack.pop()
        self.out.position -= 1
        self.out.close(opened.entity, opened.start)
        self.out.position += 1

    def _code_char(self, char: str) -> None:
        opened = self.stack[-1][0]
        if opened.tag == "pre" and self.source.startswith("```", self.i):
            self._close(3)
        elif opened.tag == "code" and char == "`":
            self._close(1)
        elif char in "`\\":
            raise _entity_error(
                f"character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            self.out.add(char)
            self.i += 1

    def _open_pre(self) -> None:
        self._open("pre", 3)
        newline = self.source.find("\n", self.i)
        first_line = self.source[self.i : newline] if newline != -1 else ""
        if newline != -1 and first_line and not any(c.isspace() for c in first_line):
            self.stack[-1][0].entity["language"] = first_line
            self.i = newline + 1

    def _close_link(self) -> None:
        opened, byte_offset = self.stack[-1]
        self.i += 1
        if not self.source.startswith("(", self.i):
            if opened.tag == "custom_emoji":
                raise _entity_error("Custom emoji entity must contain a tg://emoji URL")
            self.stack.pop()
            return
        url_chars: list[str] = []
        j = self.i + 1
        while j < len(self.source) and self.source[j] != ")":
            if self.source[j] == "\\" and j + 1 < len(self.source):
                j += 1
            url_chars.append(self.source[j])
            j += 1
        if j >= len(self.source):
            raise _entity_error(f"can't find end of a URL at byte offset {byte_offset}")
        url = "".join(url_chars)
        if opened.tag == "custom_emoji":
            opened.entity["custom_emoji_id"] = url.removeprefix("tg://emoji?id=")
        else:
            opened.entity["url"] = url
        self.i = j
        self._close(1)


def _unclosed_legacy(offset: int) -> BotAPIError:
    return _entity_error(f"can't find end of the entity starting at byte offset {offset}")


def _parse_legacy_markdown(source: str) -> FormattedText:
    out = _Output()
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            out.add(char)
            i += 1
            continue
        offset = _byte_offset(source, i)
        start = out.position
        if source.startswith("```", i):
            end = source.find("```", i + 3)
            if end == -1:
                raise _unclosed_legacy(offset)
            out.add(source[i + 3 : end])
            out.close({"type": "pre"}, start)
            i = end + 3
        elif char == "[":
            close = source.find("](", i)
            end = source.find(")", close + 2) if close != -1 else -1
            if close == -1 or end == -1:
                raise _unclosed_legacy(offset)
            out.add(source[i + 1 : close])
            out.close({"type": "text_link", "url": source[close + 2 : end]}, start)
            i = end + 1
        else:
            end = source.find(char, i + 1)
            if end == -1:
                raise _unclosed_legacy(offset)
            out.add(source[i + 1 : end])
            kind = {"_": "italic", "*": "bold", "`": "code"}[char]
            out.close({"type": kind}, start)
            i = end + 1
    return out.result()
