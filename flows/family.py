"""Family members: consent-scoped links made by the client, the lesson course, raising a concern.

The client decides what a relative may see: lessons only (always), a weekly traffic-light
summary, and being told when the client has an escalation open. A relative never sees
check-in answers, messages, safety plans or notes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flows import questions
from flows.commands import parse_number
from flows.effects import (
    Choice,
    CourseFeedbackGiven,
    CreateFamilyInvite,
    Effect,
    LessonProgressed,
    Notice,
    RaiseConcern,
    RefreshChoices,
    RevokeFamilyLink,
    Say,
    ShowAnswer,
    ShowCrisisReply,
    UpdateFamilyLink,
)
from flows.engine import FlowModel, chose, move, pressed
from flows.escalation import Reason
from flows.facts import Fact, Need
from flows.lessons.course import FAMILY, Course, Lesson, lesson_text
from flows.lessons.training import TRAINING
from flows.roles import STAFF, Role
from flows.text import N_, Lines, Localised, Msg, Raw, msg

NEEDS = (
    Need(Fact.LINKS, commands={"family"}, flow="family"),
    Need(Fact.PROGRESS, commands={"lessons", "lesson"}),
    Need(Fact.TRAINING, commands={"training"}),
)

# The courses ``LessonFlow`` delivers, by the name its context keeps.
COURSES: dict[str, Course] = {course.name: course for course in (FAMILY, TRAINING)}

ON, OFF = N_("family.on"), N_("family.off")
LETTERS = ("A", "B", "C")


def scope_line(summary: bool, alerts: bool) -> Msg:
    """What a relative may see, in words: the weekly summary and alerts, each on or off."""
    return msg(
        N_("family.scope_line"),
        summary=Msg(ON if summary else OFF),
        alerts=Msg(ON if alerts else OFF),
    )


class FamilyLinks(FlowModel):
    """/family: invite a relative, change what each may see, or remove their access."""

    name = "family"
    initial = "menu"
    states: ClassVar[list[str]] = ["menu", "new", "link", "confirm_revoke", "done"]
    final = frozenset({"done"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("menu", "new", "is_valid", "chose_new", before="start_new"),
        move("menu", "link", "is_valid", "chose_link", before="remember_link"),
        move("menu", "done", "is_valid", "chose_close"),
        move("new", None, "is_valid", "is_toggle", after="toggle_new"),
        move("new", "done", "is_valid", "is_create", before="create"),
        move(["new", "link"], "menu", "is_back"),
        move("link", None, "is_valid", "is_toggle", after="toggle_link"),
        move("link", "confirm_revoke", "is_valid", "is_revoke"),
        move("confirm_revoke", "menu", "is_valid", before="revoke"),
    ]

    @property
    def links(self) -> list[dict[str, Any]]:
        return [dict(link) for link in self.event.data.get("links", [])]

    def _choice(self) -> str | None:
        if self.event.kind == "choice" and self.event.value.startswith("fam:"):
            return self.event.value.removeprefix("fam:")
        return None

    is_back = pressed("fam:back")

    # -- menu ----------------------------------------------------------------------------

    def on_enter_menu(self) -> None:
        lines: list[Msg | Raw] = [Msg(N_("family.intro"))]
        choices = [Choice(Msg(N_("family.invite")), "fam:new")]
        for n, link in enumerate(self.links, 1):
            state = N_("family.joined") if link["joined"] else N_("family.pending")
            lines.append(
                msg(
                    N_("family.link_line"),
                    n=n,
                    state=Msg(state),
                    scope=scope_line(link["summary"], link["alerts"]),
                )
            )
            choices.append(Choice(msg(N_("family.manage"), n=n), f"fam:link:{link['id']}"))
        choices.append(Choice(Msg(N_("family.close")), "fam:close"))
        self.ask(Lines(tuple(lines)), tuple(choices))

    def parse_menu(self) -> str | None:
        return self._choice()

    chose_new = chose("new")
    chose_close = chose("close")

    def chose_link(self) -> bool:
        ids = {str(link["id"]) for link in self.links}
        return (
            isinstance(self.value, str) and self.value.startswith("link:") and self.value[5:] in ids
        )

    def on_enter_done(self) -> None:
        if self.value == "close":
            self.show_choice(Msg(N_("family.close")))

    # -- a new invite ----------------------------------------------------------------------

    def start_new(self) -> None:
        self.ctx["summary"] = False
        self.ctx["alerts"] = False

    def _scope_question(self, ask: str, finish: Choice) -> tuple[Lines, tuple[Choice, ...]]:
        """What the relative may see, a button to switch each on or off, then ``finish``."""
        summary, alerts = bool(self.ctx["summary"]), bool(self.ctx["alerts"])
        text = Lines((Msg(ask), scope_line(summary, alerts)))
        return text, (
            Choice(
                msg(N_("family.toggle.summary"), state=Msg(ON if summary else OFF)), "fam:summary"
            ),
            Choice(msg(N_("family.toggle.alerts"), state=Msg(ON if alerts else OFF)), "fam:alerts"),
            finish,
            Choice(Msg(N_("family.back")), "fam:back"),
        )

    def _new_question(self) -> tuple[Lines, tuple[Choice, ...]]:
        create = Choice(Msg(N_("family.create")), "fam:create")
        return self._scope_question(N_("family.new.ask"), create)

    def on_enter_new(self) -> None:
        self.show_choice(Msg(N_("family.invite")))
        self.ask(*self._new_question())

    def parse_new(self) -> str | None:
        return self._choice()

    def is_toggle(self) -> bool:
        return bool(self.value in ("summary", "alerts"))

    is_create = chose("create")

    def toggle_new(self) -> None:
        self.ctx[self.value] = not self.ctx[self.value]
        self.emit(RefreshChoices(*self._new_question()))

    def create(self) -> None:
        self.emit(CreateFamilyInvite(bool(self.ctx["summary"]), bool(self.ctx["alerts"])))

    # -- one existing link -------------------------------------------------------------------

    def remember_link(self) -> None:
        link_id = int(str(self.value)[5:])
        link = next(link for link in self.links if link["id"] == link_id)
        self.ctx.update(link=link_id, summary=bool(link["summary"]), alerts=bool(link["alerts"]))

    def _link_question(self) -> tuple[Lines, tuple[Choice, ...]]:
        revoke = Choice(Msg(N_("family.revoke")), "fam:revoke")
        return self._scope_question(N_("family.link.ask"), revoke)

    def on_enter_link(self) -> None:
        self.ask(*self._link_question())

    def parse_link(self) -> str | None:
        return self._choice()

    is_revoke = chose("revoke")

    def toggle_link(self) -> None:
        self.ctx[self.value] = not self.ctx[self.value]
        self.emit(
            UpdateFamilyLink(
                int(self.ctx["link"]), bool(self.ctx["summary"]), bool(self.ctx["alerts"])
            )
        )
        self.emit(RefreshChoices(*self._link_question()))

    def on_enter_confirm_revoke(self) -> None:
        self.ask(
            Msg(N_("family.revoke.ask")),
            (
                Choice(Msg(N_("family.revoke.yes")), "fam:yes"),
                Choice(Msg(N_("family.back")), "fam:no"),
            ),
            2,
        )

    def parse_confirm_revoke(self) -> str | None:
        return questions.parse_choice(self.event, "fam:", ("yes", "no"))

    def revoke(self) -> None:
        if self.value == "yes":
            self.show_choice(Msg(N_("family.revoke.yes")))
            self.emit(RevokeFamilyLink(int(self.ctx["link"])), Say(Msg(N_("family.revoked"))))
            links = [link for link in self.links if link["id"] != int(self.ctx["link"])]
            self.update_data("links", links)


class LessonFlow(FlowModel):
    """One micro-lesson: its cards, a question with feedback, and a practice task for the week.

    The context names the course (``family`` unless it says ``training``) and the lesson."""

    name = "lesson"
    initial = "card"
    states: ClassVar[list[str]] = ["card", "question", "feedback", "practice", "done", "gone"]
    final = frozenset({"done", "gone"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "gone", "lesson_gone"),
        move("card", "card", "is_valid", "more_cards", before="next_card"),
        move("card", "question", "is_valid"),
        move("question", "feedback", "is_valid", before="record_answer"),
        move("feedback", "practice", "is_valid"),
        move("practice", "done", "is_valid"),
    ]

    @classmethod
    def entry_state(cls, context: dict[str, object]) -> str:
        return "card"

    @property
    def course(self) -> Course:
        return COURSES.get(str(self.ctx.get("course", FAMILY.name)), FAMILY)

    @property
    def lesson(self) -> Lesson | None:
        return self.course.lesson(str(self.ctx.get("slug", "")))

    @property
    def current(self) -> Lesson:
        """The lesson, in any state past ``lesson_gone`` (which every answer checks first)."""
        lesson = self.lesson
        assert lesson is not None
        return lesson

    def lesson_gone(self) -> bool:
        return self.lesson is None

    def _page(self, *parts: Msg | Raw, button: str = N_("lesson.next")) -> None:
        """Show one page of the lesson with the button that turns it."""
        self.ask(Lines(parts), (Choice(Msg(button), "les:next"),))

    def _next(self) -> str | None:
        if self.event.kind == "choice" and self.event.value == "les:next":
            return "next"
        return None

    def on_enter_card(self) -> None:
        lesson = self.current
        index = int(self.ctx.get("card", 0))
        if index == 0 and not self.ctx.get("announced"):
            self.ctx["announced"] = True
            self.emit(LessonProgressed(lesson.slug, course=self.course.name))
            self.emit(Say(Lines((Raw("📘"), Msg(lesson.title)))))
        counter = Raw(f"({index + 1}/{len(lesson.cards)})")
        self._page(lesson_text(lesson.cards[index], self.person.numbers), counter)

    def parse_card(self) -> str | None:
        return self._next()

    def more_cards(self) -> bool:
        lesson = self.lesson
        return lesson is not None and int(self.ctx.get("card", 0)) + 1 < len(lesson.cards)

    def next_card(self) -> None:
        self.show_choice(Msg(N_("lesson.next")))
        self.ctx["card"] = int(self.ctx.get("card", 0)) + 1

    def on_enter_question(self) -> None:
        lesson = self.current
        if self.event.kind == "choice":
            self.show_choice(Msg(N_("lesson.next")))
        options = tuple(
            msg(N_("lesson.option_line"), letter=Raw(LETTERS[i]), text=Msg(option))
            for i, option in enumerate(lesson.options)
        )
        self.ask(
            Lines((Msg(N_("lesson.question_heading")), Msg(lesson.question), *options)),
            tuple(Choice(Raw(LETTERS[i]), f"les:opt:{i}") for i in range(len(lesson.options))),
            3,
        )

    def parse_question(self) -> int | None:
        if self.event.kind == "choice" and self.event.value.startswith("les:opt:"):
            raw = self.event.value.removeprefix("les:opt:")
            number = parse_number(raw)
            if number is not None and number < len(LETTERS):
                return number
        return None

    def record_answer(self) -> None:
        self.ctx["correct"] = self.current.is_correct(self.value)
        self.show_choice(Raw(LETTERS[self.value]))

    def on_enter_feedback(self) -> None:
        lesson = self.current
        verdict = N_("lesson.right") if self.ctx["correct"] else N_("lesson.not_quite")
        right = msg(N_("lesson.the_answer"), letter=Raw(LETTERS[lesson.correct]))
        self._page(Msg(verdict), right, lesson_text(lesson.explanation, self.person.numbers))

    def parse_feedback(self) -> str | None:
        return self._next()

    def on_enter_practice(self) -> None:
        self.show_choice(Msg(N_("lesson.next")))
        practice = lesson_text(self.current.practice, self.person.numbers)
        self._page(Msg(N_("lesson.practice_heading")), practice, button=N_("lesson.finish"))

    def parse_practice(self) -> str | None:
        return self._next()

    def on_enter_done(self) -> None:
        self.show_choice(Msg(N_("lesson.finish")))
        correct = bool(self.ctx.get("correct"))
        slug = self.current.slug
        course = self.course
        self.emit(LessonProgressed(slug, finished=True, correct=correct, course=course.name))
        done_before = {str(done) for done in self.ctx.get("done", [])}
        last = slug not in done_before and done_before | {slug} >= {x.slug for x in course.lessons}
        if not last:
            self.emit(Say(Msg(course.done), menu=True))
        elif course is FAMILY:
            self.emit(Say(Msg(course.finished), menu=True), course_end(self.person.region))
        else:
            self.emit(Say(Msg(course.finished), menu=True), feedback_question(course))

    def on_enter_gone(self) -> None:
        self.emit(Say(Msg(self.course.gone), menu=True))


# Where a family can go on after the course, by the relative's region (else the general line).
NEXT_STEPS = {
    "CN": N_("course.end.where.CN"),
    "HK": N_("course.end.where.HK"),
    "TW": N_("course.end.where.TW"),
    "US": N_("course.end.where.US"),
}
ELSEWHERE_STEPS = N_("course.end.where.other")
COURSE_FEEDBACK = (
    ("very", N_("course.feedback.very")),
    ("somewhat", N_("course.feedback.somewhat")),
    ("not", N_("course.feedback.not")),
)


def course_end(region: str | None) -> Say:
    """After the last lesson: what the course covered, where to go next, that every lesson
    stays open, and one question for the program's report."""
    text = Lines(
        (
            Msg(N_("course.end")),
            Msg(N_("course.end.next")),
            Msg(NEXT_STEPS.get(region or "", ELSEWHERE_STEPS)),
            Msg(N_("course.end.repeat")),
            Msg(N_("course.feedback.ask")),
        )
    )
    choices = tuple(Choice(Msg(label), f"/course {key}") for key, label in COURSE_FEEDBACK)
    return Say(text, (*choices, Choice(Msg(N_("course.end.lessons")), "/lessons")), 3)


def feedback_question(course: Course) -> Say:
    """The course's one question for the report, at its end: the training's buttons name the
    course (``/course training very``), the family course's do not (``/course very``)."""
    prefix = "" if course is FAMILY else f"{course.name} "
    choices = tuple(Choice(Msg(label), f"/course {prefix}{key}") for key, label in COURSE_FEEDBACK)
    return Say(Msg(N_("course.feedback.ask")), choices, 3)


# Who answers each course's question, and the thanks they get.
FEEDBACK_FROM = {FAMILY.name: frozenset({Role.FAMILY}), TRAINING.name: STAFF}
FEEDBACK_THANKS = {
    FAMILY.name: N_("course.feedback.thanks"),
    TRAINING.name: N_("training.feedback.thanks"),
}


def course_feedback(argument: str, role: Role = Role.FAMILY) -> tuple[Effect, ...]:
    """The answer to a course's question (``very``, or ``training very``): kept for the report,
    and thanked. Only the course's own readers answer it."""
    answers = dict(COURSE_FEEDBACK)
    parts = argument.split()
    course, key = (parts[0], parts[1]) if len(parts) == 2 else (FAMILY.name, "".join(parts))
    if key not in answers or role not in FEEDBACK_FROM.get(course, frozenset()):
        return (Notice(Msg(N_("input.stale_button"))),)
    return (
        ShowAnswer(Msg(answers[key])),
        CourseFeedbackGiven(key, course),
        Say(Msg(FEEDBACK_THANKS[course]), menu=True),
    )


def lessons_overview(
    progress: dict[str, str], course: Course = FAMILY
) -> tuple[Lines, tuple[Choice, ...]]:
    """/lessons (or /training): every lesson of the course with its state (done, started, not
    yet) and a button to open it."""
    marks = {"done": "✅", "started": "▶️"}
    lines: list[Msg | Raw] = [Msg(course.heading)]
    choices: list[Choice] = []
    for n, lesson in enumerate(course.lessons, 1):
        mark = marks.get(progress.get(lesson.slug, ""), "▫️")
        lines.append(msg(N_("lessons.line"), mark=Raw(mark), n=n, title=Msg(lesson.title)))
        choices.append(Choice(Raw(f"{n}"), f"/{course.command} {lesson.slug}"))
    lines.append(Msg(course.footer))
    return Lines(tuple(lines)), tuple(choices)


def next_lesson(progress: dict[str, str]) -> Lesson | None:
    """The first family lesson not finished, in course order."""
    return FAMILY.next_lesson(progress)


CONCERN_SIGNS = {
    "sleep": N_("concern.sign.sleep"),
    "withdrawn": N_("concern.sign.withdrawn"),
    "suspicious": N_("concern.sign.suspicious"),
    "medication": N_("concern.sign.medication"),
    "voices": N_("concern.sign.voices"),
    "mood": N_("concern.sign.mood"),
    "death": N_("concern.sign.death"),
    "other": N_("concern.sign.other"),
}


class Concern(FlowModel):
    """/worried: which warning signs, anything else, then a peer worker is asked to help."""

    name = "concern"
    initial = "signs"
    states: ClassVar[list[str]] = ["signs", "details", "done", "cancelled"]
    final = frozenset({"done", "cancelled"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "cancelled", "cancels"),
        move("signs", None, "is_valid", "is_toggle", after="toggle"),
        move("signs", "details", "is_valid"),
        move("details", "done", "is_valid"),
    ]

    cancels = pressed("con:cancel")

    def _choices(self) -> tuple[Choice, ...]:
        chosen = set(self.ctx.get("signs", []))
        return (
            *questions.ticked_choices(CONCERN_SIGNS, chosen, "con:"),
            Choice(Msg(N_("concern.next")), "con:next"),
            Choice(Msg(N_("concern.cancel")), "con:cancel"),
        )

    def on_enter_signs(self) -> None:
        self.ask(Msg(N_("concern.signs.ask")), self._choices())

    def parse_signs(self) -> str | None:
        return questions.parse_choice(self.event, "con:", {"next", *CONCERN_SIGNS})

    def is_toggle(self) -> bool:
        return bool(self.value != "next")

    def toggle(self) -> None:
        chosen = set(self.ctx.get("signs", []))
        chosen ^= {self.value}
        self.ctx["signs"] = sorted(chosen)
        self.emit(RefreshChoices(Msg(N_("concern.signs.ask")), self._choices()))

    def on_enter_details(self) -> None:
        chosen = [key for key in CONCERN_SIGNS if key in set(self.ctx.get("signs", []))]
        self.show_choice(
            Lines(tuple(Msg(CONCERN_SIGNS[k]) for k in chosen))
            if chosen
            else Msg(N_("concern.none_ticked"))
        )
        self.ask(Msg(N_("concern.details.ask")), (Choice(Msg(N_("concern.skip")), "con:skip"),))

    def parse_details(self) -> str | None:
        return questions.parse_note(self.event, "con:skip", limit=2000)

    def on_enter_done(self) -> None:
        if not self.value:
            self.show_choice(Msg(N_("concern.skip")))
        replied = self.event.risk == "crisis" and self.event.risk_about_others
        self.emit(RaiseConcern(tuple(self.ctx.get("signs", [])), self.value, replied))

    def on_enter_cancelled(self) -> None:
        self.show_choice(Msg(N_("concern.cancel")))
        self.emit(Say(Msg(N_("concern.cancelled")), menu=True))


def concern_raised(
    effect: RaiseConcern, member_id: int, linked: bool, emergency: Msg | Raw | Localised
) -> tuple[Reason, tuple[Effect, ...]]:
    """What a relative's worry becomes: a reason for the team, about their relative when
    they are linked with support alerts shared (``linked``) and else about themselves, and
    what they are shown before the team is told. "Talking about death or not wanting to
    live" is urgent, and first gets the crisis reply written for someone close to a person
    in danger (once: not again when their note has just had it)."""
    danger = "death" in effect.signs
    detail: tuple[tuple[str, object], ...] = (
        ("signs", list(effect.signs)),
        ("about", "relative" if linked else "caregiver"),
    )
    source = "family_danger" if danger else "family"
    reason = Reason(source, detail, from_id=member_id, note=effect.note)
    sent = N_("concern.sent.relative") if linked else N_("concern.sent.self")
    reply = danger and not effect.replied
    first: tuple[Effect, ...] = (ShowCrisisReply(about_others=True),) if reply else ()
    return reason, (*first, Say(msg(sent, emergency=emergency)))
