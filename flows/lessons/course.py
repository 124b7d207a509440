"""The family course: fourteen micro-lessons for caregivers, in the order they are taught.

Family psychoeducation reduces relapse when it gives emotional support, education, crisis
resources and problem-solving skills over months (Dixon et al. 2001; McFarlane), so the
course is a series of short lessons sent twice a week. This module is only the structure:
every text is a message id (gettext domain ``lessons``) that the shell renders in the
reader's language. Outline and sources: docs/lessons.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows import crisis
from flows.text import N_, Msg, msg


@dataclass(frozen=True, slots=True)
class Lesson:
    """One micro-lesson: a few cards, one check question, one practice task for the week.

    Every text field holds a message id, never text; ``correct`` indexes ``options``.
    """

    slug: str
    title: str
    summary: str
    cards: tuple[str, ...]
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    practice: str

    def __post_init__(self) -> None:
        if not 3 <= len(self.cards) <= 5:
            raise ValueError(f"lesson {self.slug!r} needs 3 to 5 cards, has {len(self.cards)}")
        if len(self.options) != 3:
            raise ValueError(f"lesson {self.slug!r} needs exactly 3 options")
        if not 0 <= self.correct < len(self.options):
            raise ValueError(f"lesson {self.slug!r}: correct answer {self.correct} out of range")

    def is_correct(self, option: int) -> bool:
        return option == self.correct


def lesson_text(message_id: str, numbers: crisis.Numbers) -> Msg:
    """A card, explanation or practice task. One that says where to get help writes
    ``{numbers}``: the reader's emergency number and crisis lines, filled in from the crisis
    lines table when it is shown, never typed into a translation (where it would go stale,
    and be wrong for a reader elsewhere)."""
    return msg(message_id, numbers=crisis.block(numbers))


COURSE: tuple[Lesson, ...] = (
    Lesson(
        slug="feelings",
        title=N_("lesson.feelings.title"),
        summary=N_("lesson.feelings.summary"),
        cards=(
            N_("lesson.feelings.card1"),
            N_("lesson.feelings.card2"),
            N_("lesson.feelings.card3"),
            N_("lesson.feelings.card4"),
        ),
        question=N_("lesson.feelings.question"),
        options=(
            N_("lesson.feelings.option1"),
            N_("lesson.feelings.option2"),
            N_("lesson.feelings.option3"),
        ),
        correct=1,
        explanation=N_("lesson.feelings.explanation"),
        practice=N_("lesson.feelings.practice"),
    ),
    Lesson(
        slug="illnesses",
        title=N_("lesson.illnesses.title"),
        summary=N_("lesson.illnesses.summary"),
        cards=(
            N_("lesson.illnesses.card1"),
            N_("lesson.illnesses.card2"),
            N_("lesson.illnesses.card3"),
            N_("lesson.illnesses.card4"),
        ),
        question=N_("lesson.illnesses.question"),
        options=(
            N_("lesson.illnesses.option1"),
            N_("lesson.illnesses.option2"),
            N_("lesson.illnesses.option3"),
        ),
        correct=2,
        explanation=N_("lesson.illnesses.explanation"),
        practice=N_("lesson.illnesses.practice"),
    ),
    Lesson(
        slug="stress_vulnerability",
        title=N_("lesson.stress_vulnerability.title"),
        summary=N_("lesson.stress_vulnerability.summary"),
        cards=(
            N_("lesson.stress_vulnerability.card1"),
            N_("lesson.stress_vulnerability.card2"),
            N_("lesson.stress_vulnerability.card3"),
            N_("lesson.stress_vulnerability.card4"),
        ),
        question=N_("lesson.stress_vulnerability.question"),
        options=(
            N_("lesson.stress_vulnerability.option1"),
            N_("lesson.stress_vulnerability.option2"),
            N_("lesson.stress_vulnerability.option3"),
        ),
        correct=0,
        explanation=N_("lesson.stress_vulnerability.explanation"),
        practice=N_("lesson.stress_vulnerability.practice"),
    ),
    Lesson(
        slug="medication",
        title=N_("lesson.medication.title"),
        summary=N_("lesson.medication.summary"),
        cards=(
            N_("lesson.medication.card1"),
            N_("lesson.medication.card2"),
            N_("lesson.medication.card3"),
            N_("lesson.medication.card4"),
        ),
        question=N_("lesson.medication.question"),
        options=(
            N_("lesson.medication.option1"),
            N_("lesson.medication.option2"),
            N_("lesson.medication.option3"),
        ),
        correct=2,
        explanation=N_("lesson.medication.explanation"),
        practice=N_("lesson.medication.practice"),
    ),
    Lesson(
        slug="warning_signs",
        title=N_("lesson.warning_signs.title"),
        summary=N_("lesson.warning_signs.summary"),
        cards=(
            N_("lesson.warning_signs.card1"),
            N_("lesson.warning_signs.card2"),
            N_("lesson.warning_signs.card3"),
            N_("lesson.warning_signs.card4"),
        ),
        question=N_("lesson.warning_signs.question"),
        options=(
            N_("lesson.warning_signs.option1"),
            N_("lesson.warning_signs.option2"),
            N_("lesson.warning_signs.option3"),
        ),
        correct=1,
        explanation=N_("lesson.warning_signs.explanation"),
        practice=N_("lesson.warning_signs.practice"),
    ),
    Lesson(
        slug="crisis_plan",
        title=N_("lesson.crisis_plan.title"),
        summary=N_("lesson.crisis_plan.summary"),
        cards=(
            N_("lesson.crisis_plan.card1"),
            N_("lesson.crisis_plan.card2"),
            N_("lesson.crisis_plan.card3"),
            N_("lesson.crisis_plan.card4"),
            N_("lesson.crisis_plan.card5"),
        ),
        question=N_("lesson.crisis_plan.question"),
        options=(
            N_("lesson.crisis_plan.option1"),
            N_("lesson.crisis_plan.option2"),
            N_("lesson.crisis_plan.option3"),
        ),
        correct=0,
        explanation=N_("lesson.crisis_plan.explanation"),
        practice=N_("lesson.crisis_plan.practice"),
    ),
    Lesson(
        slug="inside_view",
        title=N_("lesson.inside_view.title"),
        summary=N_("lesson.inside_view.summary"),
        cards=(
            N_("lesson.inside_view.card1"),
            N_("lesson.inside_view.card2"),
            N_("lesson.inside_view.card3"),
            N_("lesson.inside_view.card4"),
        ),
        question=N_("lesson.inside_view.question"),
        options=(
            N_("lesson.inside_view.option1"),
            N_("lesson.inside_view.option2"),
            N_("lesson.inside_view.option3"),
        ),
        correct=0,
        explanation=N_("lesson.inside_view.explanation"),
        practice=N_("lesson.inside_view.practice"),
    ),
    Lesson(
        slug="communication",
        title=N_("lesson.communication.title"),
        summary=N_("lesson.communication.summary"),
        cards=(
            N_("lesson.communication.card1"),
            N_("lesson.communication.card2"),
            N_("lesson.communication.card3"),
            N_("lesson.communication.card4"),
        ),
        question=N_("lesson.communication.question"),
        options=(
            N_("lesson.communication.option1"),
            N_("lesson.communication.option2"),
            N_("lesson.communication.option3"),
        ),
        correct=1,
        explanation=N_("lesson.communication.explanation"),
        practice=N_("lesson.communication.practice"),
    ),
    Lesson(
        slug="problem_solving",
        title=N_("lesson.problem_solving.title"),
        summary=N_("lesson.problem_solving.summary"),
        cards=(
            N_("lesson.problem_solving.card1"),
            N_("lesson.problem_solving.card2"),
            N_("lesson.problem_solving.card3"),
            N_("lesson.problem_solving.card4"),
        ),
        question=N_("lesson.problem_solving.question"),
        options=(
            N_("lesson.problem_solving.option1"),
            N_("lesson.problem_solving.option2"),
            N_("lesson.problem_solving.option3"),
        ),
        correct=0,
        explanation=N_("lesson.problem_solving.explanation"),
        practice=N_("lesson.problem_solving.practice"),
    ),
    Lesson(
        slug="routines",
        title=N_("lesson.routines.title"),
        summary=N_("lesson.routines.summary"),
        cards=(
            N_("lesson.routines.card1"),
            N_("lesson.routines.card2"),
            N_("lesson.routines.card3"),
            N_("lesson.routines.card4"),
        ),
        question=N_("lesson.routines.question"),
        options=(
            N_("lesson.routines.option1"),
            N_("lesson.routines.option2"),
            N_("lesson.routines.option3"),
        ),
        correct=1,
        explanation=N_("lesson.routines.explanation"),
        practice=N_("lesson.routines.practice"),
    ),
    Lesson(
        slug="physical_health",
        title=N_("lesson.physical_health.title"),
        summary=N_("lesson.physical_health.summary"),
        cards=(
            N_("lesson.physical_health.card1"),
            N_("lesson.physical_health.card2"),
            N_("lesson.physical_health.card3"),
            N_("lesson.physical_health.card4"),
        ),
        question=N_("lesson.physical_health.question"),
        options=(
            N_("lesson.physical_health.option1"),
            N_("lesson.physical_health.option2"),
            N_("lesson.physical_health.option3"),
        ),
        correct=1,
        explanation=N_("lesson.physical_health.explanation"),
        practice=N_("lesson.physical_health.practice"),
    ),
    Lesson(
        slug="recovery",
        title=N_("lesson.recovery.title"),
        summary=N_("lesson.recovery.summary"),
        cards=(
            N_("lesson.recovery.card1"),
            N_("lesson.recovery.card2"),
            N_("lesson.recovery.card3"),
            N_("lesson.recovery.card4"),
        ),
        question=N_("lesson.recovery.question"),
        options=(
            N_("lesson.recovery.option1"),
            N_("lesson.recovery.option2"),
            N_("lesson.recovery.option3"),
        ),
        correct=2,
        explanation=N_("lesson.recovery.explanation"),
        practice=N_("lesson.recovery.practice"),
    ),
    Lesson(
        slug="self_care",
        title=N_("lesson.self_care.title"),
        summary=N_("lesson.self_care.summary"),
        cards=(
            N_("lesson.self_care.card1"),
            N_("lesson.self_care.card2"),
            N_("lesson.self_care.card3"),
            N_("lesson.self_care.card4"),
        ),
        question=N_("lesson.self_care.question"),
        options=(
            N_("lesson.self_care.option1"),
            N_("lesson.self_care.option2"),
            N_("lesson.self_care.option3"),
        ),
        correct=2,
        explanation=N_("lesson.self_care.explanation"),
        practice=N_("lesson.self_care.practice"),
    ),
    Lesson(
        slug="services",
        title=N_("lesson.services.title"),
        summary=N_("lesson.services.summary"),
        cards=(
            N_("lesson.services.card1"),
            N_("lesson.services.card2"),
            N_("lesson.services.card3"),
            N_("lesson.services.card4"),
        ),
        question=N_("lesson.services.question"),
        options=(
            N_("lesson.services.option1"),
            N_("lesson.services.option2"),
            N_("lesson.services.option3"),
        ),
        correct=0,
        explanation=N_("lesson.services.explanation"),
        practice=N_("lesson.services.practice"),
    ),
)

_BY_SLUG: dict[str, Lesson] = {lesson.slug: lesson for lesson in COURSE}


def lesson_by_slug(slug: str) -> Lesson | None:
    """The lesson with this slug, or None when the course no longer has it."""
    return _BY_SLUG.get(slug)


@dataclass(frozen=True, slots=True)
class Course:
    """Lessons delivered one way (``flows.family.LessonFlow``): the family course, and the
    peer workers' training (``flows.lessons.training``). The message ids are what the
    course says around its lessons: the list's heading and footer, after a lesson, after
    the last one, and when a lesson is no longer in the course."""

    name: str
    lessons: tuple[Lesson, ...]
    command: str  # lists the lessons; "/<command> <slug>" opens one
    heading: str
    footer: str
    done: str
    finished: str
    gone: str

    def lesson(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def next_lesson(self, progress: dict[str, str]) -> Lesson | None:
        """The first lesson not finished, in course order."""
        return next((x for x in self.lessons if progress.get(x.slug) != "done"), None)


FAMILY = Course(
    name="family",
    lessons=COURSE,
    command="lesson",
    heading=N_("lessons.heading"),
    footer=N_("lessons.footer"),
    done=N_("lesson.done"),
    finished=N_("lesson.done.last"),
    gone=N_("lesson.gone"),
)
