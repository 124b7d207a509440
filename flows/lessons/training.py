"""The peer workers' training course: five short lessons, delivered like the family lessons.

Peer-provided services work when their workers are trained, supervised and clear about their
role (Solomon 2004); the Beijing programme trained its peers before they started (Fan et al.
2018). This is the part of that training a chat can carry: the role and its limits, using the
bot, the crisis protocol and the safety plan, talking with someone who hears voices, and
looking after yourself. It does not replace the program's own training and supervision.
Every text is a message id (``locales/*/LC_MESSAGES/training.po``); outline and sources in
docs/training.md. A worker's progress is ``training_progress``; /team shows it.
"""

from __future__ import annotations

from flows.lessons.course import Course, Lesson
from flows.text import N_

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        slug="role",
        title=N_("training.role.title"),
        summary=N_("training.role.summary"),
        cards=(
            N_("training.role.card1"),
            N_("training.role.card2"),
            N_("training.role.card3"),
        ),
        question=N_("training.role.question"),
        options=(
            N_("training.role.option1"),
            N_("training.role.option2"),
            N_("training.role.option3"),
        ),
        correct=1,
        explanation=N_("training.role.explanation"),
        practice=N_("training.role.practice"),
    ),
    Lesson(
        slug="bot",
        title=N_("training.bot.title"),
        summary=N_("training.bot.summary"),
        cards=(
            N_("training.bot.card1"),
            N_("training.bot.card2"),
            N_("training.bot.card3"),
        ),
        question=N_("training.bot.question"),
        options=(
            N_("training.bot.option1"),
            N_("training.bot.option2"),
            N_("training.bot.option3"),
        ),
        correct=2,
        explanation=N_("training.bot.explanation"),
        practice=N_("training.bot.practice"),
    ),
    Lesson(
        slug="crisis",
        title=N_("training.crisis.title"),
        summary=N_("training.crisis.summary"),
        cards=(
            N_("training.crisis.card1"),
            N_("training.crisis.card2"),
            N_("training.crisis.card3"),
            N_("training.crisis.card4"),
        ),
        question=N_("training.crisis.question"),
        options=(
            N_("training.crisis.option1"),
            N_("training.crisis.option2"),
            N_("training.crisis.option3"),
        ),
        correct=0,
        explanation=N_("training.crisis.explanation"),
        practice=N_("training.crisis.practice"),
    ),
    Lesson(
        slug="voices",
        title=N_("training.voices.title"),
        summary=N_("training.voices.summary"),
        cards=(
            N_("training.voices.card1"),
            N_("training.voices.card2"),
            N_("training.voices.card3"),
        ),
        question=N_("training.voices.question"),
        options=(
            N_("training.voices.option1"),
            N_("training.voices.option2"),
            N_("training.voices.option3"),
        ),
        correct=2,
        explanation=N_("training.voices.explanation"),
        practice=N_("training.voices.practice"),
    ),
    Lesson(
        slug="self_care",
        title=N_("training.self_care.title"),
        summary=N_("training.self_care.summary"),
        cards=(
            N_("training.self_care.card1"),
            N_("training.self_care.card2"),
            N_("training.self_care.card3"),
        ),
        question=N_("training.self_care.question"),
        options=(
            N_("training.self_care.option1"),
            N_("training.self_care.option2"),
            N_("training.self_care.option3"),
        ),
        correct=1,
        explanation=N_("training.self_care.explanation"),
        practice=N_("training.self_care.practice"),
    ),
)

TRAINING = Course(
    name="training",
    lessons=LESSONS,
    command="training",
    heading=N_("training.heading"),
    footer=N_("training.footer"),
    done=N_("training.done"),
    finished=N_("training.finished"),
    gone=N_("training.gone"),
)


def finished(progress: dict[str, str]) -> int:
    """How many of the course's lessons a worker has finished."""
    return sum(1 for lesson in LESSONS if progress.get(lesson.slug) == "done")
