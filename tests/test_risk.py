"""Crisis-language risk assessment (flows.risk) and the ``risk-check`` command.

The corpus tests measure the lexicon against labelled chat messages in each locale;
the focused tests pin down behaviour a person would notice: idioms left alone, evasions
caught, denial and past read as concern, a program's own lexicon file honoured.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety.risk_check import EXIT_LEXICON_ERROR, EXIT_OK, EXIT_USAGE, run
from flows.risk import (
    CATEGORIES,
    Assessment,
    Level,
    LexiconError,
    assess,
    default_lexicon,
    load_lexicon,
)
from flows.risk.lexicon import FOLD_PATH
from flows.risk.phrases import sample

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "risk_corpus"
LOCALES = ["en", "zh_Hans", "zh_Hant"]
LABELS = [Level.CRISIS, Level.CONCERN, Level.NONE]


def read_corpus(locale: str) -> list[tuple[Level, str]]:
    """(label, text) rows of one locale's corpus file; '#' lines are comments."""
    path = CORPUS / f"{locale}.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "label\ttext", f"{path}: the first line must be the header"
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        assert sep and text.strip(), f"{path}:{number}: expected label<TAB>text"
        assert label in {lvl.value for lvl in Level}, f"{path}:{number}: bad label {label!r}"
        rows.append((Level(label), text))
    return rows


def confusion(rows: list[tuple[Level, str]]) -> tuple[Counter[tuple[Level, Level]], list[str]]:
    matrix: Counter[tuple[Level, Level]] = Counter()
    misses = []
    for gold, text in rows:
        found = assess(text)
        matrix[(gold, found.level)] += 1
        if found.level is not gold:
            misses.append(f"  gold={gold.value:8} got={found.level.value:8} {text!r}")
    return matrix, misses


def render(locale: str, matrix: Counter[tuple[Level, Level]]) -> str:
    header = f"{locale}: gold \\ assessed" + "".join(f"{lvl.value:>9}" for lvl in LABELS)
    lines = [header]
    for gold in LABELS:
        cells = "".join(f"{matrix[(gold, got)]:>9}" for got in LABELS)
        lines.append(f"{gold.value:>{len(header) - 27}}" + cells)
    return "\n".join(lines)


# --- the labelled corpus ---------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_corpus_is_big_and_varied_enough(locale: str) -> None:
    counts = Counter(label for label, _ in read_corpus(locale))
    assert sum(counts.values()) >= 150
    assert counts[Level.CRISIS] >= 60
    assert counts[Level.CONCERN] >= 30
    assert counts[Level.NONE] >= 70


@pytest.mark.parametrize("locale", LOCALES)
def test_corpus_crisis_recall_and_false_alarms(locale: str) -> None:
    matrix, misses = confusion(read_corpus(locale))
    table = render(locale, matrix)
    print("\n" + table)
    crisis_total = sum(matrix[(Level.CRISIS, got)] for got in LABELS)
    none_total = sum(matrix[(Level.NONE, got)] for got in LABELS)
    recall = matrix[(Level.CRISIS, Level.CRISIS)] / crisis_total
    flagged = (none_total - matrix[(Level.NONE, Level.NONE)]) / none_total
    report = f"\n{table}\ncrisis recall {recall:.3f}, none flagged {flagged:.3f}\n" + "\n".join(
        misses
    )
    assert recall >= 0.98, report
    assert flagged <= 0.03, report


def test_traditional_writing_of_the_simplified_corpus_gets_the_same_levels() -> None:
    """The fold is applied on every path (phrases, cues, idioms), not only to phrases.

    The Traditional rendering comes from the shipped fold table, so this checks that the
    table is used consistently; the zh_Hant corpus, written directly in Traditional
    Chinese, is the independent check of the table's coverage.
    """
    to_traditional = _traditional_rendering()
    different = []
    for gold, text in read_corpus("zh_Hans"):
        traditional = text.translate(to_traditional)
        if assess(traditional).level is not assess(text).level:
            different.append((gold.value, text, traditional))
    assert not different


# --- idioms and hyperbole ---------------------------------------------------------------

HYPERBOLE = [
    "this homework is killing me",
    "I'm dead tired",
    "I'd kill for a coffee",
    "my feet are killing me",
    "dying to see you",
    "lol I'm dead",
    "killed it at work",
    "I want to die my hair purple",
    "i could die of embarrassment",
    "笑死我了",
    "累死了",
    "热死了",
    "饿死了",
    "想死你了",
    "吓死我了",
    "气死我了",
    "忙死了",
    "烦死了",
    "困死了",
    "帅死了",
    "死机了",
    "要死了啦哈哈",
    "累死了",
    "熱死了",
    "想死你了",
    "笑死我了",
    "嚇死我了",
    "氣死我了",
    "煩死了",
    "睏死了",
    "帥死了",
    "電腦死機了",
    "跳樓大拍賣",
    "氣到想殺人",
]

ORDINARY_TALK = [
    "I took my meds",
    "took all my meds today",
    "the voices were quiet today",
    "I'm tired",
    "my mum is dying of cancer and I'm sad",
    "the nurse said an overdose of lithium is dangerous, we keep it locked",
    "we learned about suicide prevention in the family group",
    "我把今天的药都吃了",
    "家属课讲了预防自杀",
]


def test_hyperbole_next_to_real_risk_does_not_hide_it() -> None:
    assert assess("笑死我了，但我真的想死").level is Level.CRISIS
    assert assess("想死你了" * 5 + "我想死").level is Level.CRISIS
    assert assess("烦死了").level is Level.NONE
    assert assess("烦得想死").level is Level.CRISIS


# --- evasion ------------------------------------------------------------------------------

EVASIONS = [
    "i want to k\u200bill myself",
    "k\u200cill my\u200dself",
    "kill\u00admyself",
    "\ufeffkill myself",
    "ｋｉｌｌ ｍｙｓｅｌｆ",
    "KILL MYSELF",
    "kiiiill myseeeelf",
    "i want to dieeeee",
    "k i l l myself",
    "k-i-l-l myself",
    "s.u.i.c.i.d.e is all i think about",
    "I w a n t to die",
    "k1ll myself",
    "su1c1de is on my mind",
    "i want to k*ll myself",
    "k\u0336i\u0336l\u0336l\u0336 myself",
    "k\u0456ll myself",  # Cyrillic і
    "kms",
    "ＫＭＳ",
    "i want to unalive myself",
    "sewerslide",
    "wanna die",
    "i have suicde thoughts",
    "想 死",
    "想\u200b死",
    "想．死",
    "自-杀",
    "自 殺",
    "我想自殺",
    "我想自杀",
    "不想活了",
    "活著好累不如死了",
    "好想kms",
    "我真的想die了",
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["i want to kill myself", "我不想活了", "想自殺", "i want to die"]),
    st.lists(st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])),
    st.randoms(use_true_random=False),
)
def test_invisible_characters_anywhere_do_not_hide_crisis(
    text: str, invisibles: list[str], rnd: random.Random
) -> None:
    chars = list(text)
    for invisible in invisibles:
        chars.insert(rnd.randrange(len(chars) + 1), invisible)
    assert assess("".join(chars)).level is Level.CRISIS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_well_formed_assessment(text: str) -> None:
    found = assess(text)
    assert found.level in Level
    assert list(found.categories) == sorted(set(found.categories))
    assert set(found.categories) <= CATEGORIES
    # A flag is explained by the phrases that matched or by the model's layer.
    assert (found.level is Level.NONE) == (not found.matched and "model" not in found.layers)
    assert found.layers in ((), ("lexicon",), ("model",))


# --- negation and reported past -------------------------------------------------------------


DENIED_OR_PAST = [
    "I don't want to die",
    "I'm not going to kill myself",
    "i would never hurt myself",
    "no suicidal thoughts today",
    "I haven't had thoughts of suicide since I started clozapine",
    "I used to want to kill myself, not now",
    "I tried to kill myself when I was 19, I'm better now",
    "my son attempted suicide in 2019",
    "以前想过自杀，现在不会了",
    "我不想死",
    "我不会自杀的",
    "我没有自杀的念头",
    "以前想過自殺，現在不會了",
    "我高中的时候自残过",
    # the compositional entries and chat spellings read negation and past the same way
    "I'm not going to swallow the lot tonight, don't worry",
    "我不会把药全吞了的，放心",
    "i dont wanna die",
    "以前想过一了百了，现在不会了",
    # ... but a negation right before its hit is one, space or not
    "我没有 想死",
]

# Crisis with a negation or a past somewhere else in the message.
CRISIS_BESIDE_NEGATION_OR_PAST = [
    "i can't sleep and i want to die",
    "im not ok i want to die",
    "i used to be happy but now i want to die",
    "I tried to kill myself last night",
    "i overdosed an hour ago",
    "以前很开心，现在只想死",
    "以前想过自杀，现在又想了",
    "我受不了了想死",
    # Chinese chat's space is a comma: the past cue before it is another thought
    "冇諗過會咁辛苦 我想死",
    "没想到会这么难 我真的想死",
]

HOPELESS_WITHOUT_A_DEATH_WISH = [
    "i feel hopeless",
    "there's no point in anything anymore",
    "I'm such a burden to my family",
    "活着没意思",
    "活著沒意思",
    "我想消失一段时间",
]

# Each kind of message above and the level it must get.
LEVELS = [
    ("hyperbole", HYPERBOLE, Level.NONE),
    ("ordinary talk", ORDINARY_TALK, Level.NONE),
    ("evasion", EVASIONS, Level.CRISIS),
    ("denied or past", DENIED_OR_PAST, Level.CONCERN),
    ("crisis beside negation or past", CRISIS_BESIDE_NEGATION_OR_PAST, Level.CRISIS),
    ("hopeless without a death wish", HOPELESS_WITHOUT_A_DEATH_WISH, Level.CONCERN),
]


@pytest.mark.parametrize(
    ("text", "level"),
    [
        pytest.param(text, level, id=f"{kind}: {text}")
        for kind, texts, level in LEVELS
        for text in texts
    ],
)
def test_each_kind_of_message_gets_its_level(text: str, level: Level) -> None:
    assert assess(text).level is level


def test_passive_death_wish_is_crisis() -> None:
    assert assess("I wish I could disappear and not wake up").level is Level.CRISIS
    assert assess("wish i could go to sleep and never wake up").level is Level.CRISIS
    assert assess("睡着了就别让我醒过来了").level is Level.CRISIS


# --- categories and matched phrases ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "categories", "matched"),
    [
        ("my son said he wants to die", ("suicidal", "third_party"), "wants to die"),
        ("我妈说她不想活了", ("suicidal", "third_party"), "不想活"),
        ("im going to take all my pills tonight", ("overdose",), "take all my pills"),
        ("i've been saving up my pills for weeks", ("plan_or_means",), "saving up my pills"),
        ("我买了炭，准备烧炭", ("plan_or_means",), "烧炭"),
        ("been self harming again", ("self_harm",), "self harming"),
        ("我想杀了他", ("harm_to_others",), "想杀了他"),
        ("有个声音一直叫我去死", ("command_voices", "suicidal"), "我去死"),
    ],
)
def test_categories_and_matched_phrases_are_reported(
    text: str, categories: tuple[str, ...], matched: str
) -> None:
    found = assess(text)
    assert found.level is Level.CRISIS
    assert found.categories == categories
    assert matched in found.matched


def test_voices_commanding_harm_to_others() -> None:
    found = assess("the voices keep telling me to hurt my mother")
    assert found.level is Level.CRISIS
    assert {"command_voices", "harm_to_others"} <= set(found.categories)


def test_someone_elses_words_are_not_third_party_when_the_writer_is_the_subject() -> None:
    assert assess("she left me and i want to die").categories == ("suicidal",)
    assert assess("他们都说我是累赘，我真的想去死").categories == ("suicidal",)


def test_matched_spans_read_as_the_person_wrote_them() -> None:
    assert assess("kiiiill myseeeelf").matched == ("kiiiill myseeeelf",)
    assert assess("i want to k*ll myself").matched == ("want to k*ll myself", "k*ll myself")


def test_to_json_dict_shape() -> None:
    found = assess("my son said he wants to die")
    as_json = found.to_json_dict()
    assert as_json == {
        "level": "crisis",
        "categories": ["suicidal", "third_party"],
        "matched": ["wants to die"],
        "layers": ["lexicon"],
    }
    assert json.loads(json.dumps(as_json, ensure_ascii=False)) == as_json
    assert assess("hello").to_json_dict() == {
        "level": "none",
        "categories": [],
        "matched": [],
        "layers": [],
    }


def test_assessment_is_immutable() -> None:
    found = assess("kms")
    with pytest.raises(AttributeError):
        found.level = Level.NONE  # type: ignore[misc]
    assert isinstance(found, Assessment)


# --- the lexicon file -------------------------------------------------------------------------


def _write(tmp_path: Path, data: object, name: str = "program.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


SLANG_ENTRY = {
    "id": "program.en.slang",
    "lang": "en",
    "category": "suicidal",
    "level": "crisis",
    "phrases": ["(going|gone) to the big (sleep|nap)"],
}


def test_program_file_extending_builtin_adds_a_phrase(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {"format": "tongban-risk-lexicon/1", "extends": "builtin", "entries": [SLANG_ENTRY]},
    )
    lexicon = load_lexicon(path)
    assert assess("im going to the big sleep tonight", model=False).level is Level.NONE
    found = assess("im going to the big sleep tonight", lexicon)
    assert found.level is Level.CRISIS
    assert found.matched == ("going to the big sleep",)
    assert assess("i want to die", lexicon).level is Level.CRISIS  # built-in still there
    assert assess("i'm not going to the big sleep", lexicon).level is Level.CONCERN


def test_program_file_can_disable_and_replace_builtin_entries(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "format": "tongban-risk-lexicon/1",
            "extends": "builtin",
            "disable": ["en.suicidal.topic"],
            "entries": [
                {
                    "id": "zh.suicidal.hopeless",
                    "lang": "zh",
                    "category": "suicidal",
                    "level": "crisis",
                    "phrases": ["活着没意思"],
                }
            ],
        },
    )
    lexicon = load_lexicon(path)
    assert assess("what's the suicide hotline number", lexicon, model=False).level is Level.NONE
    assert assess("活着没意思", lexicon).level is Level.CRISIS
    assert assess("我是家里的累赘", lexicon, model=False).level is Level.NONE


def test_program_file_without_extends_replaces_builtin(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "format": "tongban-risk-lexicon/1",
            "languages": {"en": {}},
            "entries": [SLANG_ENTRY],
        },
    )
    lexicon = load_lexicon(path)
    assert assess("going to the big nap", lexicon).level is Level.CRISIS
    assert assess("i want to die", lexicon, model=False).level is Level.NONE
    # The shipped model still screens beside a program's own phrases.
    assert assess("i want to die", lexicon).layers == ("model",)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON (line 1"),
        ('{"format": "tongban-risk-lexicon/1", "entrys": []}', "unknown key(s) ['entrys']"),
        ('{"format": "v0"}', "'format' must be 'tongban-risk-lexicon/1'"),
    ],
)
def test_malformed_file_raises_lexicon_error_naming_the_file(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError) as error:
        load_lexicon(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"category": "suicide"}, "unknown category 'suicide'"),
        ({"level": "urgent"}, 'level must be "crisis" or "concern"'),
        ({"phrases": []}, "'phrases' must be a non-empty list"),
        ({"phrases": ["(want|need to die"]}, "is not closed"),
        ({"phrases": ["want to die?"]}, "is not phrase syntax"),
        ({"phrases": ["{nope} die"]}, "unknown set {nope}"),
        ({"lang": "fr"}, "language 'fr' has no 'languages' section"),
        ({"colour": "red"}, "unknown key(s) ['colour']"),
    ],
)
def test_bad_entry_error_names_file_and_entry(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    entry = {**SLANG_ENTRY, **change}
    path = _write(
        tmp_path,
        {"format": "tongban-risk-lexicon/1", "extends": "builtin", "entries": [entry]},
    )
    with pytest.raises(LexiconError) as error:
        load_lexicon(path)
    message = str(error.value)
    assert str(path) in message
    assert "entries[0] (id 'program.en.slang')" in message
    assert expected in message


def test_duplicate_ids_and_unknown_disable_are_reported(tmp_path: Path) -> None:
    twice = _write(
        tmp_path,
        {
            "format": "tongban-risk-lexicon/1",
            "languages": {"en": {}},
            "entries": [SLANG_ENTRY, SLANG_ENTRY],
        },
    )
    with pytest.raises(LexiconError, match=r"entries\[1\].*duplicate id"):
        load_lexicon(twice)
    disable = _write(
        tmp_path,
        {"format": "tongban-risk-lexicon/1", "extends": "builtin", "disable": ["no.such"]},
        "disable.json",
    )
    with pytest.raises(LexiconError, match=r"'no\.such', which is not a built-in entry"):
        load_lexicon(disable)


def test_missing_file_is_a_lexicon_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="file not found"):
        load_lexicon(tmp_path / "absent.json")
    assert issubclass(LexiconError, ValueError)


def test_default_lexicon_is_loaded_once() -> None:
    assert default_lexicon() is default_lexicon()


def test_every_builtin_phrase_matches_its_own_sample_in_both_scripts() -> None:
    """No phrase is unreachable (a typo in a group, a mark in the wrong place), and each
    Chinese phrase written in Traditional characters folds back onto it."""
    lexicon = default_lexicon()
    to_traditional = _traditional_rendering()
    unreachable = []
    for entry in lexicon.entries:
        for phrase in entry.phrases:
            text = sample(phrase.source, lexicon.normaliser)
            for written in {text, text.translate(to_traditional)}:
                if not phrase.pattern.search(lexicon.normaliser.normalise(written)):
                    unreachable.append((entry.id, phrase.source, written))
    assert not unreachable


def _traditional_rendering() -> dict[int, str]:
    """Simplified -> one Traditional form, from the fold table the lexicon ships."""
    fold = json.loads(FOLD_PATH.read_text(encoding="utf-8"))["map"]
    inverse: dict[int, str] = {}
    for traditional, simplified in sorted(fold.items()):
        inverse.setdefault(ord(simplified), traditional)
    return inverse


# --- tongban risk-check -----------------------------------------------------------------------


def _run(argv: list[str], stdin: str = "", lexicon_path: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    status = run(argv, io.StringIO(stdin), out, lexicon_path)
    return status, out.getvalue()


def test_risk_check_reads_one_message_per_line() -> None:
    status, out = _run([], stdin="i want to die\n笑死我了\n\n我妈说不想活了\n")
    assert status == EXIT_OK
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["level"] for line in lines] == ["crisis", "none", "none", "crisis"]
    assert lines[3] == {
        "level": "crisis",
        "categories": ["suicidal", "third_party"],
        "matched": ["不想活"],
        "layers": ["lexicon"],
    }
    assert "不想活" in out  # not escaped as \\u


def test_risk_check_text_options_are_repeatable_and_skip_stdin() -> None:
    status, out = _run(["--text", "kms", "--text", "I'm not going to kill myself"], stdin="x\n")
    assert status == EXIT_OK
    assert [json.loads(line)["level"] for line in out.splitlines()] == ["crisis", "concern"]


def test_risk_check_uses_configured_lexicon_and_lexicon_option_wins(tmp_path: Path) -> None:
    configured = _write(
        tmp_path,
        {"format": "tongban-risk-lexicon/1", "extends": "builtin", "entries": [SLANG_ENTRY]},
    )
    message = ["--text", "gone to the big nap"]
    assert json.loads(_run(message, lexicon_path=str(configured))[1])["level"] == "crisis"
    builtin_copy = tmp_path / "builtin.json"
    builtin_copy.write_text(
        (ROOT / "flows" / "risk" / "lexicon.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    status, out = _run([*message, "--lexicon", str(builtin_copy)], lexicon_path=str(configured))
    assert status == EXIT_OK
    assert json.loads(out)["level"] == "none"


def test_risk_check_reports_a_bad_lexicon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    status, out = _run(["--text", "hi", "--lexicon", str(bad)])
    assert status == EXIT_LEXICON_ERROR
    assert out == ""
    assert str(bad) in capsys.readouterr().err


def test_risk_check_help_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _run(["--help"])
    assert status == EXIT_OK
    assert "usage: tongban risk-check" in out
    assert "--lexicon PATH" in out
    status, out = _run(["--no-such-option"])
    assert status == EXIT_USAGE
    assert "unrecognized arguments" in capsys.readouterr().err


def test_benchmark_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "risk_bench.py"), "--runs", "1", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "messages/s" in done.stdout
    assert "median" in done.stdout
    assert "in context" in done.stdout, "the cost of reading recent messages together"


# --- issue 16: categories the first lexicon missed, found by the phrases alone -------------


@pytest.mark.parametrize(
    "text",
    [
        # means + plan + time
        "I've been collecting my tablets and tonight I'll swallow the lot",
        "been stockpiling my meds, gonna take them all tonight",
        "今晚等他们睡着了就把药全吞了",
        # preparation
        "giving my guitar away since I won't need it anymore",
        "spent the night researching a lethal dose",
        "攒了一瓶安眠药",
        "把存款都转给妈妈了，以后就拜托你照顾她了",
        "反正以后也用不上了，东西都送人了",
        # a wish to die in other words
        "can't think of one reason to stay alive",
        "活着太累了只想解脱",
        "找不到活下去的理由",
        # text-speak, misspelling, Cantonese, mixed
        "wanna die",
        "gonna kill myslef",
        "kms",
        "i want 2 die tonite",
        "唔想再活",
        "想死咗算",
        "really want to 自杀",
        # self-harm stated plainly and recently
        "前天又故意弄伤自己",
        "burned my arm on purpose last night",
        # a relative reporting danger now
        "我女儿说今晚就去死",
        "my son is on the roof and won't come down",
        # burden tied to being gone
        "my family would be better off if I was gone",
        "我死了家里就轻松了",
        "冇咗我屋企人會好過啲",
    ],
)
def test_crisis_categories_found_by_the_phrases_alone(text: str) -> None:
    assert assess(text, model=False).level is Level.CRISIS


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("wanna die", "want to die"),
        ("gonna kill myslef", "going to kill myself"),
        ("kms rn", "kill myself right now"),
        ("want 2 die", "want to die"),
        ("im dyin", "im dying"),
        ("took 2 pills", "took 2 pills"),  # a number stays a number
        ("唔想瞓", "不想睡"),
        ("死咗算", "死了算"),
        ("冇咗我", "没了我"),
        ("唔好醒", "不要醒"),
    ],
)
def test_chat_spellings_and_cantonese_are_normalised(written: str, normalised: str) -> None:
    assert default_lexicon().normaliser.normalise(written) == normalised


def test_a_long_message_is_bounded_and_still_finds_crisis_anywhere() -> None:
    filler = "went to the shops then cooked dinner and watched tv. " * 40
    for place in (0, len(filler) // 2, len(filler)):
        text = filler[:place] + " i want to die " + filler[place:]
        assert len(text) > 2000
        assert assess(text).level is Level.CRISIS, place
    assert assess(filler).level is Level.NONE


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_the_models_ngrams_are_every_distinct_substring_of_its_lengths(text: str) -> None:
    from flows.risk.model import default_model

    model = default_model()
    assert model is not None
    padded = f" {text} "
    expected = {
        padded[i : i + n]
        for n in range(model.smallest, model.largest + 1)
        for i in range(len(padded) - n + 1)
    }
    assert model.grams(text) == expected


def _long_texts() -> list[str]:
    """Long messages cut in every way the matcher meets: sentences, one long sentence of
    many clauses (read in windows), one clause of 1,500 characters, repeated clauses."""
    rng = random.Random(7)
    rows = [
        line.split("\t")[-1]
        for path in sorted(CORPUS.rglob("*.tsv"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith(("#", "label\t"))
    ]

    def joined(separator: str) -> str:
        return separator.join(rng.sample(rows, 60))[:1500]

    return [
        # A phrase that crosses a comma, its anchor in a clause that two windows share.
        ("went to the shops, " * 13)[:235] + ",我想消失,永远" + ", cooked dinner" * 20,
        joined(". "),
        joined("，"),
        joined(" "),
        joined("\n"),
        "i'm not going to kill myself, 我不会自杀的, " * 30,
        "s*icide k*ll myself, " + joined(" k*ll "),
    ]


def test_phrase_sets_find_exactly_what_each_phrase_finds_in_each_piece() -> None:
    """The matcher runs a phrase only on the clauses that hold its anchor and other words,
    and caches by wording; that must give, for every phrase, idiom and exception, the
    matches of running its pattern over the whole piece (this fails if an anchor or a
    required word is wrong, or a phrase can cross a clause break unnoticed)."""
    from flows.risk.assessment import _pieces
    from flows.risk.matching import Text
    from flows.risk.normalise import censored_variants

    lexicon = default_lexicon()
    texts = [lexicon.normaliser.normalise(raw) for raw in _long_texts()]
    texts.extend(censored_variants(texts[-1])[1][:2])
    for text in texts:
        scan = Text(text, lexicon.vocabulary)
        for start, end in {(0, len(text)), *_pieces(text)}:
            for phrases in (lexicon.phrases, lexicon.idioms, lexicon.exceptions):
                found: dict[int, list[tuple[int, int]]] = {}
                for number, _, _, spans in scan.work(phrases, [(start, end)]):
                    found.setdefault(number, []).extend(spans)
                for number, phrase in enumerate(phrases.phrases):
                    expected = [m.span() for m in phrase.pattern.finditer(text, start, end)]
                    assert found.get(number, []) == expected, (phrase.source, text[start:end])
        # All the windows of a long text at once: a region is listed at its first window
        # only, so together they find what each window finds on its own.
        pieces = _pieces(text)
        for phrases in (lexicon.phrases, lexicon.idioms, lexicon.exceptions):
            listed = [
                (n, i, span) for n, i, _, spans in scan.work(phrases, pieces) for span in spans
            ]
            assert [(n, i) for n, i, _ in listed] == sorted((n, i) for n, i, _ in listed)
            assert {(n, span) for n, _, span in listed} == {
                (number, m.span())
                for number, phrase in enumerate(phrases.phrases)
                for start, end in pieces
                for m in phrase.pattern.finditer(text, start, end)
            }


@pytest.mark.parametrize("place", range(225, 240))
def test_a_phrase_across_a_comma_is_found_where_a_window_cuts_it(place: int) -> None:
    """The anchor (消失) is in a clause that two overlapping windows share; the match runs
    past the end of the first window and is found in the second."""
    text = ("went to the shops, " * 13)[:place] + ",我想消失,永远" + ", cooked dinner" * 20
    result = assess(text, model=False)
    assert (result.level, result.matched) == (Level.CRISIS, ("消失,永远",))


# --- what a lexicon writer found: normalisation and phrase marks that did not work ----------


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("4ever", "forever"),
        ("b4 i go", "before i go"),
        ("every1 hates me", "everyone hates me"),
        ("no1 would care", "no one would care"),
        ("any1 there", "anyone there"),
        ("some1 help", "someone help"),
        ("k1ll mys3lf", "kill myself"),  # leetspeak the table does not know is still undone
    ],
)
def test_chat_spellings_holding_a_digit_are_written_out(written: str, normalised: str) -> None:
    assert default_lexicon().normaliser.normalise(written) == normalised


def test_a_chat_spelling_holding_a_digit_is_matched() -> None:
    assert assess("i just want to sleep 4ever", model=False).level is Level.CRISIS


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("真係好攰", "真是好累"),  # the Cantonese copula
        ("唔係", "不是"),
        ("冇關係", "没关系"),  # a word that holds 係 is not the copula
        ("我哋嘅關係", "我们的关系"),
        ("关係", "关系"),
        ("聯係", "联系"),
        ("維係", "维系"),
        ("相關係數", "相关系数"),
        ("佢係數學老師", "他是数学老师"),  # 係 then 數學 (mathematics)
    ],
)
def test_cantonese_copula_is_mapped_only_outside_words(written: str, normalised: str) -> None:
    assert default_lexicon().normaliser.normalise(written) == normalised


def test_a_traditional_phrase_holding_guan_xi_is_matched() -> None:
    assert assess("我不在了也沒關係", model=False).level is Level.CRISIS


@pytest.mark.parametrize(
    "text", ["我覺得是時候了 謝謝你們", "我觉得是时候了 谢谢你们这些年", "这辈子就到这里 谢谢大家"]
)
def test_a_space_between_chinese_clauses_ends_a_clause(text: str) -> None:
    assert assess(text, model=False).level is Level.CRISIS


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("我很累 不想活了 再见", "我很累 不想活了 再见"),  # spaces as commas stay
        ("想 死 了", "想死了"),  # characters spaced out are one word
        ("我想 死了", "我想死了"),  # two short words: a pause, not a comma
        ("好累 - 想死", "好累想死"),
    ],
)
def test_spaces_between_chinese_words(written: str, normalised: str) -> None:
    assert default_lexicon().normaliser.normalise(written) == normalised


def test_a_kept_space_neither_ends_a_denial_nor_shortens_a_character_gap() -> None:
    assert assess("我不会 自杀的", model=False).level is Level.CONCERN
    assert assess("药全倒在桌上了 准备全部吃掉", model=False).level is Level.CRISIS


def test_two_word_gaps_in_a_row_allow_eight_words() -> None:
    from flows.risk.phrases import compile_phrase

    pattern = compile_phrase("alpha * * omega", default_lexicon().normaliser).pattern
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    assert [bool(pattern.search(" ".join(["alpha", *words[:n], "omega"]))) for n in range(10)] == [
        *[True] * 9,
        False,
    ]
    eight = "my parents would be better off in every single way you could name if i was gone"
    assert assess(eight, model=False).level is Level.CRISIS


@pytest.mark.parametrize(
    "text",
    [
        "he just told me he'll jump off the roof tonight",
        "my son just told me he’ll jump off the roof tonight",
        "my daughter says she'll kill herself tonight",
        "my brother texted that he'd rather be dead and he'll do it tonight",
    ],
)
def test_a_relative_writing_hell_or_shell_is_reporting_someone_else(text: str) -> None:
    """ "he'll" is not "hell": the relative gets the relative's reply, about someone else."""
    found = assess(text)
    assert found.level is Level.CRISIS
    assert "third_party" in found.categories


# --- batches k and l: Malay, romanised Chinese, and the families their misses showed ------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # Malay (languages.ms): a wish to die, not wanting to live, suicide, self-harm, means
        ("aku rasa nak mati je", Level.CRISIS),
        ("tak nak hidup lagi, penat sangat", Level.CRISIS),
        ("hidup pun menyusahkan orang, baik aku mati", Level.CRISIS),
        ("I really tak larat dah, want to bunuh diri", Level.CRISIS),
        ("bunuh diri", Level.CRISIS),
        ("aku toreh tangan semalam", Level.CRISIS),
        ("aku cederakan diri lagi malam tadi", Level.CRISIS),
        ("dah telan semua pil tadi", Level.CRISIS),
        ("dah beli ubat tidur banyak2. malam ni", Level.CRISIS),
        ("suara tu suruh aku terjun", Level.CRISIS),
        ("aku tak akan bunuh diri, jangan risau", Level.CONCERN),  # denied
        ("dulu pernah cuba bunuh diri, sekarang ok sikit", Level.CONCERN),  # past
        ("hidup ni takde makna", Level.CONCERN),  # hopelessness
        ("panas nak mati hari ni", Level.NONE),  # "X nak mati": an idiom
        ("bateri phone aku dah nak mati", Level.NONE),
        # romanised Mandarin, Cantonese and Hokkien (languages.zh_latn)
        ("hao xiang si a, mei ren dong wo", Level.CRISIS),
        ("wo bu xiang zai huo xia qu le", Level.CRISIS),
        ("si le suan le", Level.CRISIS),
        ("an mian yao yi jing zan gou le", Level.CRISIS),
        ("chi le hen duo yao, hao kun", Level.CRISIS),
        ("ngo m seung sang cyun lok heoi", Level.CRISIS),
        ("sei jo syun lo", Level.CRISIS),
        ("ngo maai zo taan", Level.CRISIS),
        ("wa beh tahan liao, wa ai si", Level.CRISIS),
        ("wa siong beh tuè i khì", Level.CRISIS),
        ("wo bu hui zi sha, fang xin", Level.CONCERN),  # denied
        ("wa beh tahan liao", Level.NONE),  # "can't stand it" alone
        ("ni men liang ge hao xiang si", Level.NONE),  # 好相似: "so alike"
        ("ta shi ge ge shou", Level.NONE),  # 歌手, not 割手
        # English
        ("i feel like dying", Level.CRISIS),
        ("got retrenched, 52 years old who want to hire me. better die lah", Level.CRISIS),
        ("tested the knot. it holds", Level.CRISIS),
        ("walking to the train tracks now", Level.CRISIS),
        ("I'm down at the pier, thinking about walking in", Level.CRISIS),
        ("im already dead inside, might as well make it official", Level.CRISIS),
        ("the detention centre is killing me slowly, i'd rather do it myself", Level.CRISIS),
        ("I am a burden and the only fix is me being gone for good", Level.CRISIS),
        ("I am ready to go, I ask God every day to take me", Level.CRISIS),
        ("i feel like dying of embarrassment", Level.NONE),  # idiom
        ("we tied the knot in june", Level.NONE),
        ("i'd rather do it myself, thanks", Level.NONE),
        ("my brother ate my leftover biryani i could murder him", Level.NONE),
        ("bought a new razor, the cheap ones cut my legs to bits", Level.NONE),
        ("my nan used to say 'when i'm gone you'll miss my cooking'", Level.NONE),
        # Chinese
        ("我覺得我死了比較好", Level.CRISIS),
        ("孩子都不回來看我 想說死一死卡好", Level.CRISIS),
        ("我还是去死吧", Level.CRISIS),
        ("我唔想再呼吸", Level.CRISIS),
        ("好想有人嚟殺咗我", Level.CRISIS),
        ("又醒咗 好失望", Level.CRISIS),
        ("有没有不痛的死法", Level.CRISIS),
        ("有冇人知食咩藥落去唔痛", Level.CRISIS),
        ("我爸爸喺度問我借錢買炭 屋企又冇BBQ", Level.CRISIS),
        ("喝了一瓶敌敌畏 好难受", Level.CRISIS),
        ("出租屋里有煤气 我一直盯着那个开关看", Level.CRISIS),
        ("捷運進站的時候我往前了一步", Level.CRISIS),
        ("宿舍楼顶能上去 我踩过点了", Level.CRISIS),
        ("不劃一下今天睡不著", Level.CRISIS),
        ("三天沒吃東西了 我覺得我活該餓", Level.CRISIS),
        ("小时候被欺负的时候想过死", Level.CONCERN),  # past
        ("我冇諗過死 只係好攰", Level.CONCERN),  # denied
        ("買咗兩包炭 聽日去西貢BBQ", Level.NONE),
        ("新闻上说某地一个大学生跳楼了 看得我心里堵", Level.NONE),
        ("我不想活成我爸妈那个样子", Level.NONE),
        ("再见啦各位 这个小组我毕业了 以后常联系", Level.NONE),
        ("我今天写了遗嘱 at the lawyer, 老了嘛 sensible", Level.NONE),
    ],
)
def test_batch_k_and_l_families_by_the_phrases_alone(text: str, level: Level) -> None:
    assert assess(text, model=False).level is level


def test_malay_and_romanised_chinese_read_third_party_with_their_own_cues() -> None:
    found = assess("kawan aku cakap dia nak bunuh diri malam ni", model=False)
    assert found.level is Level.CRISIS
    assert "third_party" in found.categories
    assert "third_party" not in assess("aku rasa nak mati je", model=False).categories


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("ngo hai tin toi, hou dung", Level.CRISIS),  # 我喺天台, as 我在天台 is
        ("wo zai tian tai shai yi fu", Level.NONE),  # drying clothes, as 天台晒衣服 is
    ],
)
def test_a_rooftop_in_latin_letters_reads_as_in_chinese(text: str, level: Level) -> None:
    assert assess(text, model=False).level is level


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("我ㄅ想活ㄌ", "我不想活了"),  # ㄅ before a word is 不
        ("好ㄅ 明天見", "好吧 明天见"),  # at a sentence's end 吧
        ("我ㄅ會自ㄕㄉ", "我不会自杀的"),
        ("好想ㄗㄕ", "好想自杀"),
        ("ㄊ說ㄊ想ㄙ", "他说他想死"),
        ("ㄋ在嗎", "你在吗"),  # ㄋ before a word is 你
        ("真的假的ㄋ", "真的假的呢"),
        ("早安ㄚ", "早安啊"),
        ("ㄏㄏ 好喔", "ㄏㄏ 好喔"),  # laughing: no word is written with ㄏ
        ("ㄨㄛˇ ㄅㄨˋ ㄒㄧㄤˇ", "ㄨㄛˇ ㄅㄨˋ ㄒㄧㄤˇ"),  # syllables spelt out in full
        ("ㄌㄚ", "ㄌㄚ"),  # a syllable spelt out in full without a tone mark
    ],
)
def test_zhuyin_letters_standing_for_words_are_written_out(written: str, normalised: str) -> None:
    assert default_lexicon().normaliser.normalise(written) == normalised


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("我ㄅ想ㄙ", Level.CONCERN),  # denied: 我不想死
        ("我ㄅ會自ㄕㄉ 放心", Level.CONCERN),  # denied: 我不會自殺的
        ("好ㄅ 想ㄙ", Level.CRISIS),  # 吧 at a sentence's end is no denial
        ("ㄨ真ㄉ好想ㄙ", Level.CRISIS),
        ("累ㄙㄌ 明天再說", Level.NONE),  # 累死了
    ],
)
def test_zhuyin_chat_gets_the_level_of_the_words_it_stands_for(text: str, level: Level) -> None:
    assert assess(text, model=False).level is level
