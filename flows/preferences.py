"""/language and /settings: changing the answers given at onboarding."""

from __future__ import annotations

from typing import Any, ClassVar

from flows import questions
from flows.effects import Choice, RefreshCommands, Say, UpdatePerson
from flows.engine import chose, move
from flows.profile import ProfileQuestions
from flows.roles import Role
from flows.schedule import LESSON_DAYS, lesson_weekdays
from flows.text import LANGUAGE_NAMES, N_, Lines, Localised, Msg, Param, Raw, msg


class LanguageFlow(ProfileQuestions):
    name = "language"
    initial = "language"
    states: ClassVar[list[str]] = ["language", "done"]
    final = frozenset({"done"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("language", "done", "is_valid"),
    ]

    def on_enter_language(self) -> None:
        self.ask_language(N_("language.ask"))

    def on_enter_done(self) -> None:
        self.store_locale()
        self.emit(RefreshCommands(), Say(Msg(N_("language.changed")), menu=True))


SETTING_ITEMS = {
    "lesson_days": N_("settings.item.lesson_days"),
    "lesson_time": N_("settings.item.lesson_time"),
    "timezone": N_("settings.item.timezone"),
    "checkin_time": N_("settings.item.checkin_time"),
    "region": N_("settings.item.region"),
    "language": N_("settings.item.language"),
}


def _items_for(role: Role) -> tuple[str, ...]:
    if role is Role.CLIENT:
        return ("checkin_time", "timezone", "region", "language")
    if role is Role.FAMILY:
        return ("lesson_days", "lesson_time", "timezone", "region", "language")
    return ("timezone", "language")


LESSON_DAY_CHOICES = {
    "1,4": N_("settings.lesson_days.tue_fri"),
    "0,3": N_("settings.lesson_days.mon_thu"),
    "2,5": N_("settings.lesson_days.wed_sat"),
    "0,2,4": N_("settings.lesson_days.mon_wed_fri"),
    "6": N_("settings.lesson_days.sun"),
}

# Weekday names, for days a program set that are not among the choices above.
WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "zh_Hans": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "zh_Hant": ("週一", "週二", "週三", "週四", "週五", "週六", "週日"),
}


def lesson_days_label(days: str) -> Msg | Localised:
    """The lesson days in words: a choice's own words, else the weekdays one by one."""
    known = LESSON_DAY_CHOICES.get(days)
    if known is not None:
        return Msg(known)
    return Localised.of(
        {
            locale: ("、" if locale != "en" else ", ").join(names[n] for n in lesson_weekdays(days))
            for locale, names in WEEKDAYS.items()
        }
    )


class SettingsFlow(ProfileQuestions):
    name = "settings"
    initial = "menu"
    states: ClassVar[list[str]] = ["menu", *SETTING_ITEMS, "done"]
    final = frozenset({"done"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        *(move("menu", item, "is_valid", f"chose_{item}") for item in SETTING_ITEMS),
        move("menu", "done", "closes"),
        move("lesson_days", "done", "is_valid", before="save_lesson_days"),
        move("lesson_time", "done", "is_valid", "time_allowed", before="save_lesson_time"),
        move("timezone", "done", "is_valid", before="save_zone"),
        move("checkin_time", "done", "is_valid", "time_allowed", before="save_checkin_time"),
        move("region", "done", "is_valid", before="save_region"),
        move("language", "done", "is_valid", before="save_language"),
    ]

    saved: Msg | None = None  # what was changed, said once the flow reaches "done"

    def on_enter_menu(self) -> None:
        person = self.person
        current: dict[str, Param] = {
            "timezone": questions.zone_label(person.timezone),
            "checkin_time": person.checkin_time or Raw("—"),
            "region": Msg(
                questions.REGIONS.get(person.region or "", questions.REGIONS[questions.ELSEWHERE])
            ),
            "language": Raw(LANGUAGE_NAMES.get(person.locale, person.locale)),
            "lesson_days": lesson_days_label(person.lesson_days or LESSON_DAYS),
            "lesson_time": person.checkin_time or Raw("—"),
        }
        items = _items_for(person.role)
        lines = tuple(
            msg(N_("settings.current_line"), item=Msg(SETTING_ITEMS[item]), value=current[item])
            for item in items
        )
        self.ask(
            Lines((Msg(N_("settings.menu")), *lines)),
            (
                *tuple(Choice(Msg(SETTING_ITEMS[item]), f"set:{item}") for item in items),
                Choice(Msg(N_("settings.close")), "set:close"),
            ),
            columns=2,
        )

    def parse_menu(self) -> str | None:
        return questions.parse_choice(self.event, "set:", {"close", *_items_for(self.person.role)})

    closes = chose("close")
    chose_timezone = chose("timezone")
    chose_checkin_time = chose("checkin_time")
    chose_region = chose("region")
    chose_language = chose("language")
    chose_lesson_days = chose("lesson_days")
    chose_lesson_time = chose("lesson_time")

    def on_enter_lesson_days(self) -> None:
        self._show_item()
        self.ask(
            Msg(N_("settings.lesson_days.ask")),
            tuple(Choice(Msg(label), f"days:{days}") for days, label in LESSON_DAY_CHOICES.items()),
        )

    def parse_lesson_days(self) -> str | None:
        return questions.parse_choice(self.event, "days:", LESSON_DAY_CHOICES)

    def save_lesson_days(self) -> None:
        label = Msg(LESSON_DAY_CHOICES[self.value])
        self.show_choice(label)
        self.emit(UpdatePerson(lesson_days=self.value))
        self.saved = msg(N_("settings.saved.lesson_days"), days=label)

    def on_enter_lesson_time(self) -> None:
        self._show_item()
        self.ask_time(N_("settings.lesson_time.ask"))

    def reask_lesson_time(self) -> None:
        self.reask_checkin_time()

    def save_lesson_time(self) -> None:
        self.store_time()
        self.saved = msg(N_("settings.saved.lesson_time"), time=self.value)

    def _show_item(self) -> None:
        if self.value in SETTING_ITEMS:
            self.show_choice(Msg(SETTING_ITEMS[self.value]))

    def on_enter_timezone(self) -> None:
        self._show_item()
        self.ask(
            Msg(N_("settings.timezone.ask")),
            questions.zone_choices(self.person.region, self.person.locale),
        )

    def save_zone(self) -> None:
        self.store_zone()
        self.saved = msg(N_("settings.saved.timezone"), zone=questions.zone_label(self.value))

    def on_enter_checkin_time(self) -> None:
        self._show_item()
        self.ask_time(N_("settings.checkin_time.ask"))

    def save_checkin_time(self) -> None:
        self.store_time()
        self.saved = msg(N_("settings.saved.checkin_time"), time=self.value)

    def on_enter_region(self) -> None:
        self._show_item()
        self.ask_region()

    def save_region(self) -> None:
        self.store_region()
        self.saved = msg(N_("settings.saved.region"), region=Msg(questions.REGIONS[self.value]))

    def on_enter_language(self) -> None:
        self._show_item()
        self.ask_language(N_("language.ask"))

    def save_language(self) -> None:
        self.store_locale()
        self.emit(RefreshCommands())
        self.saved = Msg(N_("language.changed"))

    def on_enter_done(self) -> None:
        if self.saved is not None:
            self.emit(Say(self.saved, menu=True))
        else:
            self.show_choice(Msg(N_("settings.close")))
