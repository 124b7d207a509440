"""Text normalisation shared by messages and lexicon phrases.

Matching is done on a canonical form of the text so that one lexicon phrase covers the
many ways people (and people trying to get past a filter) write the same words:
full-width letters, invisible characters, Traditional characters, stretched letters,
letters spaced out or split by punctuation, leetspeak. The same function is applied to
the lexicon's phrases, so an author writes "kill myself" or "自殺" and it matches
"ｋｉｌｌ ｍｙｓｅｌｆ", "kiiill myself", "k i l l myself" and "自杀".
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Iterable, Mapping


def _runs(codepoints: Iterable[int]) -> list[list[int]]:
    """Sorted code points in runs of consecutive ones (a character class written with
    ranges is checked far faster by ``re`` than one listing every character)."""
    runs: list[list[int]] = []
    for point in sorted(codepoints):
        if runs and point == runs[-1][-1] + 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


# Format, bidi and other characters that render as nothing and are used to split a word
# so that a filter does not see it.
_INVISIBLE_CODEPOINTS: tuple[int, ...] = (
    0x00AD,  # soft hyphen
    0x034F,  # combining grapheme joiner
    0x061C,  # Arabic letter mark
    0x115F,
    0x1160,  # Hangul fillers
    0x17B4,
    0x17B5,
    0x180E,  # Mongolian vowel separator
    *range(0x200B, 0x2010),  # zero-width space/non-joiner/joiner, LRM, RLM
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2060, 0x2070),  # word joiner, invisible operators, bidi isolates
    0x3164,  # Hangul filler
    *range(0xFE00, 0xFE10),  # variation selectors
    0xFEFF,  # zero-width no-break space / BOM
    0xFFA0,
    *range(0xE0000, 0xE0080),  # tag characters
)
_INVISIBLE = re.compile(
    "["
    + "".join(
        f"{chr(run[0])}-{chr(run[-1])}" if len(run) > 1 else re.escape(chr(run[0]))
        for run in _runs(_INVISIBLE_CODEPOINTS)
    )
    + "]+"
)

# Cyrillic and Greek letters that look like Latin ones ("kіll" with a Cyrillic і).
_LOOKALIKES: dict[int, str] = {
    ord(k): v
    for k, v in {
        "а": "a",
        "е": "e",
        "ё": "e",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "ԁ": "d",
        "ӏ": "l",
        "ο": "o",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "τ": "t",
        "υ": "u",
        "ρ": "p",
        "α": "a",
        "ε": "e",
    }.items()
}

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LATIN = "a-z0-9"
# Characters inserted inside a word to break it up ("自-杀", "想 死", "k.i.l.l").
_SOFT_SEPARATORS = r"\s\-_.·•*~+/\\|'\"`^=…"

# Most patterns here start with a character and look behind it, rather than looking
# behind first: ``re`` then jumps to the places that hold that character instead of
# trying every position (the same matches, much faster on long messages).
_APOSTROPHE_IN_WORD = re.compile(r"['’‘`´](?<=[a-z]['’‘`´])(?=[a-z])")
# "he'll", "she'd", "they'll": the pronoun stays a word of its own (without this, "he'll"
# became "hell" and "she'll" "shell", and "my son told me he'll jump" lost its third person).
_THIRD_PERSON_CONTRACTION = re.compile(r"\b(he|she|they)['’‘`´](ll|d)\b")
_LEET_TOKEN = re.compile(r"(?<![a-z0-9])(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[0-9@$])[a-z0-9@$]+")
# A token with both a letter and a digit has the two side by side somewhere.
_LETTER_BY_DIGIT = re.compile(r"[a-z0-9@$](?:(?<=[a-z])[0-9@$]|(?<=[0-9@$])[a-z])")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_BANG_IN_WORD = re.compile(r"!(?<=[a-z]!)(?=[a-z])")
_SPACED_LETTERS = re.compile(
    rf"[a-z](?<![{_LATIN}][a-z])(?:[{_SOFT_SEPARATORS},]+[a-z](?![{_LATIN}])){{2,}}"
)
_SEPARATOR_RUN = re.compile(rf"[{_SOFT_SEPARATORS},]+")
_JOINER_IN_WORD = re.compile(r"[-_·•](?<=[a-z][-_·•])[-_·•]*(?=[a-z])")
_BETWEEN_CJK = re.compile(
    rf"[{_SOFT_SEPARATORS}](?<=[{CJK}][{_SOFT_SEPARATORS}])[{_SOFT_SEPARATORS}]*(?=[{CJK}])"
)
_CJK_RUN = re.compile(f"[{CJK}]+")
_SPACE = re.compile(r"\s")
_SPACE_AT_SCRIPT_CHANGE = re.compile(
    rf"\s(?:(?<=[{CJK}]\s)\s*(?=[{_LATIN}])|(?<=[{_LATIN}]\s)\s*(?=[{CJK}]))"
)
_REPEATED_LETTER = re.compile(r"([a-z])\1+")
# A run of white space other than one plain space (which would be replaced by itself).
_WHITESPACE = re.compile(r"\s(?:(?<=[^\S ])\s*|\s+)")
_CENSORED_LETTER = re.compile(r"(?<=[a-z])\*+(?=[a-z])")
_APOSTROPHES = frozenset("'’‘`´")
_LEET_CHARS = frozenset("0123456789@$")
_JOINERS = frozenset("-_·•")
_FIRST_GROUP = operator.methodcaller("group", 1)
# Full-width letters, digits and punctuation, and the ideographic space.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_FULL_WIDTH_ASCII = {
    char: unicodedata.normalize("NFKC", char) for char in map(chr, [*range(0xFF01, 0xFF5F), 0x3000])
}
_FEW = 24  # characters to fold: fewer are replaced one by one, more in one pass
_LONG = 400  # characters: a longer text is cut to what surrounds its asterisks
_AROUND = 40
# Combining marks of the blocks used for decoration and obfuscation (strike-through,
# Zalgo, accents). Marks that carry meaning in scripts we do not match are left alone.
_COMBINING_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
# A spaced-out run starting with the pronoun "I" or the article "a" ("I w a n t")
# keeps that first letter as its own word.
_STANDALONE_FIRST = frozenset("ia")

# Chat spellings written out, so that one phrase ("want to die", "kill myself", "dying")
# covers "wanna die", "kms", "dyin". Whole words only; apostrophes are already gone.
_TEXT_SPEAK: dict[str, str] = {
    "wanna": "want to",
    "wana": "want to",
    "wanan": "want to",
    "gonna": "going to",
    "gona": "going to",
    "finna": "going to",
    "gotta": "got to",
    "tryna": "trying to",
    "hafta": "have to",
    "kms": "kill myself",
    "myslef": "myself",
    "mysef": "myself",
    "myslf": "myself",
    "myseld": "myself",
    "mysrlf": "myself",
    "dieing": "dying",
    "u": "you",
    "ur": "your",
    "r": "are",
    "ppl": "people",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "cos": "because",
    "rn": "right now",
    "tonite": "tonight",
    "2nite": "tonight",
    "2night": "tonight",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "idk": "i dont know",
    "idc": "i dont care",
    "abt": "about",
    "smth": "something",
    "sth": "something",
    "every1": "everyone",
    "any1": "anyone",
    "some1": "someone",
    "no1": "no one",
    "4ever": "forever",
    "b4": "before",
    "w/o": "without",
    "pls": "please",
    "plz": "please",
}
# Dropped g's of the verbs people in crisis use ("endin it", "thinkin bout").
_DROPPED_G = [
    "dyin",
    "endin",
    "killin",
    "goin",
    "thinkin",
    "cuttin",
    "hurtin",
    "jumpin",
    "hangin",
    "takin",
    "plannin",
    "feelin",
    "tryin",
    "doin",
    "nothin",
    "livin",
    "wantin",
    "savin",
    "collectin",
    "sayin",
    "givin",
    "writin",
    "leavin",
    "gettin",
    "overdosin",
    "burnin",
    "stabbin",
    "shootin",
    "drownin",
]
_TEXT_SPEAK.update({word: word + "g" for word in _DROPPED_G})
_TEXT_SPEAK["bout"] = "about"
_WORD = re.compile(r"[a-z0-9/]+")
# Each chat spelling as a whole word (the lookbehind after the word, so that ``re`` looks
# for the word itself). No spelled-out form holds a word of the list, so the words a
# message holds can be replaced one after another.
_SPELLED_WORD = {
    word: re.compile(rf"{re.escape(word)}(?<![a-z0-9/]{re.escape(word)})(?![a-z0-9/])")
    for word in _TEXT_SPEAK
}
assert _TEXT_SPEAK.keys().isdisjoint(_WORD.findall(" ".join(_TEXT_SPEAK.values())))
assert not any("\\" in spelled for spelled in _TEXT_SPEAK.values())
# "want 2 die": a 2 after a verb that takes "to".
_TWO_AS_TO = re.compile(
    r"(?<![a-z0-9])(want|wants|going|need|needs|wish|have|has|got|trying|ready|about|how|"
    r"plan|planning|planned|decided|deserve|deserves|used|like) 2 (?=[a-z])"
)
# Written Cantonese, so Mandarin phrases cover it: 唔想活 → 不想活, 死咗 → 死了.
# Several characters first (唔好 is "don't", not "not good"), then single ones.
_CANTONESE_WORDS = {
    "唔好": "不要",
    "唔使": "不用",
    "冇咗": "没了",
    "落去": "下去",
    "跳落": "跳下",
    "成樽": "整瓶",
    "成排": "整板",
    "屋企人": "家人",
    "屋企": "家里",
    "佢哋": "他们",
    "我哋": "我们",
    "你哋": "你们",
    "做咩": "为什么",
    "點解": "为什么",
    "嘢": "东西",
}
_CANTONESE_CHARS = {
    "唔": "不",
    "咗": "了",
    "冇": "没",
    "瞓": "睡",
    "佢": "他",
    "嘅": "的",
    "喺": "在",
    "嚟": "来",
    "攰": "累",
    "諗": "想",
    "谂": "想",
    "畀": "给",
    "俾": "给",
    "食": "吃",
    "揾": "找",
    "搵": "找",
    "乜": "什么",
    "係": "是",
    "啦": "了",
}
# 係 is the Cantonese copula (真係, 唔係) but also "tie" inside words, in either script's
# first character (關係 "relationship", 係數 "coefficient"): there it folds like 系.
_WORDS_HOLDING_XI = ["關係", "关係", "聯係", "联係", "維係", "维係", "干係", "係數"]
_CANTONESE_WORDS.update({word: word.replace("係", "系") for word in _WORDS_HOLDING_XI})
_CANTONESE_WORDS["係數學"] = "是數學"  # 係 then 數學, "mathematics"
_CANTONESE_WORD = re.compile("|".join(sorted(_CANTONESE_WORDS, key=len, reverse=True)))

# Taiwanese chat writes some words as one zhuyin (bopomofo) letter, the word's first sound
# (注音文): "我ㄅ想活ㄌ" is 我不想活了, "自ㄕㄉ" 自殺的. A run of letters holding a tone mark,
# or a vowel next to another letter, is a syllable spelt out in full ("ㄨㄛˇ") and is left
# alone, as are letters no word is written with (ㄏㄏ, laughing).
_ZHUYIN_RUN = re.compile("自?[\u3105-\u312f\u31a0-\u31bf\u02c7\u02ca\u02cb\u02d9]+")
_SPELT_OUT = re.compile("[\u02c7\u02ca\u02cb\u02d9]|[\u3105-\u312f][\u311a-\u3129]")
_ZHUYIN_WORDS = {
    "自ㄕ": "自殺",
    "ㄗㄕ": "自殺",
    "ㄅ": "吧",  # at a sentence's end ("好ㄅ"); before a word it is 不, below
    "ㄋ": "呢",  # likewise; 你 before a word
    "ㄙ": "死",
    "ㄕ": "是",
    "ㄉ": "的",
    "ㄌ": "了",
    "ㄇ": "嗎",
    "ㄨ": "我",
    "ㄊ": "他",
    "ㄚ": "啊",
    "ㄛ": "哦",
    "ㄟ": "欸",
}
_ZHUYIN_WORD = re.compile("|".join(sorted(_ZHUYIN_WORDS, key=len, reverse=True)))
_ZHUYIN_BEFORE_A_WORD = {"ㄅ": "不", "ㄋ": "你"}


class Normaliser:
    """Turns text into the canonical form that lexicon phrases are matched against.

    ``fold`` maps single Traditional characters to their Simplified form; it is applied
    after NFKC so both scripts of the same word become one string.
    """

    __slots__ = ("_fold", "_folded", "_one_by_one")

    def __init__(self, fold: Mapping[str, str]) -> None:
        table: dict[int, str] = dict(_LOOKALIKES)
        table.update({ord(k): v for k, v in fold.items()})
        table.update({ord(k): v for k, v in _CANTONESE_CHARS.items()})
        self._fold = table
        self._folded = frozenset(map(chr, table))
        # Characters can be replaced one after another only if no replacement holds one.
        self._one_by_one = self._folded.isdisjoint("".join(table.values()))

    def _fold_text(self, text: str, chars: set[str], folded: set[str]) -> tuple[str, set[str]]:
        """``text`` with the characters of the fold table replaced, and its characters
        (``chars`` before, of which ``folded`` are in the table)."""
        table = self._fold
        if self._one_by_one and len(folded) <= _FEW:
            # A few characters: a fast pass over the text for each, not a look-up per character.
            for char in folded:
                text = text.replace(char, table[ord(char)])
        else:
            text = text.translate(table)
        return text, (chars - folded).union(*(table[ord(char)] for char in folded))

    def normalise(self, text: str) -> str:
        """Return the canonical matching form of a whole message.

        Stretched letters ("kiiill") are kept, so that spans shown to a reviewer read as
        written; phrase patterns accept any run of a letter instead.
        """
        return self._normalise(text).strip()

    def normalise_fragment(self, text: str) -> str:
        """Normalise a piece of a lexicon phrase, keeping one leading/trailing space.

        Doubled letters are written once ("kill" becomes "kil"): the compiled pattern
        accepts one or more of each letter. Phrases are compiled piece by piece (literal
        text between groups and gaps), and whether a piece starts or ends with a space
        decides where words meet.
        """
        body = squeeze(self._normalise(text))
        if not body.strip():
            return " " if body else ""
        return body

    def _normalise(self, text: str) -> str:
        t = text if text.isascii() else _INVISIBLE.sub("", text)
        if not t.isascii():
            # NFKC would write these as ASCII; done first, most Chinese text is then
            # already in NFKC, which ``normalize`` checks quickly and returns as it is.
            t = unicodedata.normalize("NFKC", _FULL_WIDTH.sub(_ascii_of, t))
            decomposed = unicodedata.normalize("NFD", t)
            stripped = _COMBINING_MARKS.sub("", decomposed)
            if stripped != decomposed:
                # Combining marks ("k̶i̶l̶l̶", Zalgo text, accents) hide letters: drop them.
                t = unicodedata.normalize("NFC", stripped)
            if _ZHUYIN_RUN.search(t):
                t = _ZHUYIN_RUN.sub(_zhuyin, t)
            t = _CANTONESE_WORD.sub(_cantonese, t.casefold())
            chars = set(t)
            if folded := chars & self._folded:
                t, chars = self._fold_text(t, chars, folded)
        else:
            t = t.lower()
            chars = set(t)
        # Each rewrite runs only when a character it needs is there (long messages are
        # mostly plain words, and every pass over them costs).
        if not chars.isdisjoint(_APOSTROPHES):
            t = _THIRD_PERSON_CONTRACTION.sub(r"\1 \2", t)
            t = _APOSTROPHE_IN_WORD.sub("", t)
        if not chars.isdisjoint(_LEET_CHARS) and _LETTER_BY_DIGIT.search(t):
            t = _LEET_TOKEN.sub(_unleet, t)
        if "!" in chars:
            t = _BANG_IN_WORD.sub("i", t)
        t = _SPACED_LETTERS.sub(_join_letters, t)
        if not chars.isdisjoint(_JOINERS):
            t = _JOINER_IN_WORD.sub("", t)
        for word in sorted(_TEXT_SPEAK.keys() & set(_WORD.findall(t))):
            t = _SPELLED_WORD[word].sub(_TEXT_SPEAK[word], t)
        if "2" in chars:
            t = _TWO_AS_TO.sub(r"\1 to ", t)
        if not t.isascii():
            t = _BETWEEN_CJK.sub(_between_cjk, t)
            t = _SPACE_AT_SCRIPT_CHANGE.sub("", t)
        return _WHITESPACE.sub(" ", t)


def squeeze(normalised: str) -> str:
    """Write every run of one Latin letter once ("kiiilll" -> "kil").

    Used for the anchor lookup: a phrase's anchors are squeezed literals, so they occur
    in the squeezed text whenever the phrase's pattern matches the unsqueezed one.
    """
    return _REPEATED_LETTER.sub(_FIRST_GROUP, normalised)


def censored_variants(normalised: str) -> tuple[str, tuple[str, ...]]:
    """Expand letters hidden behind asterisks ("k*ll", "su*cide") into candidate texts.

    Returns the text with each hidden run shortened to one asterisk, and one variant per
    vowel with that asterisk replaced; all have the same length, so a span found in a
    variant can be shown from the first text as the person wrote it. Both are empty
    when no asterisk stands inside a word. A long text is cut down to the clauses that
    hold an asterisk first, so the five extra passes stay short.
    """
    if "*" not in normalised or not _CENSORED_LETTER.search(normalised):
        return "", ()
    shown = _CENSORED_LETTER.sub("*", normalised)
    if len(shown) > _LONG:
        shown = _around_asterisks(shown)
    return shown, tuple(_CENSORED_LETTER.sub(vowel, shown) for vowel in "aeiou")


def _around_asterisks(shown: str) -> str:
    """The words around each hidden letter, at most _LONG characters in all."""
    windows: list[list[int]] = []
    for match in re.finditer(r"\*", shown):
        start, end = max(0, match.start() - _AROUND), match.end() + _AROUND
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return " . ".join(shown[start:end] for start, end in windows)[:_LONG]


def _ascii_of(match: re.Match[str]) -> str:
    return _FULL_WIDTH_ASCII[match.group()]


def _cantonese(match: re.Match[str]) -> str:
    return _CANTONESE_WORDS[match.group()]


def _zhuyin(run: re.Match[str]) -> str:
    letters = run.group()
    if _SPELT_OUT.search(letters):
        return letters
    following = run.string[run.end() : run.end() + 1]
    before_a_word = bool(following) and _CJK_RUN.match(following) is not None

    def word(match: re.Match[str]) -> str:
        written = match.group()
        if written in _ZHUYIN_BEFORE_A_WORD and (match.end() < len(letters) or before_a_word):
            return _ZHUYIN_BEFORE_A_WORD[written]
        return _ZHUYIN_WORDS[written]

    return _ZHUYIN_WORD.sub(word, letters)


def _unleet(match: re.Match[str]) -> str:
    token = match.group()
    # "4ever", "b4", "no1": chat spellings, written out later, not leetspeak.
    return token if token in _TEXT_SPEAK else token.translate(_LEET)


def _between_cjk(match: re.Match[str]) -> str:
    """Separators between Chinese characters split a word ("想 死", "自-杀", "我想 死了")
    and go; but Chinese chat uses a space as a comma ("我很累 不想活了 再见"), so a space
    between words of two characters or more, one of them longer, stays: a phrase reads it
    as the end of a clause."""
    if not _SPACE.search(match.group()):
        return ""
    start, end = match.span()
    text = match.string
    before = _chinese_run(text[max(start - 3, 0) : start][::-1])
    after = _chinese_run(text[end : end + 3])
    return " " if min(before, after) >= 2 and max(before, after) >= 3 else ""


def _chinese_run(chars: str) -> int:
    """How many Chinese characters ``chars`` starts with."""
    found = _CJK_RUN.match(chars)
    return len(found.group()) if found else 0


def _join_letters(match: re.Match[str]) -> str:
    letters = _SEPARATOR_RUN.sub("", match.group())
    if letters[0] in _STANDALONE_FIRST and len(letters) >= 4:
        return letters[0] + " " + letters[1:]
    return letters
